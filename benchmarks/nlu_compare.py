"""Sparse vs dense (MiniLM) intent classification on the held-out messages.

Run: ``.venv/bin/python benchmarks/nlu_compare.py [--errors]``.

In one run it trains Rasa's default sparse pipeline
(``benchmarks/nlu_configs/sparse.yml``) and the same pipeline plus the MiniLM
featurizer (``benchmarks/nlu_configs/dense.yml``) on the same training data
(``data/nlu`` + ``domain.yml``, DIET's fixed ``random_seed``), parses every
message of ``evaluation/nlu_holdout.yml`` with each model and prints, side by side:
accuracy, macro-F1, the lowest per-intent F1 (and its intent), out-of-scope
recall and the p50 time to parse one message. ``--errors`` also lists every
misclassified message.

``--model PATH`` skips training and scores one trained model instead (for
example the production ``var/models/senbot.tar.gz``).

``--config NAME=PATH`` (repeatable) compares other pipelines; ``--seeds 1,2,3``
trains one model per DIET seed, to see how far a figure moves with the seed alone;
``--extra FILE`` trains on an NLU file beside ``data/nlu``; ``--splits N`` also
scores N seeded 80/20 splits of the training data, a validation figure for choosing
a pipeline without reading the held-out messages.

The predicted intent is the one the assistant acts on: when the
FallbackClassifier is unsure it is ``nlu_fallback``, which counts as wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.settings import use_offline_env  # noqa: E402

use_offline_env()

HOLDOUT = REPO_ROOT / "evaluation" / "nlu_holdout.yml"
CONFIGS = {
    "sparse": REPO_ROOT / "benchmarks" / "nlu_configs" / "sparse.yml",
    "dense": REPO_ROOT / "benchmarks" / "nlu_configs" / "dense.yml",
}
OUT_OF_SCOPE = "out_of_scope"


@dataclass
class Scores:
    """How one model did on the held-out messages."""

    name: str
    accuracy: float
    macro_f1: float
    lowest_f1: float
    lowest_intent: str
    oos_recall: float
    p50_ms: float
    per_intent_f1: dict[str, float] = field(default_factory=dict)
    # (text, expected, predicted, confidence, the classifier's own top intent)
    errors: list[tuple[str, str, str, float, str]] = field(default_factory=list)


def load_holdout(path: Path = HOLDOUT) -> list[tuple[str, str]]:
    """The held-out (text, intent) pairs, read with Rasa's own YAML reader."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        (message.get("text"), message.get("intent"))
        for message in data.training_examples
        if message.get("intent")
    ]


def score(
    name: str,
    expected: Sequence[str],
    predicted: Sequence[str],
    confidences: Sequence[float],
    texts: Sequence[str],
    seconds: Sequence[float],
    top_intents: Sequence[str] | None = None,
) -> Scores:
    """Accuracy, macro-F1 over the holdout's intents, OOS recall, p50 latency."""
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    labels = sorted(set(expected))
    per_intent = f1_score(expected, predicted, labels=labels, average=None, zero_division=0)
    per_intent_f1 = {label: float(value) for label, value in zip(labels, per_intent)}
    lowest_intent = min(per_intent_f1, key=lambda label: per_intent_f1[label])
    oos = (
        recall_score(
            expected,
            predicted,
            labels=[OUT_OF_SCOPE],
            average="macro",
            zero_division=0,
        )
        if OUT_OF_SCOPE in labels
        else float("nan")
    )
    tops = top_intents if top_intents is not None else predicted
    errors = [
        (text, want, got, conf, top)
        for text, want, got, conf, top in zip(texts, expected, predicted, confidences, tops)
        if want != got
    ]
    return Scores(
        name=name,
        accuracy=float(accuracy_score(expected, predicted)),
        macro_f1=float(
            f1_score(expected, predicted, labels=labels, average="macro", zero_division=0)
        ),
        lowest_f1=per_intent_f1[lowest_intent],
        lowest_intent=lowest_intent,
        oos_recall=float(oos),
        p50_ms=statistics.median(seconds) * 1000 if seconds else float("nan"),
        per_intent_f1=per_intent_f1,
        errors=errors,
    )


async def _parse_all(
    model_path: Path, texts: Sequence[str]
) -> tuple[list[str], list[float], list[float], list[str]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    await agent.parse_message("hello")  # the first parse pays for lazy loading
    predicted, confidences, seconds, tops = [], [], [], []
    for text in texts:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        seconds.append(time.perf_counter() - started)
        intent = parsed.get("intent") or {}
        predicted.append(intent.get("name") or "")
        confidences.append(float(intent.get("confidence") or 0.0))
        # with nlu_fallback on top, the ranking still holds the classifier's guess
        ranking = [r for r in parsed.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
        tops.append(ranking[0]["name"] if ranking else "")
    return predicted, confidences, seconds, tops


def evaluate_model(
    model_path: Path, name: str, holdout: list[tuple[str, str]] | None = None
) -> Scores:
    """Parse every held-out message with a trained model and score it.

    Args:
        model_path: A trained Rasa model (``.tar.gz``).
        name: The label printed for this model.
        holdout: (text, intent) pairs; the project's holdout when omitted.

    Returns:
        The model's scores and its misclassified messages.
    """
    pairs = holdout if holdout is not None else load_holdout()
    texts = [text for text, _ in pairs]
    expected = [intent for _, intent in pairs]
    predicted, confidences, seconds, tops = asyncio.run(_parse_all(model_path, texts))
    return score(name, expected, predicted, confidences, texts, seconds, tops)


def seeded_config(config: Path, seed: int | None, out_dir: Path) -> Path:
    """The config with every DIET ``random_seed`` set to ``seed`` (a copy in out_dir)."""
    if seed is None:
        return config
    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load(config.read_text(encoding="utf-8"))
    for component in data.get("pipeline") or []:
        if "random_seed" in component or component.get("name") == "DIETClassifier":
            component["random_seed"] = seed
    copy = out_dir / f"{config.stem}-seed{seed}.yml"
    with copy.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return copy


def training_files(out_dir: Path, extra: Sequence[Path]) -> Path:
    """``data/nlu`` plus any extra NLU files, as one folder Rasa can read."""
    if not extra:
        return REPO_ROOT / "data" / "nlu"
    import shutil

    folder = out_dir / "nlu_with_extra"
    shutil.copytree(REPO_ROOT / "data" / "nlu", folder, dirs_exist_ok=True)
    for number, path in enumerate(extra):
        shutil.copy(path, folder / f"extra_{number}_{path.name}")
    return folder


def train(
    name: str, out_dir: Path, config: Path | None = None, nlu_data: Path | None = None
) -> Path:
    """Train one NLU-only model from ``nlu_data`` (``data/nlu``) and ``domain.yml``."""
    import rasa.telemetry

    # Rasa would otherwise start Sentry error reporting (see scripts/rasa_cli.py).
    rasa.telemetry.initialize_error_reporting = lambda: None
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    result = train_nlu(
        config=str(config or CONFIGS[name]),
        nlu_data=str(nlu_data or REPO_ROOT / "data" / "nlu"),
        output=str(out_dir),
        domain=str(REPO_ROOT / "domain.yml"),
        fixed_model_name=name,
    )
    if not result:
        raise SystemExit(f"training the {name} pipeline failed")
    print(f"trained {name} in {time.perf_counter() - started:.0f} s", flush=True)
    return Path(result)


def validation_splits(
    nlu_data: Path, splits: int, out_dir: Path
) -> list[tuple[Path, list[tuple[str, str]]]]:
    """``splits`` seeded 80/20 splits of the training data, stratified by intent.

    Each is a training file (with the lookup tables and synonyms) and the 20% of
    (text, intent) pairs kept out of it: a validation figure that never reads the
    held-out set, for choosing between pipelines.
    """
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(nlu_data))
    found = []
    for seed in range(splits):
        train_part, test_part = data.train_test_split(train_frac=0.8, random_seed=seed)
        path = out_dir / f"split{seed}.yml"
        path.write_text(train_part.nlu_as_yaml(), encoding="utf-8")
        pairs = [
            (m.get("text"), m.get("intent")) for m in test_part.training_examples if m.get("intent")
        ]
        found.append((path, pairs))
    return found


def table(results: Sequence[Scores]) -> str:
    """The figures side by side, one column per model."""
    rows = [
        ("", [r.name for r in results]),
        ("accuracy", [f"{r.accuracy:.3f}" for r in results]),
        ("macro-F1", [f"{r.macro_f1:.3f}" for r in results]),
        ("lowest intent F1", [f"{r.lowest_f1:.3f}" for r in results]),
        ("  (intent)", [r.lowest_intent for r in results]),
        ("out_of_scope recall", [f"{r.oos_recall:.3f}" for r in results]),
        ("parse p50 (ms)", [f"{r.p50_ms:.1f}" for r in results]),
        ("misclassified", [str(len(r.errors)) for r in results]),
    ]
    width = max(24, *(len(v) + 2 for _, values in rows for v in values))
    return "\n".join(
        f"{label:<22}" + "".join(f"{value:>{width}}" for value in values) for label, values in rows
    )


def print_errors(result: Scores) -> None:
    """Every misclassified held-out message: expected, got, confidence."""
    print(f"\nmisclassified by {result.name} ({len(result.errors)}):")
    for text, want, got, conf, top in result.errors:
        guess = f" (classifier: {top})" if got == "nlu_fallback" else ""
        print(f"  want {want:<22} got {got:<14} {conf:.2f}  {text}{guess}")


def quiet() -> None:
    """Keep Rasa's per-message debug lines out of the printed figures."""
    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def _named_config(text: str) -> tuple[str, Path]:
    name, _, path = text.partition("=")
    if not path:
        raise argparse.ArgumentTypeError("--config takes NAME=PATH")
    return name, Path(path)


def _average(name: str, results: Sequence[Scores]) -> Scores:
    """The mean of several runs' figures (errors from all of them)."""
    lowest = min(results, key=lambda r: r.lowest_f1)
    return Scores(
        name=name,
        accuracy=statistics.mean(r.accuracy for r in results),
        macro_f1=statistics.mean(r.macro_f1 for r in results),
        lowest_f1=lowest.lowest_f1,
        lowest_intent=lowest.lowest_intent,
        oos_recall=statistics.mean(r.oos_recall for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        errors=[error for r in results for error in r.errors],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="list the misclassified messages")
    parser.add_argument("--only", choices=sorted(CONFIGS), help="train and score one pipeline only")
    parser.add_argument("--model", type=Path, help="score this trained model instead of training")
    parser.add_argument(
        "--config",
        type=_named_config,
        action="append",
        metavar="NAME=PATH",
        help="compare this pipeline (repeatable; replaces the sparse/dense pair)",
    )
    parser.add_argument(
        "--seeds",
        default="",
        help="comma-separated DIET random seeds: one model per seed and pipeline",
    )
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="an NLU file trained on beside data/nlu (repeatable)",
    )
    parser.add_argument(
        "--splits",
        type=int,
        default=0,
        help="also score N seeded 80/20 validation splits of the training data",
    )
    args = parser.parse_args(argv)
    quiet()

    holdout = load_holdout()
    print(
        f"{len(holdout)} held-out messages, {len({intent for _, intent in holdout})} intents",
        flush=True,
    )
    if args.model:
        results = [evaluate_model(args.model, args.model.name, holdout)]
        print()
        print(table(results))
        if args.errors:
            print_errors(results[0])
        return 0
    if args.config:
        configs = dict(args.config)
    else:
        names = [args.only] if args.only else ["sparse", "dense"]
        configs = {name: CONFIGS[name] for name in names}
    seeds: list[int | None] = [int(s) for s in args.seeds.split(",") if s] or [None]
    results, validation = [], []
    with tempfile.TemporaryDirectory(prefix="nlu_compare_") as tmp:
        out = Path(tmp)
        nlu_data = training_files(out, args.extra)
        splits = validation_splits(nlu_data, args.splits, out) if args.splits else []
        for name, config in configs.items():
            for seed in seeds:
                label = name if seed is None else f"{name}/s{seed}"
                seeded = seeded_config(config, seed, out)
                model = train(label.replace("/", "-"), out, seeded, nlu_data)
                results.append(evaluate_model(model, label, holdout))
                if splits:
                    runs = []
                    for number, (split_file, pairs) in enumerate(splits):
                        split_model = train(
                            f"{label.replace('/', '-')}-split{number}", out, seeded, split_file
                        )
                        runs.append(evaluate_model(split_model, label, pairs))
                    validation.append(_average(label, runs))
    print("\nheld-out messages (evaluation/nlu_holdout.yml):")
    print(table(results))
    if validation:
        print(f"\nvalidation: mean of {args.splits} seeded 80/20 splits of the training data:")
        print(table(validation))
    if args.errors:
        for result in results:
            print_errors(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
