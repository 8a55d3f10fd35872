"""Find the passages that answer a question: BM25 and dense search, fused by rank.

Reads the index that ``python -m bot.knowledge.ingest`` writes (through
:func:`bot.knowledge.index.load`); never writes it.

A question's keywords are widened with ``knowledge/synonyms.yml`` (everyday words
and abbreviations -> the articles' words) before BM25 scores them.

Keyword scores come from ``bm25s`` (sparse matrices: ~2 ms a query at 100,000
passages, where ``rank_bm25`` took ~200 ms; ``benchmarks/retrieval.py``).
``Retriever.search(mode=...)`` can also run one side alone ("dense", "bm25") so
``python -m bot.knowledge.evaluate`` can compare them with the hybrid.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.knowledge import areas, index
from bot.knowledge.articles import uses_word
from bot.knowledge.embeddings import use_threads
from bot.knowledge.index import IndexMismatch as IndexMismatch  # raised by index.load
from bot.knowledge.index import Passage, fields_of
from bot.settings import REPO_ROOT, get_settings

RRF_K = 60  # the usual reciprocal-rank-fusion constant
CANDIDATES = 30
# Below this cosine for the best dense hit the question is declined. On
# evaluation/retrieval_cases.yml, every unrelated question but a few scores under it,
# and answerable ones rarely do (see tests/bot/test_retrieval.py for the figures).
ABSTAIN_BELOW = 0.35
MAX_ANSWER_WORDS = 120
MAX_QUERY_CHARS = 2000  # a longer message is searched by its start
# Long sections' sentence vectors kept (Retriever.similarities): there are 248
# passages, so this keeps every section cut alone and with its neighbour.
TEXT_VECTORS_KEPT = 1024
COUNTIES = set(areas.names())  # from knowledge/areas.yml
_STOP = set(
    "a an and are as at be by can do does for from how i if in is it me my of on or "
    "our so that the their them there they this to we what when where which who why "
    "will with you your he she his her get got".split()
)
_WORD = re.compile(r"[a-z0-9£]+")
Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without common function words, for BM25."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


# Everyday words and abbreviations -> the articles' words, for BM25 only (a data
# table, not code: general vocabulary such as "LA" -> "local authority council").
SYNONYMS_FILE = REPO_ROOT / "knowledge" / "synonyms.yml"


@functools.cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """``knowledge/synonyms.yml`` read once: a word -> the tokens also searched for it."""
    import yaml

    if not SYNONYMS_FILE.exists():
        return {}
    data = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or {}
    return {str(k).lower(): tuple(tokens(str(v))) for k, v in data.items()}


# Abbreviations MiniLM does not know, written out before a question is embedded
# ("LA" -> "local authority"): a data table like the synonyms.
ABBREVIATIONS_FILE = REPO_ROOT / "knowledge" / "abbreviations.yml"


@functools.cache
def _abbreviations() -> tuple[re.Pattern[str] | None, dict[str, str]]:
    import yaml

    if not ABBREVIATIONS_FILE.exists():
        return None, {}
    data = yaml.safe_load(ABBREVIATIONS_FILE.read_text(encoding="utf-8")) or {}
    table = {str(k).lower(): str(v) for k, v in data.items()}
    if not table:
        return None, {}
    words = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return re.compile(rf"\b(?:{words})\b", re.I), table


def spelled_out(text: str) -> str:
    """The text as dense search embeds it: ``knowledge/abbreviations.yml`` written out.

    "can the LA refuse" -> "can the local authority refuse"; a text without one of
    the abbreviations is returned unchanged (the same object), so a caller can tell
    whether the message's own vector still fits.
    """
    pattern, table = _abbreviations()
    if pattern is None or not pattern.search(text):
        return text
    return pattern.sub(lambda m: table[m.group(0).lower()], text)


def abbreviations_checksum() -> str:
    """SHA-256 of the abbreviations table ("" without one): the index records it."""
    import hashlib

    if not ABBREVIATIONS_FILE.exists():
        return ""
    return hashlib.sha256(ABBREVIATIONS_FILE.read_bytes()).hexdigest()


def query_tokens(query: str) -> list[str]:
    """A question's BM25 tokens, then the articles' words for its everyday ones.

    "is it funded by the LA" also searches for "funding", "local", "authority" and
    "council"; each added word once, and none the question already has. The
    passages' tokens are not expanded, so the index needs no rebuild.
    """
    table = synonyms()
    found = tokens(query)
    extra = [w for t in found for w in table.get(t, ()) if w not in found]
    return found + list(dict.fromkeys(extra))


@dataclass(frozen=True, kw_only=True)
class Hit(Passage):
    """One passage found for a question: the passage (its text and source), and its scores."""

    dense: float
    bm25: float = 0.0
    fused: float = 0.0


def hit_of(row: dict[str, Any], dense: float, bm25: float = 0.0, fused: float = 0.0) -> Hit:
    """A hit from a passage row of the index."""
    return Hit(**fields_of(row), dense=dense, bm25=bm25, fused=fused)


@dataclass(frozen=True)
class Answer:
    """A short answer and where it came from, or an honest abstention."""

    abstained: bool
    text: str = ""
    hit: Hit | None = None


class Retriever:
    """Hybrid retriever over the knowledge index, loaded lazily once."""

    def __init__(self, index_dir: Path | None = None) -> None:
        self.index_dir = index_dir or get_settings().index_dir
        self._lock = threading.Lock()
        self._loaded = False
        # The vectors of a long section's sentences, by the sentences: the same
        # sections are cut for answer after answer (compose.py), and embedding their
        # sentences took about 50 ms each time. Keyed by the whole list, so a list is
        # always embedded in the same batch and gives the same vectors.
        self._text_vectors: OrderedDict[tuple[str, ...], Any] = OrderedDict()

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            import bm25s
            import faiss

            stored = index.load(self.index_dir)
            # One question is searched at a time: faiss's OpenMP threads only
            # spin against torch's (HNSW went from 0.6 to 12 ms with both loaded).
            faiss.omp_set_num_threads(1)
            # Likewise torch for a one-question embedding: on the 2 shared cores it
            # took ~24-44 ms p50 with one thread and ~480 ms with two under load
            # (benchmarks/retrieval.py). Ingest runs in its own process.
            use_threads(1)
            self._index = stored.index
            self._vectors = stored.vectors
            self._passages = stored.passages
            self._by_section = {
                (p["slug"], p["heading"]): i for i, p in reversed(list(enumerate(self._passages)))
            }
            # The written questions, and apart from them those about subjects no
            # article covers (knowledge/not_covered.yml, rows with a subject).
            off = [i for i, q in enumerate(stored.questions) if "subject" in q]
            on = [i for i, q in enumerate(stored.questions) if "subject" not in q]
            self._questions = [stored.questions[i] for i in on]
            self._question_vectors = stored.question_vectors[on]
            self._not_covered = [stored.questions[i] for i in off]
            self._not_covered_vectors = stored.question_vectors[off]
            self._subject_words = {q["subject"]: q.get("words", []) for q in self._not_covered}
            # Okapi BM25 with rank_bm25's defaults (k1 1.5, b 0.75), which the
            # retrieval cases were tuned with.
            self._bm25 = bm25s.BM25(method="robertson", k1=1.5, b=0.75)
            self._bm25.index(
                [
                    tokens(f"{p['title']} {p['heading']} {p['text']}") or [""]
                    for p in self._passages
                ],
                show_progress=False,
            )
            self._loaded = True

    def search(
        self, query: str, area: str | None = None, k: int = 5, mode: Mode = "hybrid", vector=None
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, another county's local facts demoted.

        Args:
            query: The question as typed.
            area: The person's county, if known: other counties' pages rank lower.
            k: How many passages to return.
            mode: "hybrid" (BM25 and dense fused by rank), "dense" or "bm25" alone.
            vector: The query's embedding, if already computed.

        Returns:
            The best passages, best first, each with its dense cosine, BM25 and
            fused scores.
        """
        import numpy as np

        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self._load()
        n = len(self._passages)
        if vector is None:
            vector = self._embed(query)
        vector = np.asarray(vector, dtype="float32").reshape(1, -1)
        dense: dict[int, float] = {}
        if mode != "bm25":
            scores, ids = self._index.search(vector, min(CANDIDATES, n))
            dense = {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}
        bm25_all = np.zeros(n, dtype="float32")
        bm25_top: list[int] = []
        searched = query_tokens(query)
        if mode != "dense" and searched:  # bm25s fails on an empty token list
            bm25_all = self._bm25.get_scores(searched)
            top = np.argpartition(-bm25_all, min(CANDIDATES, n - 1))[:CANDIDATES]
            bm25_top = [int(i) for i in top[np.argsort(-bm25_all[top])] if bm25_all[i] > 0]
        fused: dict[int, float] = {}
        for rank, i in enumerate(sorted(dense, key=lambda i: dense[i], reverse=True)):
            fused[i] = fused.get(i, 0.0) + 1 / (RRF_K + rank)
        for rank, i in enumerate(bm25_top):
            fused[i] = fused.get(i, 0.0) + 1 / (RRF_K + rank)
        for i in fused:
            passage_area = self._passages[i]["area"]
            if area in COUNTIES and passage_area in COUNTIES and passage_area != area:
                fused[i] *= 0.5
        best = sorted(fused, key=lambda i: fused[i], reverse=True)[:k]
        hits = []
        for i in best:
            if i not in dense:  # found by BM25 alone: its cosine, for the record
                dense[i] = float(np.asarray(self._vectors[i]) @ vector[0])
            hits.append(hit_of(self._passages[i], dense[i], float(bm25_all[i]), fused[i]))
        return hits

    def _embed(self, query: str):
        from bot.knowledge.embeddings import search_embed

        return search_embed([query])[0]

    def embed(self, query: str):
        """The query's embedding (one MiniLM call), for the other methods to share."""
        self._load()
        return self._embed(query)

    def embed_texts(self, texts: list[str]):
        """Several texts' embeddings in one model call, one row each."""
        from bot.knowledge.embeddings import search_embed

        self._load()
        return search_embed(texts)

    def reads_message_vectors(self) -> bool:
        """Whether a message's vector from the Rasa featurizer fits this index.

        Not when search embeds with the adapted model (:mod:`bot.knowledge.adapted`):
        the question is then embedded again, with it.
        """
        from bot.knowledge.embeddings import search_reads_message_vectors

        self._load()
        return search_reads_message_vectors()

    def question_matches(
        self, vector, k: int = CANDIDATES
    ) -> dict[tuple[str, str], tuple[float, str]]:
        """Sections whose written questions are nearest the query, best cosine each.

        Returns:
            ``{(slug, heading): (cosine, question)}`` for the ``k`` best questions.
        """
        import numpy as np

        self._load()
        if not len(self._questions):
            return {}
        scores = self._question_vectors @ np.asarray(vector, dtype="float32").reshape(-1)
        top = np.argsort(-scores)[:k]
        found: dict[tuple[str, str], tuple[float, str]] = {}
        for i in top:
            q = self._questions[int(i)]
            key = (q["slug"], q["heading"])
            if key not in found:
                found[key] = (float(scores[i]), q["question"])
        return found

    def not_covered(self, vector, subject: str | None = None) -> tuple[float, str, str]:
        """The question about a subject no article covers nearest the query.

        Args:
            vector: The query's vector.
            subject: Only that subject's questions, when given.

        Returns:
            ``(cosine, subject, question)``; ``(0.0, "", "")`` when there are none.
        """
        import numpy as np

        self._load()
        rows = [
            i for i, q in enumerate(self._not_covered) if subject is None or q["subject"] == subject
        ]
        if not rows:
            return 0.0, "", ""
        query = np.asarray(vector, dtype="float32").reshape(-1)
        scores = self._not_covered_vectors[rows] @ query
        best = int(np.argmax(scores))
        row = self._not_covered[rows[best]]
        return float(scores[best]), row["subject"], row["question"]

    def named_subject(self, question: str) -> tuple[str, str]:
        """The first subject no article covers that the question names by one of its words.

        Returns:
            ``(subject, word)``; ``("", "")`` when it names none.
        """
        self._load()
        for subject, words in self._subject_words.items():
            for word in words:
                if uses_word(question, word):
                    return subject, word
        return "", ""

    def question_vectors(self) -> tuple[Any, Any]:
        """The vectors of the written questions (which the articles answer) and of
        the questions about subjects no article covers, one row each."""
        self._load()
        return self._question_vectors, self._not_covered_vectors

    def _hit(self, i: int, vector, bm25: float = 0.0, fused: float = 0.0) -> Hit:
        import numpy as np

        dense = float(np.asarray(self._vectors[i]) @ np.asarray(vector).reshape(-1))
        return hit_of(self._passages[i], dense, bm25, fused)

    def section_bm25(self, query: str) -> dict[tuple[str, str], float]:
        """Each section's BM25 score for the query (its first passage's), when above 0.

        For candidates found by their written questions rather than by search, which
        would otherwise carry no BM25 score at all.
        """
        self._load()
        searched = query_tokens(query)
        if not searched:  # bm25s fails on an empty token list
            return {}
        scores = self._bm25.get_scores(searched)
        return {key: float(scores[i]) for key, i in self._by_section.items() if scores[i] > 0}

    def passage(self, slug: str, heading: str, vector) -> Hit | None:
        """The first passage of a section, scored against the query's vector."""
        self._load()
        i = self._by_section.get((slug, heading))
        return None if i is None else self._hit(i, vector)

    def next_passage(self, hit: Hit) -> Hit | None:
        """The passage after this one in the same article, if any (dense score 0)."""
        self._load()
        i = self._by_section.get((hit.slug, hit.heading))
        if i is None:
            return None
        for j in range(i + 1, len(self._passages)):
            p = self._passages[j]
            if p["slug"] != hit.slug:
                return None
            if p["heading"] != hit.heading:
                return hit_of(p, 0.0)
        return None

    def similarities(self, texts: list[str], vector) -> list[float]:
        """Cosine of each text to the query vector (embeds the texts)."""
        import numpy as np

        from bot.knowledge.embeddings import search_embed

        if not texts:
            return []
        key = tuple(texts)
        with self._lock:
            vectors = self._text_vectors.get(key)
            if vectors is not None:
                self._text_vectors.move_to_end(key)
        if vectors is None:
            vectors = search_embed(texts)
            with self._lock:
                self._text_vectors[key] = vectors
                while len(self._text_vectors) > TEXT_VECTORS_KEPT:
                    self._text_vectors.popitem(last=False)
        return [float(x) for x in vectors @ np.asarray(vector, dtype="float32").reshape(-1)]

    def answer(self, query: str, area: str | None = None, vector=None) -> Answer:
        """A short answer from the best passage, or an abstention when unsure."""
        if not query or not query.strip():
            return Answer(abstained=True)
        return answer_from(self.search(query[:MAX_QUERY_CHARS], area=area, k=3, vector=vector))


def answer_from(hits: list[Hit]) -> Answer:
    """The answer from search results (best first): the best passage, shortened,
    unless none of the top three is close enough in meaning to answer."""
    top = hits[:3]
    if not top or max(h.dense for h in top) < ABSTAIN_BELOW:
        return Answer(abstained=True)
    return Answer(abstained=False, text=shorten(top[0].text), hit=top[0])


def shorten(text: str, limit: int = MAX_ANSWER_WORDS) -> str:
    """Whole sentences up to ``limit`` words (at least the first sentence, cut)."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    kept: list[str] = []
    for sentence in sentences:
        if kept and len(" ".join(kept + [sentence]).split()) > limit:
            break
        kept.append(sentence)
    words = " ".join(kept).split()
    return " ".join(words[:limit]) + ("…" if len(words) > limit else "")
