"""``python -m bot ingest --raw PAGE --dry-run`` shows what a page would do and writes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.__main__ import main as bot_main
from bot.knowledge.audit import find_seeds
from bot.knowledge.dry_run import known_contacts, unknown_contacts


def checksum(folder: Path) -> str:
    """Every file's name and content under ``folder``'s parent (new files count too)."""
    digest = hashlib.sha256()
    for path in sorted(folder.parent.rglob("*")):
        digest.update(str(path.relative_to(folder.parent)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_seed_pages_are_shown_as_passages_and_nothing_is_written(knowledge_index, capsys):
    seeds = find_seeds()
    if seeds is None:
        pytest.skip("the seed pages (../shared/seeds/) are not on this machine")
    before = checksum(knowledge_index)
    code = bot_main(
        [
            "ingest",
            "--raw",
            str(seeds),
            "--dry-run",
            "--index-dir",
            str(knowledge_index),
            "--ask",
            "how do I complain about SENSS?",
            "--ask",
            "what is the SEND programme board?",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert checksum(knowledge_index) == before
    assert out.startswith("Dry run: nothing is written.")
    assert '000_642e97f71b79dfd4.txt: "Special Educational Needs Support Service (SENSS)"' in out
    assert "-> 7 passages" in out and "[How the service makes a difference]" in out
    # Furniture is listed as dropped, never shown as a passage.
    dropped = [line for line in out.splitlines() if "Dropped as site furniture" in line]
    assert any('"Print entire guide"' in line and '"Very poor"' in line for line in dropped)
    passages = [line for line in out.splitlines() if line.startswith("     ")]
    assert not any(
        "Print entire guide" in line or "Skip to main content" in line
        for line in passages
        if "before:" not in line and "after:" not in line
    )
    assert out.count("Contacts not in knowledge/contacts.yml: none") == 6
    # Each question: the answer from the index as it is, and with the pages added.
    for question in ("how do I complain about SENSS?", "what is the SEND programme board?"):
        block = out.split(f"Q: {question}", 1)[1].split("Q: ", 1)[0]
        assert "before: " in block and "after:  " in block


def test_a_new_page_changes_an_answer_and_its_unknown_contacts_are_named(
    knowledge_index, tmp_path, capsys
):
    page = tmp_path / "new-page.txt"
    page.write_text(
        "Saturday swimming club for disabled children in Truro\n\n"
        "The Truro Otters swimming club runs every Saturday morning at 9am for "
        "disabled children and children with SEND aged 5 to 16, at the leisure centre "
        "pool. Sessions cost two pounds. Call the team on 01234 567 890 or email "
        "SEN.Team@example.org. SENSS is on 01865 323070 and senss@oxfordshire.gov.uk; "
        "Childline is 0800 1111.\n"
    )
    phones, emails = known_contacts()
    assert unknown_contacts(page.read_text(), phones, emails) == [
        "phone 01234 567 890",
        "email sen.team@example.org",
    ]
    before = checksum(knowledge_index)
    question = "is there a swimming club for disabled children on saturdays in Truro?"
    assert (
        bot_main(
            [
                "ingest",
                "--raw",
                str(page),
                "--dry-run",
                "--index-dir",
                str(knowledge_index),
                "--ask",
                question,
            ]
        )
        == 0
    )
    assert checksum(knowledge_index) == before
    out = capsys.readouterr().out
    block = out.split(f"Q: {question}", 1)[1]
    assert "after:  answers from new-page > " in block and "Truro Otters" in block
    assert "CHANGED" in block
    assert (
        "Contacts not in knowledge/contacts.yml: phone 01234 567 890; email sen.team@example.org"
    ) in out


def test_dry_run_needs_pages(capsys):
    with pytest.raises(SystemExit):
        bot_main(["ingest", "--dry-run"])
    assert "--dry-run needs the pages" in capsys.readouterr().err
