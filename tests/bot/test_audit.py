"""The knowledge audit passes on the real knowledge and catches what it should."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from bot import __main__ as cli
from bot.knowledge import audit
from bot.settings import REPO_ROOT

SEEDS = audit.find_seeds()
needs_seeds = pytest.mark.skipif(SEEDS is None, reason="the seed pages are not here")
TODAY = dt.date(2026, 12, 1)

PAGE = """Helpline for families
Call the Example Family Line on 01234 567890 or email help@example.org.
Our advisers will listen to what has happened and help you decide what to do next,
without judging you, and they can come to meetings with you.
"""

ARTICLE = """---
title: {title}
area: England
source_title: Example page
source_publisher: Example council
source_file: page.txt
source_url: ""
source_date: {date}
checked: {checked}
{extra}---
## A question a parent asks

{body}
"""


def make_knowledge(
    tmp_path: Path,
    body: str = "Our own words about a helpline.",
    contact: dict | None = None,
    date: str = "undated",
    checked: str = "2026-12-01",
    extra: str = "",
) -> tuple[Path, Path]:
    """A small knowledge folder and seed folder to audit."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "page.txt").write_text(PAGE, encoding="utf-8")
    knowledge = tmp_path / "knowledge"
    (knowledge / "articles").mkdir(parents=True)
    (knowledge / "articles" / "example.md").write_text(
        ARTICLE.format(title="Example", date=date, checked=checked, extra=extra, body=body),
        encoding="utf-8",
    )
    contact = contact or {
        "id": "family_line",
        "service": "Example Family Line",
        "area": "England",
        "phone": "01234 567890",
        "email": "help@example.org",
        "source": {
            "title": "Helpline for families",
            "publisher": "Example",
            "url": None,
            "file": "page.txt",
            "evidence": "Example Family Line",
        },
        "checked": "2026-12-01",
    }
    (knowledge / "contacts.yml").write_text(
        yaml.safe_dump({"contacts": [contact]}), encoding="utf-8"
    )
    return knowledge, seeds


@needs_seeds
def test_the_real_knowledge_passes_the_audit():
    report = audit.run(REPO_ROOT / "knowledge", SEEDS)
    assert report.unsourced_contacts == [], report.unsourced_contacts
    assert report.copied == [], report.copied
    assert report.missing_dates == [], report.missing_dates
    assert not report.failed


@needs_seeds
def test_python_m_bot_audit_exits_0_on_the_real_knowledge(capsys):
    assert cli.main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "Unsourced contacts (cited seed page does not contain them): 0" in out
    assert "Copied runs of 10+ words from a seed page: 0" in out
    assert out.rstrip().endswith("Result: PASS")


def test_copied_runs_finds_ten_words_in_a_row_and_not_nine():
    source = "one two three four five six seven eight nine ten eleven twelve"
    assert audit.copied_runs("x one two three four five six seven eight nine ten y", source) == [
        "one two three four five six seven eight nine ten"
    ]
    assert audit.copied_runs("one two three four five six seven eight nine", source) == []
    # Case, punctuation and curly apostrophes do not hide a copy.
    assert audit.copied_runs("One, two; THREE four five six seven eight nine ten!", source)


def test_web_addresses_are_not_counted_as_copied_prose():
    url = "https://www.example.gov.uk/cms/content/report-child-abuse-and-neglect-now"
    assert audit.copied_runs(f"See {url} for more.", f"Go to {url}") == []


def test_the_small_clean_example_passes(tmp_path):
    knowledge, seeds = make_knowledge(tmp_path)
    report = audit.run(knowledge, seeds, today=TODAY)
    assert not report.failed, list(report.lines())


def test_a_planted_copied_run_fails_the_audit(tmp_path, capsys):
    copied = "Our advisers will listen to what has happened and help you decide what to do next."
    knowledge, seeds = make_knowledge(tmp_path, body=copied)
    report = audit.run(knowledge, seeds, today=TODAY)
    assert report.failed
    [finding] = report.copied
    assert finding.subject == "example" and "page.txt" in finding.detail
    code = cli.main(["audit", "--knowledge", str(knowledge), "--seeds", str(seeds)])
    assert code == 1
    assert "Result: FAIL" in capsys.readouterr().out


@needs_seeds
def test_a_sentence_from_a_real_seed_page_is_caught(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", knowledge)
    seed_line = next(
        line
        for line in (SEEDS / "003_a9549bfb166fddc8.txt").read_text(encoding="utf-8").splitlines()
        if len(line.split()) > 14
    )
    article = knowledge / "articles" / "what-is-sen-support.md"
    article.write_text(
        article.read_text(encoding="utf-8") + "\n" + seed_line + "\n", encoding="utf-8"
    )
    report = audit.run(knowledge, SEEDS)
    assert report.failed
    assert {f.subject for f in report.copied} == {"what-is-sen-support"}


def test_a_phone_number_not_on_the_cited_page_is_unsourced(tmp_path):
    contact = {
        "id": "made_up",
        "service": "Example Family Line",
        "area": "England",
        "phone": "0800 000 0000",
        "source": {
            "title": "Helpline",
            "publisher": "Example",
            "file": "page.txt",
            "evidence": "Example Family Line",
        },
    }
    knowledge, seeds = make_knowledge(tmp_path, contact=contact)
    report = audit.run(knowledge, seeds, today=TODAY)
    assert report.failed
    assert [f.subject for f in report.unsourced_contacts] == ["made_up"]
    assert "0800 000 0000" in report.unsourced_contacts[0].detail


def test_a_service_the_cited_page_never_names_is_unsourced(tmp_path):
    contact = {
        "id": "council_complaints",
        "service": "Council complaints",
        "area": "England",
        "search_hint": "search the council's website for 'complaints'",
        "source": {
            "title": "Helpline",
            "publisher": "Example",
            "file": "page.txt",
            "evidence": "comments and complaints service",
        },
    }
    knowledge, seeds = make_knowledge(tmp_path, contact=contact)
    report = audit.run(knowledge, seeds, today=TODAY)
    assert report.failed and report.unsourced_contacts[0].subject == "council_complaints"
    del contact["source"]["evidence"]
    (knowledge / "contacts.yml").write_text(yaml.safe_dump({"contacts": [contact]}))
    report = audit.run(knowledge, seeds, today=TODAY)
    assert "evidence" in report.unsourced_contacts[0].detail


def test_a_contact_from_a_web_page_is_listed_not_failed(tmp_path):
    contact = {
        "id": "web_line",
        "service": "Web line",
        "area": "England",
        "phone": "116 123",
        "source": {"title": "A page", "publisher": "Someone", "url": "https://example.org"},
        "checked": "2026-12-01",
    }
    knowledge, seeds = make_knowledge(tmp_path, contact=contact)
    report = audit.run(knowledge, seeds, today=TODAY)
    assert not report.failed
    assert [f.subject for f in report.web_contacts] == ["web_line"]


def test_old_unmaintained_and_overdue_sources_are_listed_without_failing(tmp_path):
    knowledge, seeds = make_knowledge(
        tmp_path,
        date="2018-03-08",
        checked="2025-01-01",
        extra="source_status: no longer maintained\n",
    )
    report = audit.run(knowledge, seeds, max_age_years=3, today=TODAY)
    assert not report.failed
    assert "2018-03-08 (8 years)" in report.old_sources[0].detail
    assert report.unmaintained and report.past_review
    assert report.past_review[0].detail == "review was due 2026-01-01"


def test_legislation_in_force_is_not_called_old(tmp_path):
    knowledge, seeds = make_knowledge(
        tmp_path, date="2014-06-04", extra="source_status: in force\n"
    )
    report = audit.run(knowledge, seeds, today=TODAY)
    assert report.old_sources == [] and len(report.in_force) == 1


def test_an_article_without_a_source_date_is_reported(tmp_path):
    knowledge, seeds = make_knowledge(tmp_path)
    path = knowledge / "articles" / "example.md"
    path.write_text(path.read_text().replace("source_date: undated\n", ""))
    report = audit.run(knowledge, seeds, today=TODAY)
    assert [f.subject for f in report.missing_dates] == ["example"]
