"""Check a page before publishing it: ``python -m bot ingest --raw PAGE --dry-run``.

Shows what adding raw pages would do, and writes nothing:

- the passages each page becomes (as :func:`bot.knowledge.articles.passages_of_page` cuts
  it, site furniture dropped) and the lines of the page that were dropped;
- every phone number and email address in the page that is not in
  ``knowledge/contacts.yml`` (the assistant only gives sourced contacts, so a
  new one must be added there, with its source, before families see it);
- with ``--ask "question"`` (repeatable), the answer of
  :func:`bot.knowledge.answers.answer`, the assistant's own answer function, from the
  current index and from a copy with the pages added. The copy is built in a
  temporary folder (only the new pages are embedded: the current index's vectors
  are reused) and deleted afterwards; the questions are answered as when the
  classifier is unsure of the topic, like ``python -m bot ask`` without
  ``--intent``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from bot.knowledge import index
from bot.knowledge.articles import IngestError, passages_of_page, raw_sources
from bot.knowledge.index import Passage
from bot.knowledge.ingest import build

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# UK numbers as pages write them: 0 or +44 first, then digits with spaces, dashes
# or brackets; only those of 10 or 11 digits count (not dates or helpline codes).
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d[\d\s()-]{6,14}\d(?!\d)")
MAX_DROPPED = 12


def _digits(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+44"):
        digits = "0" + digits[2:].removeprefix("0")
    return digits


def known_contacts(path: Path | None = None) -> tuple[set[str], set[str]]:
    """The phone numbers (as digits) and emails (lower case) in contacts.yml."""
    if path is None:
        from bot.settings import get_settings

        path = get_settings().knowledge_dir / "contacts.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    phones, emails = set(), set()
    for entry in data.get("contacts") or []:
        for field in ("phone", "text"):
            value = str(entry.get(field) or "")
            for number in re.findall(r"\+?\d[\d\s()-]*\d|\d", value):
                phones.add(_digits(number))
        if entry.get("email"):
            emails.add(str(entry["email"]).strip().lower())
    return phones, emails


def unknown_contacts(text: str, phones: set[str], emails: set[str]) -> list[str]:
    """Phone numbers and emails in ``text`` that contacts.yml does not have."""
    found: list[str] = []
    for match in PHONE.finditer(text):
        number = " ".join(match.group(0).split())
        digits = _digits(number)
        label = f"phone {number}"
        if 10 <= len(digits) <= 11 and digits not in phones and label not in found:
            found.append(label)
    for match in EMAIL.finditer(text):
        email = match.group(0).rstrip(".").lower()
        if email not in emails and f"email {email}" not in found:
            found.append(f"email {email}")
    return found


def page_text(path: Path) -> str:
    """All the visible text of a page, furniture included, one line per block."""
    from bot.knowledge.pages import decode

    text = decode(path)
    if path.suffix.lower() in (".html", ".htm"):
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(text, "html.parser")
        for tag in soup(["script", "style", "template"]):
            tag.decompose()
        text = soup.get_text("\n")
    return text


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def dropped_lines(path: Path, passages: Sequence[Passage]) -> list[str]:
    """Lines of the page that its passages do not keep (compared word for word)."""
    from bot.knowledge.pages import clean

    # Passages of one section follow each other, so their texts joined give the
    # section back; titles, publishers and headings are kept as labels.
    kept = _words(" ".join(p.text for p in passages))
    labels = _words(" ".join(f"{p.title} {p.source_publisher} {p.heading}" for p in passages))
    lines: list[str] = []
    for line in page_text(path).splitlines():
        line = clean(line).strip(" •*-|#")
        words = _words(line)
        if words and words not in kept and words not in labels and line not in lines:
            lines.append(line)
    return lines


def _show_passages(path: Path, passages: Sequence[Passage]) -> Iterable[str]:
    first = passages[0]
    publisher = first.source_publisher or "publisher not named"
    yield (
        f'== {path}: "{first.source_title}" ({publisher}, {first.area}) -> {len(passages)} passages'
    )
    for number, passage in enumerate(passages, 1):
        yield f"  {number}. [{passage.heading}] ({len(passage.text.split())} words)"
        yield from textwrap.wrap(
            passage.text, 86, initial_indent="     ", subsequent_indent="     "
        )


def _describe(reply) -> str:
    if reply.declined:
        return f"declines (best similarity {reply.evidence.get('best_similarity')})"
    if reply.kind == "contact":
        return "answers from knowledge/contacts.yml: " + ", ".join(reply.contacts)
    hit = reply.hit
    text = textwrap.shorten(reply.text, 160, placeholder=" ...")
    return f'answers from {hit.slug} > {hit.heading} ({hit.source_title}): "{text}"'


def answers_before_and_after(
    questions: Sequence[str],
    articles: Sequence[Path],
    pages: Sequence[Path],
    extra: Sequence[Path],
    index_dir: Path,
) -> Iterable[str]:
    """Each question's answer from ``index_dir`` and from a copy with the pages."""
    from bot.knowledge.answers import answer
    from bot.knowledge.search import Retriever

    before = Retriever(index_dir) if index.exists(index_dir) else None
    with tempfile.TemporaryDirectory(prefix="senbot-dry-run-") as tmp:
        trial = Path(tmp) / "index"
        if before is not None:  # its vectors are reused: only the pages are embedded
            shutil.copytree(index_dir, trial)
        build(articles, trial, raw=[*extra, *pages])
        after = Retriever(trial)
        yield (
            "Answers (as when the classifier is unsure of the topic; before: the "
            "current index, after: with the pages added):"
        )
        for question in questions:
            new = answer(after, question)
            old = answer(before, question) if before is not None else None
            changed = old is None or (old.kind, old.text) != (new.kind, new.text)
            yield f"  Q: {question}"
            yield (
                "     before: "
                + (_describe(old) if old is not None else f"(no index in {index_dir})")
            )
            yield f"     after:  {_describe(new)}"
            yield f"     {'CHANGED' if changed else 'unchanged'}"


def run(
    pages: Sequence[Path],
    questions: Sequence[str],
    articles: Sequence[Path],
    extra: Sequence[Path],
    index_dir: Path,
) -> int:
    """Print what adding ``pages`` would do; write nothing. Returns the exit status."""
    print("Dry run: nothing is written.\n")
    try:
        files = raw_sources(pages)
        if not files:
            raise IngestError(f"no pages found in {', '.join(map(str, pages))}")
        phones, emails = known_contacts()
        for path in files:
            passages = passages_of_page(path)
            for line in _show_passages(path, passages):
                print(line)
            dropped = dropped_lines(path, passages)
            if dropped:
                shown = "; ".join(f'"{line}"' for line in dropped[:MAX_DROPPED])
                more = (
                    f" and {len(dropped) - MAX_DROPPED} more" if len(dropped) > MAX_DROPPED else ""
                )
                print(f"  Dropped as site furniture ({len(dropped)} lines): {shown}{more}")
            missing = unknown_contacts(page_text(path), phones, emails)
            print(
                "  Contacts not in knowledge/contacts.yml: "
                + ("; ".join(missing) if missing else "none")
            )
            print()
        if questions:
            for line in answers_before_and_after(questions, articles, files, extra, index_dir):
                print(line)
    except IngestError as err:
        print(f"This page could not be ingested: {err}")
        return 2
    return 0
