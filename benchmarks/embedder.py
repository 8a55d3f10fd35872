"""MiniLM on PyTorch (sentence-transformers) against ONNX Runtime, side by side.

Run: ``.venv/bin/python benchmarks/embedder.py`` (``--no-stack`` skips the action
server part). It needs the ONNX file ``prepare`` builds (built here when missing).

Part 1, each backend in a fresh process, one thread as the services run it:

- seconds to import and load the model (PyTorch: torch + sentence-transformers;
  ONNX: onnxruntime + tokenizers),
- p50/p95 ms of embedding one message, 200 times,
- batch throughput: the knowledge passages' texts (or a fixed set) per second,
  batch 32,
- the process's resident memory after loading and embedding once,
- the largest difference from PyTorch's vectors over the same texts, and an int8
  (onnxruntime dynamic quantisation) column for comparison; int8 is not offered
  while its worst cosine stays below 0.99.

Part 2: the action server's start to answer (``/health`` answers only after the
model and the index are loaded, ``actions/__main__.py``), three starts each:
with the ONNX file, and without it (the sentence-transformers fallback, which is
what the action server did before); then from a kill -9 to answering again under
``bot.stack``'s supervisor, which waits 1 s before the restart (issue 14: 10 s).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import OFFLINE_ENV, REPO_ROOT, get_settings, use_offline_env  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from bot.stack.services import Stack

MESSAGE = "Who pays for the extra help at school?"
REPS = 200
BATCH = 32


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _texts() -> list[str]:
    """Up to 512 passages of the knowledge index, else a repeated fixed set."""
    from bot.knowledge.index import PASSAGES

    passages = get_settings().index_dir / PASSAGES
    texts: list[str] = []
    if passages.is_file():
        with open(passages, encoding="utf-8") as lines:
            for line in lines:
                texts.append(json.loads(line).get("text", ""))
                if len(texts) == 512:
                    break
    texts = [t for t in texts if t.strip()]
    return texts or [MESSAGE, "what is an ehcp", "my son has adhd and autism"] * 100


def child(backend: str, onnx_file: str | None) -> None:
    """Import and load one backend in this (fresh) process; print JSON."""
    use_offline_env()
    os.environ.setdefault("USE_TF", "0")
    started = time.perf_counter()
    from bot.knowledge import embeddings

    model = _load(embeddings, backend, onnx_file)
    model.encode([MESSAGE])
    load = time.perf_counter() - started
    print(json.dumps({"load": load, "rss": _rss_mb(), "torch": "torch" in sys.modules}))


def _load(embeddings, backend: str, onnx_file: str | Path | None):  # type: ignore[no-untyped-def]
    folder = embeddings.model_path()
    if backend == "torch":
        return embeddings.TorchMiniLM(folder, threads=1)
    return embeddings.OnnxMiniLM(Path(onnx_file or ""), folder, threads=1)


def run_child(backend: str, onnx_file: Path | None = None) -> dict:
    command = [sys.executable, __file__, "--child", backend]
    if onnx_file:
        command += ["--onnx", str(onnx_file)]
    env = dict(os.environ, **OFFLINE_ENV, PYTHONPATH=str(REPO_ROOT), USE_TF="0")
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, env=env, check=False
    )
    if done.returncode:
        raise SystemExit(f"{backend} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def speed(files: dict[str, Path | None]) -> dict[str, dict]:
    """Latency, throughput and vectors of every backend, in one process.

    The backends take turns (one message each, round after round; then one batch
    pass each, three rounds), so a busy shared machine slows them alike.
    """

    import yaml

    from bot.knowledge import embeddings

    texts = REPO_ROOT / "evaluation" / "embedding_texts.yml"
    TEXTS = yaml.safe_load(texts.read_text(encoding="utf-8"))  # noqa: N806

    models = {
        name: _load(embeddings, "torch" if path is None else "onnx", path)
        for name, path in files.items()
    }
    timings: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(REPS):
        for name, model in models.items():
            t = time.perf_counter()
            model.encode([MESSAGE])
            timings[name].append((time.perf_counter() - t) * 1000)
    texts = _texts()
    rates: dict[str, list[float]] = {name: [] for name in models}
    vectors = {}
    for _ in range(3):
        for name, model in models.items():
            t = time.perf_counter()
            vectors[name] = model.encode(texts, batch_size=BATCH)
            rates[name].append(len(texts) / (time.perf_counter() - t))
    results = {}
    for name, model in models.items():
        ordered = sorted(timings[name])
        results[name] = {
            "p50": statistics.median(ordered),
            "p95": ordered[int(0.95 * (len(ordered) - 1))],
            "throughput": statistics.median(rates[name]),
            "texts": len(texts),
            "vectors": vectors[name],
            "check": model.encode(TEXTS),
        }
    return results


def compare_backends() -> None:
    import numpy as np
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from bot.knowledge.embeddings import export_onnx

    onnx_file = export_onnx()
    int8 = Path(tempfile.mkdtemp(prefix="senbot-int8-")) / "minilm-int8.onnx"
    quantize_dynamic(str(onnx_file), str(int8), weight_type=QuantType.QInt8)
    files: dict[str, Path | None] = {"PyTorch": None, "ONNX fp32": onnx_file, "ONNX int8": int8}
    results = {
        name: run_child("torch" if path is None else "onnx", path) for name, path in files.items()
    }
    for name, figures in speed(files).items():
        results[name].update(figures)
    reference = results["PyTorch"]
    names = list(results)
    rows = [
        ("import + load, fresh process (s)", "load", "{:.2f}"),
        (f"one message p50 (ms, {REPS} reps)", "p50", "{:.1f}"),
        (f"one message p95 (ms, {REPS} reps)", "p95", "{:.1f}"),
        (f"batch throughput (texts/s, batch {BATCH})", "throughput", "{:.0f}"),
        ("process RSS after load (MB)", "rss", "{:.0f}"),
        ("torch imported", "torch", "{}"),
    ]
    width = 42
    print(f"{'':<{width}}" + "".join(f"{n:>12}" for n in names))
    for label, key, fmt in rows:
        print(f"{label:<{width}}" + "".join(f"{fmt.format(results[n][key]):>12}" for n in names))
    for label, key in (
        ("max |diff| vs PyTorch, passages", "vectors"),
        ("max |diff| vs PyTorch, 42 test texts", "check"),
    ):
        cells = [f"{np.abs(results[n][key] - reference[key]).max():.1e}" for n in names]
        print(f"{label:<{width}}" + "".join(f"{c:>12}" for c in cells))
    cells = [f"{(results[n]['check'] * reference['check']).sum(axis=1).min():.4f}" for n in names]
    print(f"{'min cosine vs PyTorch, 42 test texts':<{width}}" + "".join(f"{c:>12}" for c in cells))
    print(
        f"(one thread each, as the services run; batch throughput over {reference['texts']} "
        "knowledge passages; int8 is not offered: its worst cosine must be >= 0.99)"
    )


def _rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _crash_to_answer(stack: Stack) -> float:
    """Kill the action server (SIGKILL) under the supervisor; seconds until it answers."""
    import signal
    import threading

    from bot.stack.services import _answers

    service = stack.services["actions"]
    stop = threading.Event()
    supervisor = threading.Thread(target=stack.supervise, args=(stop,), daemon=True)
    supervisor.start()
    try:
        killed = time.monotonic()
        os.killpg(service.process.pid, signal.SIGKILL)
        while _answers(service.health_url):  # until the old process is gone
            time.sleep(0.05)
        while not _answers(service.health_url):
            time.sleep(0.1)
        return time.monotonic() - killed
    finally:
        stop.set()
        supervisor.join()


def action_server_start(repeats: int = 3) -> None:
    """Seconds from starting the action server to its /health answering, and from
    a crash to its answering again under ``bot.stack``'s supervisor (1 s pause)."""
    from bot.stack.prepare import loopback_settings
    from bot.stack.services import Stack

    base = loopback_settings("senbot-bench-embedder-")
    # No ONNX file in an empty var/ (the index stays var/index): the fallback.
    without = dataclasses.replace(base, var_dir=Path(tempfile.mkdtemp(prefix="senbot-noonnx-")))
    print(f"\naction server, start to answer ({repeats} starts each), then kill -9 to answer")
    for label, settings in (("sentence-transformers (before)", without), ("ONNX", base)):
        times, rss = [], []
        crash = float("nan")
        for attempt in range(repeats):
            stack = Stack(settings, log=lambda line: None)
            stack.services = {"actions": stack.services["actions"]}
            try:
                times.append(stack.start(["actions"]))
                pid = stack.services["actions"].process.pid
                rss.append(_rss_of(pid))
                torch = "libtorch" in Path(f"/proc/{pid}/maps").read_text()
                if attempt == repeats - 1:
                    crash = _crash_to_answer(stack)
            finally:
                stack.stop()
        print(
            f"  {label:<32} {' '.join(f'{t:.1f}' for t in times)} s "
            f"(median {statistics.median(times):.1f} s), RSS {statistics.median(rss):.0f} MB, "
            f"libtorch loaded: {torch}; kill -9 to answer {crash:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["torch", "onnx"], help=argparse.SUPPRESS)
    parser.add_argument("--onnx", help=argparse.SUPPRESS)
    parser.add_argument("--no-stack", action="store_true", help="skip the action server part")
    parser.add_argument("--starts", type=int, default=3, help="action server starts each")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.onnx)
        return
    compare_backends()
    if not args.no_stack:
        action_server_start(args.starts)


if __name__ == "__main__":
    main()
