"""Build the knowledge index: ``python -m bot.knowledge.ingest [ARTICLES...] [--raw PATH...]``.

The sources (the articles in ``knowledge/articles/`` with their questions, and
raw pages) are read and cut into passages by :mod:`bot.knowledge.articles`. Each
passage is embedded with all-MiniLM-L6-v2 and stored in a faiss inner-product
index beside a JSON-lines file of the passages and a manifest (model, dimension,
format version, build time, source checksums). A source whose text to embed is
unchanged keeps its vectors from the previous index.

The new index is written into a temporary folder and swapped in with a rename,
so a failed ingest (an empty, binary or unreadable file) names the file and
leaves the previous index working. ``--check`` exits 0 when the index is up to
date with the sources and the passage format (``index.FORMAT_VERSION``) and 1
when it is not.

Raw pages come from ``--raw`` and the ``SENBOT_EXTRA_SOURCES`` setting (folders or
files of ``.txt``, ``.md`` and ``.html``) and are indexed beside the articles.

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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.knowledge import index
from bot.knowledge.articles import (
    IngestError,
    not_covered_files,
    not_covered_of,
    passages_of,
    passages_of_page,
    questions_of,
    raw_sources,
    sha256,
    source_checksum,
    sources,
)
from bot.knowledge.embeddings import DIMENSION
from bot.knowledge.index import Passage
from bot.knowledge.search import abbreviations_checksum, spelled_out
from bot.settings import get_settings

if TYPE_CHECKING:  # numpy loads lazily, with the model
    import numpy as np


def _key(path: Path, raw: bool) -> str:
    """How a source is named in the manifest: articles by name, raw pages by path."""
    return f"raw:{path.resolve()}" if raw else path.name


def _all_sources(paths: Sequence[Path], raw: Sequence[Path]) -> list[tuple[Path, bool]]:
    return [(p, False) for p in sources(paths)] + [(p, True) for p in raw_sources(raw)]


def _not_covered(files: Sequence[tuple[Path, bool]]) -> dict[str, str]:
    """The not-covered files beside the articles, by name, with their checksums."""
    return {p.name: sha256(p) for p in not_covered_files([p for p, raw in files if not raw])}


def is_up_to_date(paths: Sequence[Path], index_dir: Path, raw: Sequence[Path] = ()) -> bool:
    """True when the index was built from exactly these sources and this model."""
    manifest = index.read_manifest(index_dir)
    if manifest is None or index.mismatch(manifest, rows=True) or not index.exists(index_dir):
        return False
    try:
        files = _all_sources(paths, raw)
        current = {_key(p, is_raw): source_checksum(p, is_raw) for p, is_raw in files}
        not_covered = _not_covered(files)
    except (IngestError, OSError):
        return False
    return (
        manifest.get("sources") == current
        and manifest.get("not_covered", {}) == not_covered
        and manifest.get("abbreviations", "") == abbreviations_checksum()
    )


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

    from bot.knowledge.embeddings import search_embed as embed

    started = time.monotonic()
    files = _all_sources(paths, raw)
    if not files:
        raise IngestError("nothing to index: give articles or raw pages")
    old_vectors, old_questions = index.reusable_vectors(index_dir, abbreviations_checksum())

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

    # Questions about subjects no article covers (knowledge/not_covered.yml), stored
    # with the written questions, a subject in place of the article and heading.
    not_covered = _not_covered(files)
    for path in not_covered_files([p for p, is_raw in files if not is_raw]):
        questions.extend(not_covered_of(path))
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
        not_covered=not_covered,
        abbreviations=abbreviations_checksum(),
    )
    question_matrix = _question_vectors(old_questions, questions)
    index.save(
        index_dir, all_passages, matrix, manifest, dense, questions=(questions, question_matrix)
    )
    return manifest


def _question_vectors(previous: dict[str, np.ndarray], questions: Sequence[dict]):
    """Embed the questions, reusing the previous index's vectors (by text) for unchanged ones."""
    import numpy as np

    from bot.knowledge.embeddings import search_embed as embed

    texts = [spelled_out(q["question"]) for q in questions]  # as questions are embedded
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
