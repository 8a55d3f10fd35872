"""Build the knowledge index: ``python -m bot.knowledge.ingest [ARTICLES...] [--raw PATH...]``.

Each article in ``knowledge/articles/`` is a Markdown file with YAML front
matter. Its ``## `` sections become passages (sentence-split with spaCy so a long
section is cut at sentence ends), each embedded with all-MiniLM-L6-v2 and stored
in a faiss inner-product index beside a JSON-lines file of the passages and a
manifest (model, dimension, format version, build time, source
checksums).

The new index is written into a temporary folder and swapped in with a rename,
so a failed ingest (an empty, binary or unreadable file) names the file and
leaves the previous index working. ``--check`` exits 0 when the index is up to
date with the sources and the passage format (``index.FORMAT_VERSION``) and 1
when it is not.

Raw pages (``--raw`` and the ``SENBOT_EXTRA_SOURCES`` setting: folders or files of
``.txt``, ``.md`` and ``.html``) are cleaned of site furniture by
:mod:`bot.knowledge.pages`, split under their headings and indexed beside the articles.

The folder's files, the passage row and the faiss index kind are
:mod:`bot.knowledge.index`'s: below its ``IVF_FROM`` passages the dense index is
exact (``IndexFlatIP``); from there on it is ``IndexIVFFlat`` with about sqrt(n)
lists, searched with ``NPROBE`` of them (``benchmarks/retrieval.py`` measured the
trade-off).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bot.knowledge import index
from bot.knowledge.embeddings import DIMENSION
from bot.knowledge.index import Passage
from bot.knowledge.sources import date_text, is_unmaintained
from bot.settings import get_settings

if TYPE_CHECKING:  # numpy loads lazily, with the model
    import numpy as np

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


def passages_of(path: Path) -> list[Passage]:
    """Every passage of one article, under its heading."""
    meta, body = read_article(path)
    sections: list[tuple[str, list[str]]] = [(meta["title"], [])]
    for line in body.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.strip() and not line.startswith("#"):
            sections[-1][1].append(line.strip().lstrip("-* ").strip())
    found = []
    for heading, lines in sections:
        for chunk in _chunks(" ".join(lines)):
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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise IngestError(f"{path}: is not valid YAML") from err
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise IngestError(f"{path}: must map each heading to a list of questions")
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


def _key(path: Path, raw: bool) -> str:
    """How a source is named in the manifest: articles by name, raw pages by path."""
    return f"raw:{path.resolve()}" if raw else path.name


def _all_sources(paths: Sequence[Path], raw: Sequence[Path]) -> list[tuple[Path, bool]]:
    return [(p, False) for p in sources(paths)] + [(p, True) for p in raw_sources(raw)]


def is_up_to_date(paths: Sequence[Path], index_dir: Path, raw: Sequence[Path] = ()) -> bool:
    """True when the index was built from exactly these sources and this model."""
    manifest = index.read_manifest(index_dir)
    if manifest is None or index.mismatch(manifest, rows=True) or not index.exists(index_dir):
        return False
    try:
        current = {
            _key(p, is_raw): source_checksum(p, is_raw) for p, is_raw in _all_sources(paths, raw)
        }
    except (IngestError, OSError):
        return False
    return manifest.get("sources") == current


def build(
    paths: Sequence[Path],
    index_dir: Path,
    raw: Sequence[Path] = (),
    ivf_from: int = index.IVF_FROM,
) -> dict:
    """Build a new index and swap it in; the old one stays if anything fails.

    Args:
        paths: Articles (Markdown with front matter) or folders of them.
        index_dir: Where the index is written.
        raw: Raw pages (text, Markdown, HTML) or folders of them.
        ivf_from: From this many passages on, the dense index is IVF, not exact.

    Returns:
        The manifest written.
    """
    import numpy as np
    from tqdm import tqdm

    from bot.knowledge.embeddings import embed

    started = time.monotonic()
    files = _all_sources(paths, raw)
    if not files:
        raise IngestError("nothing to index: give articles or raw pages")
    old_vectors, old_questions = index.reusable_vectors(index_dir)

    all_passages: list[Passage] = []
    vectors = []
    checksums: dict[str, str] = {}
    counts: dict[str, int] = {}
    # Vectors are reused when the text to embed is the same, so a change in how
    # pages are cleaned or split re-embeds them even if the file did not change.
    text_checksums: dict[str, str] = {}
    reused = 0
    questions: list[dict] = []
    for path, is_raw in tqdm(files, desc="Sources", unit="file", disable=len(files) < 10):
        found = passages_of_page(path) if is_raw else passages_of(path)
        checksum = source_checksum(path, is_raw)
        if not is_raw:
            questions.extend(questions_of(path, found))
        texts = [p.embedding_text() for p in found]
        text_checksum = hashlib.sha256("\0".join(texts).encode()).hexdigest()
        cached = old_vectors.get(text_checksum)
        if cached is not None and len(cached) == len(found):
            vectors.append(cached)
            reused += 1
        else:
            vectors.append(embed(texts))
        all_passages.extend(found)
        key = _key(path, is_raw)
        if key in checksums:
            raise IngestError(f"{path}: two articles have this file name")
        checksums[key] = checksum
        counts[key] = len(found)
        text_checksums[key] = text_checksum

    matrix = np.vstack(vectors).astype("float32")
    dense, kind = index.dense_index(matrix, ivf_from)
    manifest = index.manifest(
        **kind,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        passages=len(all_passages),
        sources=checksums,
        passage_counts=counts,
        text_checksums=text_checksums,
        reused_sources=reused,
        seconds=round(time.monotonic() - started, 2),
        questions=len(questions),
    )
    question_matrix = _question_vectors(old_questions, questions)
    index.save(
        index_dir, all_passages, matrix, manifest, dense, questions=(questions, question_matrix)
    )
    return manifest


def _question_vectors(previous: dict[str, np.ndarray], questions: Sequence[dict]):
    """Embed the questions, reusing the previous index's vectors (by text) for unchanged ones."""
    import numpy as np

    from bot.knowledge.embeddings import embed

    texts = [q["question"] for q in questions]
    missing = [t for t in dict.fromkeys(texts) if t not in previous]
    if missing:
        previous.update(zip(missing, embed(missing)))
    if not texts:
        return np.zeros((0, DIMENSION), dtype="float32")
    return np.vstack([previous[t] for t in texts]).astype("float32")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line for building or checking the index."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.knowledge.ingest", description=__doc__)
    parser.add_argument(
        "paths", nargs="*", type=Path, help="articles or folders (default: knowledge/articles)"
    )
    parser.add_argument(
        "--raw",
        nargs="+",
        type=Path,
        default=[],
        action="extend",
        metavar="PATH",
        help="raw pages (.txt, .md, .html) or folders of them, "
        "indexed beside the articles (SENBOT_EXTRA_SOURCES adds more)",
    )
    parser.add_argument(
        "--raw-only", action="store_true", help="index only the raw pages, not the articles"
    )
    parser.add_argument("--index-dir", type=Path, default=settings.index_dir)
    parser.add_argument(
        "--check", action="store_true", help="exit 0 if the index is up to date, 1 if not"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the --raw pages would become and change; "
        "write nothing (see bot/knowledge/dry_run.py)",
    )
    parser.add_argument(
        "--ask",
        action="append",
        default=[],
        metavar="QUESTION",
        help="with --dry-run: the answer before and after the pages",
    )
    args = parser.parse_args(argv)
    paths = [] if args.raw_only else args.paths or [settings.knowledge_dir / "articles"]
    raw = [*args.raw, *settings.extra_sources]
    if args.check:
        return 0 if is_up_to_date(paths, args.index_dir, raw) else 1
    if args.dry_run or args.ask:
        if not args.raw or not args.dry_run:
            parser.error(
                "--dry-run needs the pages to check (--raw PAGE...), and --ask needs --dry-run"
            )
        from bot.knowledge import dry_run

        return dry_run.run(args.raw, args.ask, paths, settings.extra_sources, args.index_dir)
    try:
        manifest = build(paths, args.index_dir, raw)
    except IngestError as err:
        print(f"Ingest failed, the previous index is unchanged: {err}", file=sys.stderr)
        return 2
    print(
        f"Indexed {manifest['passages']} passages from {len(manifest['sources'])} "
        f"sources ({manifest['reused_sources']} unchanged) in {manifest['seconds']} s "
        f"into {args.index_dir} ({manifest['index_type']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
