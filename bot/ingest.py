"""Build the knowledge index from the articles: ``python -m bot.ingest``.

Each article in ``knowledge/articles/`` is a Markdown file with YAML front
matter. Its ``## `` sections become passages (sentence-split with spaCy so a long
section is cut at sentence ends), each embedded with all-MiniLM-L6-v2 and stored
in a faiss inner-product index beside a JSON-lines file of the passages and a
manifest (model, dimension, build time, source checksums).

The new index is written into a temporary folder and swapped in with a rename,
so a failed ingest (an empty, binary or unreadable file) names the file and
leaves the previous index working. ``--check`` exits 0 when the index is up to
date with the sources and 1 when it is not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from bot.embeddings import DIMENSION, MODEL_NAME
from bot.settings import get_settings

MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
INDEX = "index.faiss"
REQUIRED_KEYS = ("title", "area", "source_title", "source_publisher")
MAX_PASSAGE_WORDS = 180


class IngestError(Exception):
    """A source could not be ingested; the message names the file."""


@dataclass(frozen=True)
class Passage:
    """One retrievable piece of an article, with where it came from."""

    slug: str
    title: str
    heading: str
    text: str
    area: str
    audience: str
    source_title: str
    source_publisher: str
    source_section: str

    def embedding_text(self) -> str:
        """What is embedded: the headings give a short section its subject."""
        return f"{self.title}. {self.heading}. {self.text}"


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
                    )
                )
    if not found:
        raise IngestError(f"{path}: has no text under its headings")
    return found


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
    if not files:
        raise IngestError(f"no articles found in {', '.join(map(str, paths))}")
    return files


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def is_up_to_date(paths: Sequence[Path], index_dir: Path) -> bool:
    """True when the index was built from exactly these sources and this model."""
    manifest = read_manifest(index_dir)
    if not manifest or manifest.get("model") != MODEL_NAME:
        return False
    try:
        current = {str(p.name): sha256(p) for p in sources(paths)}
    except IngestError:
        return False
    return manifest.get("sources") == current and (index_dir / INDEX).exists()


def build(paths: Sequence[Path], index_dir: Path) -> dict:
    """Build a new index and swap it in; the old one stays if anything fails.

    Returns:
        The manifest written.
    """
    import faiss
    import numpy as np
    from tqdm import tqdm

    from bot.embeddings import embed

    started = time.monotonic()
    files = sources(paths)
    old = read_manifest(index_dir) or {}
    old_vectors: dict[str, np.ndarray] = {}
    if old.get("model") == MODEL_NAME and (index_dir / "vectors.npy").exists():
        stored = np.load(index_dir / "vectors.npy")
        offset = 0
        for name, count in old.get("passage_counts", {}).items():
            if old.get("sources", {}).get(name):
                old_vectors[old["sources"][name]] = stored[offset : offset + count]
            offset += count

    all_passages: list[Passage] = []
    vectors = []
    checksums: dict[str, str] = {}
    counts: dict[str, int] = {}
    reused = 0
    for path in tqdm(files, desc="Articles", unit="file", disable=len(files) < 10):
        found = passages_of(path)
        checksum = sha256(path)
        cached = old_vectors.get(checksum)
        if cached is not None and len(cached) == len(found):
            vectors.append(cached)
            reused += 1
        else:
            vectors.append(embed([p.embedding_text() for p in found]))
        all_passages.extend(found)
        checksums[path.name] = checksum
        counts[path.name] = len(found)

    matrix = np.vstack(vectors).astype("float32")
    index = faiss.IndexFlatIP(DIMENSION)
    index.add(matrix)
    manifest = {
        "model": MODEL_NAME,
        "dimension": DIMENSION,
        "index_type": "IndexFlatIP",
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "passages": len(all_passages),
        "sources": checksums,
        "passage_counts": counts,
        "reused_sources": reused,
        "seconds": round(time.monotonic() - started, 2),
    }
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".index-", dir=index_dir.parent))
    try:
        faiss.write_index(index, str(staging / INDEX))
        np.save(staging / "vectors.npy", matrix)
        with open(staging / PASSAGES, "w", encoding="utf-8") as out:
            for passage in all_passages:
                out.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        retired = index_dir.with_name(index_dir.name + ".old")
        shutil.rmtree(retired, ignore_errors=True)
        if index_dir.exists():
            index_dir.rename(retired)
        staging.rename(index_dir)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Command line for building or checking the index."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.ingest", description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path,
                        help="articles or folders (default: knowledge/articles)")
    parser.add_argument("--index-dir", type=Path, default=settings.index_dir)
    parser.add_argument("--check", action="store_true",
                        help="exit 0 if the index is up to date, 1 if not")
    args = parser.parse_args(argv)
    paths = args.paths or [settings.knowledge_dir / "articles"]
    if args.check:
        return 0 if is_up_to_date(paths, args.index_dir) else 1
    try:
        manifest = build(paths, args.index_dir)
    except IngestError as err:
        print(f"Ingest failed, the previous index is unchanged: {err}", file=sys.stderr)
        return 2
    print(
        f"Indexed {manifest['passages']} passages from {len(manifest['sources'])} "
        f"articles ({manifest['reused_sources']} unchanged) in {manifest['seconds']} s "
        f"into {args.index_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
