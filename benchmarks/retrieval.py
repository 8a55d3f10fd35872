"""Retrieval speed and index size on this machine, printed as tables.

Run: ``.venv/bin/python benchmarks/retrieval.py`` (``--quick`` skips 100,000).
It reports:

1. hybrid search p50/p95 at the real corpus size (the index ``make run`` builds,
   or one built from the articles), with the query embedding and pre-embedded
   (target: <= 15 ms p50);
2. dense search p50/p95 and recall@10 against exact search at 10,000 and
   100,000 synthetic passages for faiss ``IndexFlatIP``, ``IndexIVFFlat``
   (nlist ~ sqrt(n), several nprobe) and ``IndexHNSWFlat`` (target: one type
   <= 20 ms at 100k). Two synthetic sets: random unit vectors (the worst case
   for IVF and HNSW: no clusters) and "corpus-like" vectors, the real passages'
   embeddings with noise, queried with the real test questions;
3. BM25 at 100,000 passages (sentences shuffled from the corpus): ``rank_bm25``
   against ``bm25s``;
4. the whole hybrid search at 100,000 passages, on the index type ingest picks;
5. cold ingest time of the five seed pages (raw ingest) and of the articles,
   and the size of the indexes on disk.

No timed tests: this prints figures. The machine is shared, so run it twice and
read the better run.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from bot.knowledge import ingest  # noqa: E402
from bot.knowledge.articles import passages_of  # noqa: E402
from bot.knowledge.embeddings import DIMENSION, get_model  # noqa: E402
from bot.knowledge.embeddings import search_embed as embed  # noqa: E402
from bot.knowledge.index import VECTORS, dense_index, save  # noqa: E402
from bot.knowledge.search import CANDIDATES, Retriever, tokens  # noqa: E402
from bot.settings import REPO_ROOT, get_settings  # noqa: E402

ARTICLES = REPO_ROOT / "knowledge" / "articles"
CASES = yaml.safe_load((REPO_ROOT / "evaluation" / "retrieval_cases.yml").read_text())
QUESTIONS = [c["q"] for c in CASES["cases"]]


def seeds_dir() -> Path | None:
    for folder in (REPO_ROOT.parent / "shared" / "seeds", Path("/work/shared/seeds")):
        if folder.is_dir():
            return folder
    return None


def pct(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of samples in seconds, as milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


def size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype("float32")


def real_index(tmp: Path) -> Path:
    index_dir = get_settings().index_dir
    if ingest.is_up_to_date([ARTICLES], index_dir):
        return index_dir
    index_dir = tmp / "real"
    ingest.build([ARTICLES], index_dir)
    return index_dir


def bench_real(index_dir: Path) -> None:
    retriever = Retriever(index_dir)
    retriever.search("warm up")
    vectors = embed(QUESTIONS)
    with_embedding = timed(lambda q: retriever.search(q, k=5), QUESTIONS * 2)
    pre = timed(
        lambda qv: retriever.search(qv[0], k=5, vector=qv[1]), list(zip(QUESTIONS, vectors)) * 2
    )
    embedding = timed(lambda q: embed([q]), QUESTIONS)
    n = len(retriever._passages)
    print(f"\n1. Hybrid search at the real size ({n} passages, {len(QUESTIONS)} questions x2)")
    print(f"   {'what':44} {'p50 ms':>8} {'p95 ms':>8}")
    for name, samples in (
        ("hybrid search incl. query embedding", with_embedding),
        ("hybrid search, query pre-embedded", pre),
        ("query embedding alone", embedding),
    ):
        p50, p95 = pct(samples)
        print(f"   {name:44} {p50:8.2f} {p95:8.2f}")


def corpus_like(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n vectors scattered around the real passages' embeddings."""
    picks = base[rng.integers(0, len(base), n)]
    return unit(picks + rng.normal(0, 0.045, picks.shape).astype("float32"))


def bench_dense(sizes: list[int], base: np.ndarray, questions: np.ndarray) -> None:
    import faiss

    rng = np.random.default_rng(7)
    k = 10
    faiss.omp_set_num_threads(1)  # as the retriever serves: one query at a time
    print(f"\n2. Dense search alone, one query at a time, top {CANDIDATES} (recall@{k} vs exact)")
    print(
        f"   {'set':12} {'n':>7} {'index':34} {'build s':>8} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'recall':>7}"
    )
    for n in sizes:
        sets = {
            "random": (
                unit(rng.normal(size=(n, DIMENSION))),
                unit(rng.normal(size=(100, DIMENSION))),
            ),
            "corpus-like": (corpus_like(base, n, rng), questions),
        }
        for set_name, (data, queries) in sets.items():
            flat = faiss.IndexFlatIP(DIMENSION)
            flat.add(data)
            _, truth = flat.search(queries, k)
            nlist = int(math.sqrt(n))
            candidates = [("IndexFlatIP", flat, 0.0)]
            start = time.perf_counter()
            ivf = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(DIMENSION), DIMENSION, nlist, faiss.METRIC_INNER_PRODUCT
            )
            ivf.train(data)
            ivf.add(data)
            ivf_build = time.perf_counter() - start
            for nprobe in (8, 16, 32):
                candidates.append(
                    (f"IndexIVFFlat nlist={nlist} nprobe={nprobe}", (ivf, nprobe), ivf_build)
                )
            start = time.perf_counter()
            hnsw = faiss.IndexHNSWFlat(DIMENSION, 32, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = 40
            hnsw.add(data)
            hnsw.hnsw.efSearch = 64
            candidates.append(("IndexHNSWFlat M=32 efSearch=64", hnsw, time.perf_counter() - start))
            for name, index, build_s in candidates:
                if isinstance(index, tuple):
                    index, nprobe = index
                    index.nprobe = nprobe
                samples = timed(
                    lambda q, index=index: index.search(q.reshape(1, -1), CANDIDATES),
                    list(queries),
                )
                _, found = index.search(queries, k)
                recall = np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth)])
                p50, p95 = pct(samples)
                print(
                    f"   {set_name:12} {n:7} {name:34} {build_s:8.1f} {p50:8.2f} "
                    f"{p95:8.2f} {recall:7.3f}"
                )


def synthetic_passages(n: int, rng: random.Random) -> list[dict]:
    """n passages of three sentences shuffled from the real corpus."""
    sentences = []
    for path in sorted(ARTICLES.glob("*.md")):
        for passage in passages_of(path):
            sentences += [s for s in re.split(r"(?<=[.!?])\s+", passage.text) if s]
    out = []
    for i in range(n):
        text = " ".join(rng.choice(sentences) for _ in range(3))
        out.append(
            {
                "slug": f"synthetic-{i % 500}",
                "title": "Synthetic passage",
                "heading": f"Part {i}",
                "text": text,
                "area": "England",
                "audience": "everyone",
                "source_title": "Synthetic",
                "source_publisher": "benchmark",
                "source_section": "",
                "source_file": "",
            }
        )
    return out


def bench_bm25(passages: list[dict]) -> None:
    import bm25s
    from rank_bm25 import BM25Okapi

    corpus = [tokens(f"{p['title']} {p['heading']} {p['text']}") for p in passages]
    queries = [tokens(q) for q in QUESTIONS[:40]]
    print(f"\n3. BM25 alone at {len(passages)} passages ({len(queries)} questions)")
    print(f"   {'library':20} {'index s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    start = time.perf_counter()
    fast = bm25s.BM25(method="robertson", k1=1.5, b=0.75)
    fast.index(corpus, show_progress=False)
    built = time.perf_counter() - start

    def bm25s_top(q):
        scores = fast.get_scores(q)
        top = np.argpartition(-scores, CANDIDATES)[:CANDIDATES]
        return top[np.argsort(-scores[top])]

    p50, p95 = pct(timed(bm25s_top, queries))
    print(f"   {'bm25s 0.3.11':20} {built:8.1f} {p50:8.2f} {p95:8.2f}")
    start = time.perf_counter()
    slow = BM25Okapi(corpus)
    built = time.perf_counter() - start
    p50, p95 = pct(timed(lambda q: np.argsort(-slow.get_scores(q))[:CANDIDATES], queries[:10]))
    print(f"   {'rank_bm25 0.2.2':20} {built:8.1f} {p50:8.2f} {p95:8.2f}  (10 questions)")


def bench_hybrid_at(passages: list[dict], base: np.ndarray, tmp: Path) -> None:
    rng = np.random.default_rng(11)
    matrix = corpus_like(base, len(passages), rng)
    index_dir = tmp / "synthetic"
    start = time.perf_counter()
    dense, kind = dense_index(matrix)
    manifest = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "dimension": DIMENSION,
        "passages": len(passages),
        **kind,
    }
    save(index_dir, passages, matrix, manifest, dense)
    built = time.perf_counter() - start
    retriever = Retriever(index_dir)
    start = time.perf_counter()
    retriever.search("warm up")
    loaded = time.perf_counter() - start
    vectors = embed(QUESTIONS)
    pre = timed(
        lambda qv: retriever.search(qv[0], k=5, vector=qv[1]), list(zip(QUESTIONS, vectors))
    )
    full = timed(lambda q: retriever.search(q, k=5), QUESTIONS)
    desc = kind["index_type"] + (
        f" nlist={kind['nlist']} nprobe={kind['nprobe']}" if "nlist" in kind else ""
    )
    print(
        f"\n4. Whole hybrid search at {len(passages)} passages ({desc}, as ingest "
        f"chooses; dense index built in {built:.1f} s, loaded with BM25 in {loaded:.1f} s)"
    )
    for name, samples in (("incl. query embedding", full), ("query pre-embedded", pre)):
        p50, p95 = pct(samples)
        print(f"   {name:44} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")
    print(f"   index on disk: {size_mb(index_dir):.1f} MB")


def bench_ingest(tmp: Path, index_dir: Path) -> None:
    print("\n5. Cold ingest (nothing reused; model already loaded) and size on disk")
    seeds = seeds_dir()
    if seeds is not None:
        pages = sorted(seeds.glob("*.txt"))
        start = time.perf_counter()
        manifest = ingest.build([], tmp / "seeds", raw=pages)
        took = time.perf_counter() - start
        print(
            f"   five seed pages (raw): {manifest['passages']} passages in {took:.1f} s, "
            f"{size_mb(tmp / 'seeds') * 1000:.0f} kB on disk"
        )
    else:
        print("   seed pages not found (../shared/seeds): raw ingest not measured")
    start = time.perf_counter()
    manifest = ingest.build([ARTICLES], tmp / "articles")
    took = time.perf_counter() - start
    print(
        f"   {len(manifest['sources'])} articles: {manifest['passages']} passages in "
        f"{took:.1f} s, {size_mb(tmp / 'articles') * 1000:.0f} kB on disk"
    )
    print(f"   served index {index_dir}: {size_mb(index_dir) * 1000:.0f} kB on disk")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 passages only")
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [10_000, 100_000]
    tmp = Path(tempfile.mkdtemp(prefix="senbot-retrieval-bench-"))
    try:
        start = time.perf_counter()
        get_model()
        embed(["warm up"])
        print(
            f"Embedding model loaded in {time.perf_counter() - start:.1f} s "
            f"(this machine: {__import__('os').cpu_count()} CPUs, shared)"
        )
        index_dir = real_index(tmp)
        bench_real(index_dir)
        base = np.load(index_dir / VECTORS)
        bench_dense(sizes, base, embed(QUESTIONS))
        passages = synthetic_passages(sizes[-1], random.Random(3))
        bench_bm25(passages)
        bench_hybrid_at(passages, base, tmp)
        bench_ingest(tmp, index_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
