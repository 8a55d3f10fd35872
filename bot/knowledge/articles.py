"""Reading the knowledge sources into passages; :mod:`bot.knowledge.ingest` indexes them.

Owns what a source is and how it is cut, with no model and no index:

- the articles in ``knowledge/articles/``: Markdown with YAML front matter
  (:data:`REQUIRED_KEYS`), read by :func:`read_article`; each ``## `` section
  becomes passages (:func:`passages_of`), a long section cut at sentence ends
  (spaCy's sentencizer) into pieces of at most :data:`MAX_PASSAGE_WORDS` words;
- their questions in ``knowledge/questions/<slug>.yml``, a list under each
  heading (:func:`questions_of`), and the checksum of the pair
  (:func:`source_checksum`) that the manifest records;
- ``knowledge/not_covered.yml``: questions about subjects no article covers, a
  list under each subject, with words that name it (:func:`not_covered_of`), so
  the answer function can say it has no information on that subject instead of
  answering from the nearest article;
- raw extra pages (``.txt``, ``.md``, ``.html``), cleaned into sections by
  :mod:`bot.knowledge.pages` and cut the same way (:func:`passages_of_page`);
- finding the files in the folders given (:func:`sources`, :func:`raw_sources`).

Every problem raises :class:`IngestError` naming the file, so ingest stops before
it writes anything and the previous index stays.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import yaml

from bot.knowledge.index import Passage
from bot.knowledge.sources import date_text, is_unmaintained

REQUIRED_KEYS = ("title", "area", "source_title", "source_publisher")
MAX_PASSAGE_WORDS = 180


class IngestError(Exception):
    """A source could not be ingested; the message names the file."""


@lru_cache(maxsize=1)
def _sentencizer():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_article(path: Path) -> tuple[dict, str]:
    """Split an article into its front matter and body.

    Raises:
        IngestError: The file is empty, not UTF-8 text, or lacks front matter.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise IngestError(f"{path}: cannot be read ({err.strerror})") from err
    if not raw.strip():
        raise IngestError(f"{path}: the file is empty")
    if b"\0" in raw:
        raise IngestError(f"{path}: looks like a binary file, not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise IngestError(f"{path}: is not UTF-8 text (byte {err.start})") from err
    if not text.startswith("---"):
        raise IngestError(f"{path}: has no front matter (it must start with ---)")
    try:
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
    except (ValueError, yaml.YAMLError) as err:
        raise IngestError(f"{path}: the front matter is not valid YAML") from err
    missing = [key for key in REQUIRED_KEYS if not meta.get(key)]
    if missing:
        raise IngestError(f"{path}: front matter lacks {', '.join(missing)}")
    return meta, body


def _chunks(text: str) -> Iterable[str]:
    """Cut a section at sentence ends into pieces of at most MAX_PASSAGE_WORDS."""
    if len(text.split()) <= MAX_PASSAGE_WORDS:
        yield text
        return
    piece: list[str] = []
    words = 0
    for sentence in _sentencizer()(text).sents:
        n = len(sentence.text.split())
        if piece and words + n > MAX_PASSAGE_WORDS:
            yield " ".join(piece)
            piece, words = [], 0
        piece.append(sentence.text.strip())
        words += n
    if piece:
        yield " ".join(piece)


_BULLET = re.compile(r"^[-*+]\s+")
_NUMBERED = re.compile(r"^\d+[.)]\s+")
_ENDS_CLAUSE = re.compile(r"[.!?;:,]$")


def punctuated(lines: Sequence[str]) -> list[str]:
    """A section's lines with each list item ended as a clause of one sentence.

    Run together, "- communication and interaction" and "- physical and sensory"
    read as one phrase in a reply. A bullet loses its mark; an item that ends without
    punctuation gets ";", the last of its list "."; so a reply reads "...: a learning
    programme made for your child; more time with a teacher; ... .", and
    :func:`bot.knowledge.compose.compose` can cut the list at its items.
    """
    out: list[str] = []
    for i, line in enumerate(lines):
        bullet = _BULLET.match(line)
        item = bool(bullet or _NUMBERED.match(line))
        text = line[bullet.end() :].strip() if bullet else line
        if item and not _ENDS_CLAUSE.search(text):
            following = lines[i + 1] if i + 1 < len(lines) else ""
            last = not (_BULLET.match(following) or _NUMBERED.match(following))
            text += "." if last else ";"
        out.append(text)
    return out


def passages_of(path: Path) -> list[Passage]:
    """Every passage of one article, under its heading."""
    meta, body = read_article(path)
    sections: list[tuple[str, list[str]]] = [(meta["title"], [])]
    for line in body.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.strip() and not line.startswith("#"):
            sections[-1][1].append(line.strip())
    found = []
    for heading, lines in sections:
        for chunk in _chunks(" ".join(punctuated(lines))):
            if chunk.strip():
                found.append(
                    Passage(
                        slug=path.stem,
                        title=str(meta["title"]),
                        heading=heading,
                        text=chunk,
                        area=str(meta["area"]),
                        audience=str(meta.get("audience", "everyone")),
                        source_title=str(meta["source_title"]),
                        source_publisher=str(meta["source_publisher"]),
                        source_section=str(meta.get("source_section", "")),
                        source_file=str(meta.get("source_file", path.name)),
                        source_url=str(meta.get("source_url") or ""),
                        source_date=date_text(meta.get("source_date")),
                        source_status=str(meta.get("source_status") or ""),
                        no_longer_maintained=is_unmaintained(
                            meta.get("source_status"), meta["source_publisher"]
                        ),
                    )
                )
    if not found:
        raise IngestError(f"{path}: has no text under its headings")
    return found


def source_checksum(path: Path, is_raw: bool) -> str:
    """A source's checksum for the manifest; an article's includes its questions."""
    checksum = sha256(path)
    if not is_raw and questions_file(path).exists():
        checksum += "+" + sha256(questions_file(path))
    return checksum


def questions_file(article: Path) -> Path:
    """Where an article's questions live: ``knowledge/questions/<slug>.yml``."""
    return article.parent.parent / "questions" / f"{article.stem}.yml"


def _lists_of_questions(path: Path, key: str) -> dict:
    """A YAML file mapping each ``key`` (a heading, a subject) to a list of questions.

    Raises:
        IngestError: It is not valid YAML, or not such a mapping.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise IngestError(f"{path}: is not valid YAML") from err
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise IngestError(f"{path}: must map each {key} to a list of questions")
    return data


def questions_of(article: Path, passages: Sequence[Passage]) -> list[dict]:
    """The questions written under an article's headings, one dict a question.

    A heading the article does not have is skipped with a warning naming it, so a
    renamed heading never stops the index from being built.

    Raises:
        IngestError: The questions file is not a YAML mapping of lists.
    """
    path = questions_file(article)
    if not path.exists():
        return []
    data = _lists_of_questions(path, "heading")
    headings = {p.heading for p in passages}
    found: list[dict[str, str]] = []
    for heading, questions in data.items():
        if str(heading) not in headings:
            print(
                f"warning: {path.name}: no heading {heading!r} in {article.name}", file=sys.stderr
            )
            continue
        found.extend(
            {"slug": article.stem, "heading": str(heading), "question": str(q)}
            for q in questions
            if str(q).strip()
        )
    return found


NOT_COVERED = "not_covered.yml"


def not_covered_files(articles: Sequence[Path]) -> list[Path]:
    """The not-covered file beside each articles folder (``knowledge/not_covered.yml``)."""
    folders = dict.fromkeys(a.parent.parent for a in articles)
    return [f / NOT_COVERED for f in folders if (f / NOT_COVERED).is_file()]


def uses_word(text: str, word: str) -> bool:
    """Whether the text uses the word or phrase (or its plural), in any case."""
    return re.search(rf"(?<!\w){re.escape(word)}(?:e?s)?(?!\w)", text, re.IGNORECASE) is not None


def not_covered_of(path: Path) -> list[dict]:
    """The questions of a not-covered file, one dict a question: subject, question, words.

    Each subject maps to its questions, or to ``{words: [...], questions: [...]}``:
    the words name the subject ("taxi", "DLA") and no article uses them, so a
    question using one is about that subject. The subject reads after "I can't
    help with" (domain.yml's ``utter_not_covered``).

    Raises:
        IngestError: The file is not a YAML mapping of subjects to lists of
            questions, or to mappings of words and questions.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise IngestError(f"{path}: is not valid YAML") from err
    if not isinstance(data, dict):
        raise IngestError(f"{path}: must map each subject to its questions")
    rows: list[dict] = []
    for subject, value in data.items():
        if isinstance(value, list):
            value = {"questions": value}
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("questions"), list)
            or not isinstance(value.get("words", []), list)
        ):
            raise IngestError(
                f"{path}: {subject!r} must have a list of questions (and may have a list of words)"
            )
        words = [str(w) for w in value.get("words", []) if str(w).strip()]
        rows.extend(
            {"subject": str(subject), "question": str(q), "words": words}
            for q in value["questions"]
            if str(q).strip()
        )
    return rows


def passages_of_page(path: Path) -> list[Passage]:
    """Every passage of one raw page (text, Markdown or HTML), under its headings.

    Raises:
        IngestError: The file is empty, binary, undecodable or has no text once
            its site furniture is removed.
    """
    from bot.knowledge.pages import PageError, read_page

    try:
        page = read_page(path)
    except PageError as err:
        raise IngestError(f"{path}: {err}") from err
    except OSError as err:
        raise IngestError(f"{path}: cannot be read ({err.strerror})") from err
    found = []
    for heading, lines in page.sections:
        for chunk in _chunks(" ".join(lines)):
            found.append(
                Passage(
                    slug=path.stem,
                    title=page.title,
                    heading=heading or page.title,
                    text=chunk,
                    area=page.area,
                    audience="everyone",
                    source_title=page.title,
                    source_publisher=page.publisher,
                    source_section=heading,
                    source_file=str(path),
                )
            )
    return found


def raw_sources(paths: Sequence[Path]) -> list[Path]:
    """The raw pages in the given files and folders (folders searched deeply), sorted."""
    from bot.knowledge.pages import RAW_SUFFIXES

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in RAW_SUFFIXES
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            if path.suffix.lower() not in RAW_SUFFIXES:
                raise IngestError(
                    f"{path}: not a page ingest can read (use {', '.join(RAW_SUFFIXES)})"
                )
            files.append(path)
        else:
            raise IngestError(f"{path}: no such file or folder")
    return files


def sources(paths: Sequence[Path]) -> list[Path]:
    """The Markdown articles in the given files and folders, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.md")))
        elif path.exists():
            files.append(path)
        else:
            raise IngestError(f"{path}: no such file or folder")
    if paths and not files:
        raise IngestError(f"no articles found in {', '.join(map(str, paths))}")
    return files
