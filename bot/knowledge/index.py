"""The search index on disk: the one module that knows its format.

It owns the index folder's file names (:data:`MANIFEST`, :data:`PASSAGES`,
:data:`INDEX`, :data:`VECTORS`, :data:`QUESTIONS`, :data:`QUESTION_VECTORS`), the
passage row (:class:`Passage`, one JSON line each, at :data:`FORMAT_VERSION`), the
faiss index kind (:func:`dense_index`: exact below :data:`IVF_FROM` passages, IVF
searched with :data:`NPROBE` lists above), writing a folder (:func:`save`, staged
and swapped in with a rename), reading it back (:func:`load`, :func:`exists`,
:func:`read_manifest`, :func:`reusable_vectors`) and checking its manifest against
this code (:func:`mismatch`).

:mod:`bot.knowledge.ingest` decides what goes in and is the only writer;
:mod:`bot.knowledge.search` searches what :func:`load` returns. Other code asks this
module rather than naming a file in the folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.knowledge.embeddings import DIMENSION, search_model_name

if TYPE_CHECKING:  # numpy loads lazily, with the model
    import numpy as np

MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
INDEX = "index.faiss"
VECTORS = "vectors.npy"
# Questions written under each article heading (knowledge/questions/<slug>.yml),
# embedded beside the passages: one JSON line (slug, heading, question) a row; a
# question about a subject no article covers (knowledge/not_covered.yml) has a
# subject instead of the slug and heading.
QUESTIONS = "questions.jsonl"
QUESTION_VECTORS = "questions.npy"
# What a passage row holds. Raised when its fields change, so that
# ``ingest --check`` (and so ``make run``) rebuilds an index written by an older ingest.
# 2: source_url, source_date, source_status and no_longer_maintained.
# 3: list items in a passage's text end with ";" and the last with "." (ingest).
FORMAT_VERSION = 3
# Exact search stays under 20 ms up to here on a 2-core machine; above it, IVF.
IVF_FROM = 50_000
NPROBE = 16


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
    source_file: str = ""
    source_url: str = ""
    source_date: str = ""  # the page's own date (ISO), "undated" or ""
    source_status: str = ""  # e.g. "in force", "no longer maintained"
    no_longer_maintained: bool = False

    def embedding_text(self) -> str:
        """What is embedded: the headings give a short section its subject."""
        return f"{self.title}. {self.heading}. {self.text}"


_FIELDS = tuple(f.name for f in fields(Passage))


def fields_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A passage row's fields by name (rows of older indexes lack the dates: defaults)."""
    found = {name: row[name] for name in _FIELDS if name in row}
    found["no_longer_maintained"] = bool(row.get("no_longer_maintained", False))
    return found


def passage_of(row: Mapping[str, Any]) -> Passage:
    """The passage a row of :data:`PASSAGES` holds."""
    return Passage(**fields_of(row))


class IndexMismatch(RuntimeError):  # noqa: N818 - reads as what happened
    """The index on disk was built with another model; rebuild it with bot.knowledge.ingest."""


def manifest(**build: Any) -> dict[str, Any]:
    """A manifest: what the vectors and rows are (model, dimension, format), then ``build``."""
    return {
        "model": search_model_name(),
        "dimension": DIMENSION,
        "format": FORMAT_VERSION,
        **build,
    }


def read_manifest(index_dir: Path) -> dict | None:
    """The index's manifest, or None when there is none or it is unreadable."""
    try:
        return json.loads((index_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def mismatch(manifest: Mapping[str, Any] | None, *, rows: bool = False) -> str | None:
    """Why an index with this manifest does not fit this code, or None when it does.

    Its vectors must come from the search model (``model`` and ``dimension``:
    the adapted MiniLM of :mod:`bot.knowledge.adapted`, or the bundled one). With
    ``rows``, its passage rows must also be of this :data:`FORMAT_VERSION`: search
    reads older rows, but ingest rebuilds an index that has them.
    """
    if manifest is None:
        return "has no readable manifest"
    model = search_model_name()
    if manifest.get("model") != model or manifest.get("dimension") != DIMENSION:
        return f"was built with {manifest.get('model')}, not {model}"
    if rows and manifest.get("format") != FORMAT_VERSION:
        return f"holds passages of format {manifest.get('format')}, not {FORMAT_VERSION}"
    return None


def exists(index_dir: Path) -> bool:
    """True when ``index_dir`` holds an index (its manifest and its faiss index)."""
    return (index_dir / MANIFEST).is_file() and (index_dir / INDEX).is_file()


def dense_index(matrix, ivf_from: int = IVF_FROM):
    """The faiss index for these vectors: exact below ``ivf_from`` rows, IVF above.

    Returns:
        The filled index and a description for the manifest.
    """
    import math

    import faiss

    n = len(matrix)
    if n < ivf_from:
        index = faiss.IndexFlatIP(DIMENSION)
        index.add(matrix)
        return index, {"index_type": "IndexFlatIP"}
    # About sqrt(n) lists, but at least ~39 training points per list as faiss wants.
    nlist = max(1, min(int(math.sqrt(n)), n // 39))
    quantizer = faiss.IndexFlatIP(DIMENSION)
    index = faiss.IndexIVFFlat(quantizer, DIMENSION, nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(matrix)
    index.add(matrix)
    nprobe = min(NPROBE, nlist)
    index.nprobe = nprobe
    return index, {"index_type": "IndexIVFFlat", "nlist": nlist, "nprobe": nprobe}


def _write_lines(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def save(
    index_dir: Path,
    passages: Sequence[Passage | Mapping[str, Any]],
    matrix,
    manifest: dict,
    index=None,
    questions: tuple[Sequence[Mapping[str, Any]], np.ndarray] | None = None,
) -> None:
    """Write an index folder in a staging folder and swap it in with a rename.

    Args:
        index_dir: Where the index lives; a previous one is replaced only once
            the new one is complete.
        passages: The passages (or their rows), in the order of ``matrix``'s rows.
        matrix: The passages' L2-normalised embeddings.
        manifest: Written as :data:`MANIFEST`.
        index: The faiss index; chosen by :func:`dense_index` when not given.
        questions: The questions written under the headings and their vectors.
    """
    import faiss
    import numpy as np

    if index is None:
        index, kind = dense_index(matrix)
        manifest = {**manifest, **kind}
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".index-", dir=index_dir.parent))
    try:
        faiss.write_index(index, str(staging / INDEX))
        np.save(staging / VECTORS, matrix)
        _write_lines(
            staging / PASSAGES, [asdict(p) if isinstance(p, Passage) else p for p in passages]
        )
        if questions is not None:
            rows, question_matrix = questions
            np.save(staging / QUESTION_VECTORS, question_matrix)
            _write_lines(staging / QUESTIONS, rows)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        retired = index_dir.with_name(index_dir.name + ".old")
        shutil.rmtree(retired, ignore_errors=True)
        if index_dir.exists():
            index_dir.rename(retired)
        staging.rename(index_dir)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read_lines(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@dataclass(frozen=True)
class Loaded:
    """An index folder read back for searching."""

    manifest: dict
    index: Any  # the faiss index, with the manifest's nprobe
    vectors: np.ndarray  # memory-mapped: one row per passage
    passages: list[dict]  # the rows of PASSAGES (see fields_of)
    questions: list[dict]  # slug, heading, question (or subject, question); maybe none
    question_vectors: np.ndarray


def load(index_dir: Path) -> Loaded:
    """Read the index in ``index_dir`` for searching.

    Raises:
        IndexMismatch: The index was built with another model.
        OSError: There is no index (its manifest is missing).
    """
    import faiss
    import numpy as np

    manifest = json.loads((index_dir / MANIFEST).read_text())
    why = mismatch(manifest)
    if why:
        raise IndexMismatch(f"{index_dir} {why}: run python -m bot.knowledge.ingest")
    index = faiss.read_index(str(index_dir / INDEX))
    if "nprobe" in manifest:
        index.nprobe = int(manifest["nprobe"])
    questions: list[dict] = []
    question_vectors = np.zeros((0, DIMENSION), dtype="float32")
    if (index_dir / QUESTIONS).exists():
        questions = _read_lines(index_dir / QUESTIONS)
        question_vectors = np.load(index_dir / QUESTION_VECTORS)
    return Loaded(
        manifest,
        index,
        np.load(index_dir / VECTORS, mmap_mode="r"),
        _read_lines(index_dir / PASSAGES),
        questions,
        question_vectors,
    )


def reusable_vectors(
    index_dir: Path, abbreviations: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The vectors a rebuild may take from the index in ``index_dir``.

    Args:
        index_dir: The index folder.
        abbreviations: The checksum of the abbreviations questions are spelled out
            with before they are embedded ("LA" -> "local authority"). Question
            vectors are kept by the text as written, so with other abbreviations
            than the index's none of them is reused.

    Returns:
        Each source's passage vectors by its ``text_checksums`` entry, and each
        question's vector by its text; both empty when there is no index or its
        model differs.
    """
    import numpy as np

    old = read_manifest(index_dir)
    passages: dict[str, np.ndarray] = {}
    questions: dict[str, np.ndarray] = {}
    if old is None or mismatch(old):
        return passages, questions
    if (index_dir / VECTORS).exists():
        stored = np.load(index_dir / VECTORS)
        offset = 0
        for name, count in old.get("passage_counts", {}).items():
            if old.get("text_checksums", {}).get(name):
                passages[old["text_checksums"][name]] = stored[offset : offset + count]
            offset += count
    same_spelling = old.get("abbreviations", "") == abbreviations
    if same_spelling and (index_dir / QUESTION_VECTORS).exists():
        stored = np.load(index_dir / QUESTION_VECTORS)
        for row, line in zip(stored, _read_lines(index_dir / QUESTIONS)):
            questions[line["question"]] = row
    return passages, questions
