"""Is the knowledge current, sourced and in our own words? ``python -m bot audit``.

Reads ``knowledge/articles/*.md``, ``knowledge/contacts.yml`` and the saved seed
pages (``../shared/seeds/``) and reports:

- **unsourced contacts**: a contact whose source is a seed page, but whose phone
  number, text code, email or web address is not on that page, or whose
  ``source.evidence`` (a short phrase naming the service, required for seed
  sources) is not on it. Contacts sourced from a web page read by hand cannot be
  checked offline; they are listed with their check date instead.
- **copied runs**: ten or more words in a row that an article shares with any seed
  page (the seeds are data; their sentences must not become ours).
- **articles past their review date**: ``review_by`` if given, otherwise a year
  after ``checked`` (or ``last_reviewed``).
- **old sources**: a ``source_date`` more than ``--max-age`` years (default 3)
  before today, unless ``source_status: in force`` (legislation, whose date is
  old but whose text is current); sources marked no longer maintained
  (``source_status`` or the publisher says so) and undated sources are listed too.

Exit status 1 when there is any unsourced contact or copied run, 0 otherwise.
It imports nothing heavier than PyYAML, so it runs in a second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge.articles import IngestError, read_article
from bot.knowledge.sources import MAX_AGE_YEARS, is_unmaintained
from bot.knowledge.sources import parse_date as _date
from bot.knowledge.sources import years_between as _years_between
from bot.settings import REPO_ROOT, get_settings

RUN_WORDS = 10
REVIEW_EVERY = dt.timedelta(days=365)
DETAIL_FIELDS = ("phone", "text", "email", "web")
_WORD = re.compile(r"[a-z0-9£]+(?:'[a-z]+)?")
_TEXT_CODE = re.compile(r"\b\d{4,}\b")
# Web addresses are facts that may be reused, not prose: left out of copied runs.
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def seed_dirs() -> list[Path]:
    """Where the seed pages may be: beside the repository, or the shared folder."""
    return [REPO_ROOT.parent / "shared" / "seeds", Path("/work/shared/seeds")]


def find_seeds(explicit: Path | None = None) -> Path | None:
    for folder in [explicit] if explicit else seed_dirs():
        if folder and folder.is_dir() and any(folder.glob("*.txt")):
            return folder
    return None


def words(text: str) -> list[str]:
    """Lower-case words, with curly apostrophes straightened, for comparing texts.

    Web addresses are dropped: a page's address may be given, its sentences not.
    """
    text = _URL.sub(" ", text)
    return _WORD.findall(text.lower().replace("\u2019", "'").replace("\u2018", "'"))


def _flat(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


def copied_runs(text: str, source: str, n: int = RUN_WORDS) -> list[str]:
    """Every maximal run of ``n`` or more words that ``text`` shares with ``source``."""
    ours, theirs = words(text), words(source)
    grams = {tuple(theirs[i : i + n]) for i in range(len(theirs) - n + 1)}
    runs: list[str] = []
    start = end = -1
    for i in range(len(ours) - n + 1):
        if tuple(ours[i : i + n]) in grams:
            if i > end:  # a new run begins
                if start >= 0:
                    runs.append(" ".join(ours[start:end]))
                start = i
            end = i + n
    if start >= 0:
        runs.append(" ".join(ours[start:end]))
    return runs


@dataclass
class Finding:
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"  - {self.subject}: {self.detail}"


@dataclass
class Report:
    today: dt.date
    max_age_years: int
    seeds: Path | None
    unsourced_contacts: list[Finding] = field(default_factory=list)
    web_contacts: list[Finding] = field(default_factory=list)
    copied: list[Finding] = field(default_factory=list)
    past_review: list[Finding] = field(default_factory=list)
    old_sources: list[Finding] = field(default_factory=list)
    in_force: list[Finding] = field(default_factory=list)
    unmaintained: list[Finding] = field(default_factory=list)
    undated: list[Finding] = field(default_factory=list)
    missing_dates: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.unsourced_contacts or self.copied)

    def lines(self) -> Iterable[str]:
        seeds = self.seeds or "NOT FOUND (contacts and copied runs not checked)"
        yield f"Knowledge audit, {self.today.isoformat()} (seed pages: {seeds})"
        sections = (
            ("Unsourced contacts (cited seed page does not contain them)", self.unsourced_contacts),
            (f"Copied runs of {RUN_WORDS}+ words from a seed page", self.copied),
            ("Articles past their review date", self.past_review),
            (f"Sources older than {self.max_age_years} years", self.old_sources),
            ("Legislation in force (old date, current text)", self.in_force),
            ("Sources marked no longer maintained", self.unmaintained),
            ("Articles without source_date or checked", self.missing_dates),
            ("Undated sources", self.undated),
            ("Contacts from web pages (checked by hand, not offline)", self.web_contacts),
        )
        for title, found in sections:
            yield f"{title}: {len(found)}"
            yield from map(str, found)
        yield "Result: " + ("FAIL" if self.failed else "PASS")


def audit_contacts(contacts: list[dict], seeds: dict[str, str], report: Report) -> None:
    for contact in contacts:
        cid = contact.get("id", "<no id>")
        source = contact.get("source") or {}
        seed_name = source.get("file")
        if not seed_name:
            if source.get("url"):
                report.web_contacts.append(
                    Finding(
                        cid,
                        f"{source.get('title')} ({source['url']}), "
                        f"checked {contact.get('checked', 'never')}",
                    )
                )
            else:
                report.unsourced_contacts.append(Finding(cid, "names no page or seed file"))
            continue
        if seed_name not in seeds:
            if seeds:
                report.unsourced_contacts.append(Finding(cid, f"seed {seed_name} not found"))
            continue
        page = _flat(seeds[seed_name])
        digits = re.sub(r"\D", "", page)
        for key in DETAIL_FIELDS:
            value = contact.get(key)
            if not value:
                continue
            if key == "phone":
                found = re.sub(r"\D", "", str(value)) in digits
            elif key == "text":
                found = all(code in page for code in _TEXT_CODE.findall(str(value)))
            else:
                found = _flat(str(value)).rstrip("/") in page
            if not found:
                report.unsourced_contacts.append(
                    Finding(cid, f"{key} {value!r} is not on {seed_name}")
                )
        evidence = source.get("evidence")
        if not evidence:
            report.unsourced_contacts.append(
                Finding(cid, f"gives no source.evidence phrase from {seed_name}")
            )
        elif _flat(str(evidence)) not in page:
            report.unsourced_contacts.append(Finding(cid, f"{seed_name} does not say {evidence!r}"))


def audit_articles(paths: Sequence[Path], seeds: dict[str, str], report: Report) -> None:
    for path in paths:
        try:
            meta, body = read_article(path)
        except IngestError as err:
            report.missing_dates.append(Finding(path.stem, str(err)))
            continue
        slug = path.stem
        for seed_name, seed_text in seeds.items():
            for run in copied_runs(body, seed_text):
                report.copied.append(
                    Finding(slug, f'{len(run.split())} words from {seed_name}: "{run}"')
                )
        checked = _date(meta.get("checked") or meta.get("last_reviewed"))
        review_by = _date(meta.get("review_by"))
        if review_by is None and checked is not None:
            review_by = checked + REVIEW_EVERY
        if review_by is not None and review_by < report.today:
            report.past_review.append(Finding(slug, f"review was due {review_by.isoformat()}"))
        if "source_date" not in meta or not meta.get("checked"):
            report.missing_dates.append(Finding(slug, "front matter lacks source_date or checked"))
        raw_date = meta.get("source_date")
        source_date = _date(raw_date)
        title = meta.get("source_title", "?")
        if source_date is not None:
            age = _years_between(source_date, report.today)
            found = Finding(slug, f"{title} dated {source_date.isoformat()} ({age} years)")
            # An Act or regulations still in force is current however old its date.
            if str(meta.get("source_status", "")).lower() == "in force":
                report.in_force.append(found)
            elif age >= report.max_age_years:
                report.old_sources.append(found)
        elif str(raw_date or "").strip().lower() == "undated":
            report.undated.append(Finding(slug, str(title)))
        if is_unmaintained(meta.get("source_status"), meta.get("source_publisher")):
            report.unmaintained.append(Finding(slug, str(title)))


def run(
    knowledge_dir: Path | None = None,
    seeds_dir: Path | None = None,
    max_age_years: int = MAX_AGE_YEARS,
    today: dt.date | None = None,
) -> Report:
    """Audit the articles and contacts in ``knowledge_dir`` against the seed pages.

    Args:
        knowledge_dir: Folder holding ``articles/`` and ``contacts.yml``; the
            settings' knowledge folder when not given.
        seeds_dir: Folder of seed pages (``*.txt``); found beside the repository
            when not given.
        max_age_years: Sources dated this many years ago or more are listed.
        today: The date to measure from (for tests).

    Returns:
        The report; ``report.failed`` is True when a contact is unsourced or an
        article copies ten or more words in a row from a seed page.
    """
    knowledge_dir = knowledge_dir or get_settings().knowledge_dir
    folder = find_seeds(seeds_dir)
    seeds = (
        {
            p.name: p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(folder.glob("*.txt"))
        }
        if folder
        else {}
    )
    report = Report(today=today or dt.date.today(), max_age_years=max_age_years, seeds=folder)
    data = yaml.safe_load((knowledge_dir / "contacts.yml").read_text(encoding="utf-8"))
    audit_contacts(list(data.get("contacts") or []), seeds, report)
    audit_articles(sorted((knowledge_dir / "articles").glob("*.md")), seeds, report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot audit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run_cli(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-age",
        type=int,
        default=MAX_AGE_YEARS,
        metavar="YEARS",
        help="list sources at least this many years old (default 3)",
    )
    parser.add_argument(
        "--seeds", type=Path, default=None, help="folder of seed pages (default: ../shared/seeds)"
    )
    parser.add_argument(
        "--knowledge", type=Path, default=None, help="folder with articles/ and contacts.yml"
    )


def run_cli(args: argparse.Namespace) -> int:
    report = run(args.knowledge, args.seeds, args.max_age)
    for line in report.lines():
        print(line)
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
