"""Crisis detection on both halves of the safety sets, per category, and crisis-reply latency.

Run: ``.venv/bin/python benchmarks/safety.py`` (after ``make test`` or ``make run``
has trained the model and built the index). It prints:

- the detector alone (``bot.safety.check``, model warm) on the **tuning half**
  (``evaluation/safety/*.yml``: the learned layer trains on it and the patterns were
  written against it, so its figures are optimistic) and on the **held-out half**
  (``evaluation/safety/heldout/``: written in a separate pass from the categories alone;
  no pattern, phrase or threshold is ever changed after reading its misses), per
  category: how many got the crisis or safeguarding reply, how many the check-in,
  and how many nothing;
- through ``/webhooks/rest/webhook`` of the real stack (action server, Rasa, widget
  on free loopback ports), for both halves: how many crisis and disclosure
  messages got the help routes (the crisis reply, the safeguarding reply, or the
  check-in, which carries the routes), how many ordinary messages got the
  emergency reply or the check-in, per category, and the crisis reply's latency
  (target p95 <= 100 ms).

``--models`` also compares the learned layer's candidate classifiers on
out-of-fold predictions of the tuning half. ``--detector-only`` skips the REST part.
``--leave-pass-out`` runs only the check used to choose the detector's thresholds:
each tuning pass written by its own hand (fourth to sixth) is left out in turn, the
learned layer is fitted on the rest, and the whole detector runs on the pass left
out, as it would on messages from a new writer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import loopback_settings, percentile  # noqa: E402
from bot.knowledge.embeddings import use_threads  # noqa: E402
from bot.safety import detector as safety  # noqa: E402
from bot.safety import learned  # noqa: E402
from bot.safety.data import CHECK_IN_MARK, EMERGENCY_MARKS, NONE, group_kind  # noqa: E402
from bot.settings import REPO_ROOT  # noqa: E402
from bot.stack.prepare import prepare  # noqa: E402
from bot.stack.services import Stack  # noqa: E402

TUNING = REPO_ROOT / "evaluation" / "safety"
HELDOUT = TUNING / "heldout"
# In every crisis, safeguarding and check-in reply (tests/safety/test_responses.py).
ROUTES = ("999", "0800 1111")


def load(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {group: [str(m) for m in items] for group, items in data.items()}


def mixed(path: Path, prefix: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """A mixed set's (risk, ordinary) groups, named ``prefix/group`` (see ``group_kind``)."""
    risk: dict[str, list[str]] = {}
    ordinary: dict[str, list[str]] = {}
    for group, items in load(path).items():
        (ordinary if group_kind(group) == NONE else risk)[f"{prefix}/{group}"] = items
    return risk, ordinary


def halves() -> dict[str, dict[str, dict[str, list[str]]]]:
    """{half: {"risk": {category: messages}, "ordinary": {category: messages}}}."""
    more_risk, more_ordinary = mixed(TUNING / "more_tuning.yml", "more")
    fourth_risk, fourth_ordinary = mixed(TUNING / "fourth_tuning.yml", "fourth")
    fifth_risk, fifth_ordinary = mixed(TUNING / "fifth_tuning.yml", "fifth")
    sixth_risk, sixth_ordinary = mixed(TUNING / "sixth_tuning.yml", "sixth")
    second_risk, second_ordinary = mixed(HELDOUT / "second_writer.yml", "second")
    third_risk, third_ordinary = mixed(HELDOUT / "third_writer.yml", "third")
    tuning_risk = {f"crisis/{g}": m for g, m in load(TUNING / "crisis.yml").items()}
    tuning_risk |= {f"disclosure/{g}": m for g, m in load(TUNING / "disclosure.yml").items()}
    tuning_risk |= {f"signs/{g}": m for g, m in load(TUNING / "warning_signs.yml").items()}
    held_risk = {f"crisis/{g}": m for g, m in load(HELDOUT / "crisis.yml").items()}
    held_risk |= {f"disclosure/{g}": m for g, m in load(HELDOUT / "disclosure.yml").items()}
    return {
        "tuning": {
            "risk": tuning_risk | more_risk | fourth_risk | fifth_risk | sixth_risk,
            "ordinary": load(TUNING / "not_crisis.yml")
            | more_ordinary
            | fourth_ordinary
            | fifth_ordinary
            | sixth_ordinary,
        },
        "held-out": {
            "risk": held_risk | second_risk | third_risk,
            "ordinary": load(HELDOUT / "not_crisis.yml") | second_ordinary | third_ordinary,
        },
    }


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
        f"max {max(values):.1f} ms"
    )


def table(title: str, rows: dict[str, tuple[int, int, int]], risk: bool) -> None:
    """rows: category -> (emergency, check-in, n)."""
    print(f"\n{title}")
    head = "routes (emergency + check-in)" if risk else "false alarms (emergency + check-in)"
    print(f"  {'category':44} {'n':>4}  {head}")
    total = [0, 0, 0]
    for category, (emergency, check_in, n) in rows.items():
        total = [total[0] + emergency, total[1] + check_in, total[2] + n]
        share = (emergency + check_in) / n if n else 0.0
        print(
            f"  {category:44} {n:>4}  {emergency + check_in:>3} = {share:.3f} "
            f"({emergency} + {check_in})"
        )
    emergency, check_in, n = total
    print(
        f"  {'ALL':44} {n:>4}  {emergency + check_in:>3} = {(emergency + check_in) / n:.3f} "
        f"({emergency} + {check_in}); emergency reply alone {emergency / n:.3f}"
    )


def detector(sets: dict) -> None:
    use_threads(1)  # as nlu_components/crisis.py sets it in the Rasa server
    safety.warm_up()
    layer = learned.learned_layer()
    print("learned layer thresholds:", {k: round(v, 3) for k, v in layer.thresholds.items()})
    print(
        "learned layer out of fold on the tuning half:",
        {k: round(v, 3) for k, v in layer.report["out_of_fold_recall"].items()},
    )
    timings: dict[str, list[float]] = {"risk": [], "ordinary": []}
    for half, parts in sets.items():
        for part, categories in parts.items():
            rows = {}
            for category, items in categories.items():
                emergency = check_in = 0
                for message in items:
                    started = time.perf_counter()
                    result = safety.check(message)
                    timings[part].append((time.perf_counter() - started) * 1000)
                    emergency += result.emergency
                    check_in += result.kind == safety.CHECK_IN
                rows[category] = (emergency, check_in, len(items))
            table(f"detector only, {half} half, {part} messages", rows, part == "risk")
    for part, values in timings.items():
        print(f"detector time, {part} messages ({len(values)}): {summary(values)}")


def post(url: str, sender: str, message: str) -> tuple[float, str]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
        replies = json.loads(reply.read())
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, "\n".join(r.get("text", "") for r in replies)


def through_rest(sets: dict) -> None:
    settings = loopback_settings("senbot-safety-bench-")
    prepare(settings)
    stack = Stack(settings)
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    try:
        stack.start()
        for i in range(5):  # first requests pay for lazy set-up inside Rasa
            post(url, f"warm-{i}", "hello")
        latency: list[float] = []
        n = 0
        for half, parts in sets.items():
            for part, categories in parts.items():
                rows, missed = {}, []
                for category, items in categories.items():
                    emergency = check_in = 0
                    for message in items:
                        n += 1
                        elapsed, text = post(url, f"{half}-{n}", message)
                        is_check_in = CHECK_IN_MARK in text
                        is_emergency = any(mark in text for mark in EMERGENCY_MARKS)
                        routes = all(route in text for route in ROUTES)
                        if part == "risk":
                            emergency += is_emergency and routes
                            check_in += is_check_in and routes and not is_emergency
                            if is_emergency and category.startswith("crisis"):
                                latency.append(elapsed)
                            if not ((is_emergency or is_check_in) and routes):
                                missed.append(category)
                        else:
                            emergency += is_emergency
                            check_in += is_check_in and not is_emergency
                    rows[category] = (emergency, check_in, len(items))
                table(f"through REST, {half} half, {part} messages", rows, part == "risk")
        print(
            f"\ncrisis reply over REST ({len(latency)} messages): {summary(latency)} "
            f"(target p95 <= 100 ms)"
        )
    finally:
        stack.stop()


def compare_models() -> None:
    """Out-of-fold recall at fixed false-alarm rates for the candidate classifiers."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neural_network import MLPClassifier

    texts, labels = learned.tuning_examples()
    x = learned._cached_vectors(texts)  # noqa: SLF001 - the benchmark shares the cache
    y = np.array([learned.LearnedLayer.CLASSES.index(label) for label in labels])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    candidates = {
        "logistic regression (C 4)": LogisticRegression(
            C=4, class_weight="balanced", max_iter=3000
        ),
        "MLP (128 hidden)": MLPClassifier(
            hidden_layer_sizes=(128,), alpha=1e-3, max_iter=600, random_state=0
        ),
        "SVC, RBF kernel (chosen)": learned.learned_estimator(),
    }
    print("\nlearned layer candidates, out of fold on the tuning half (crisis recall):")
    for name, model in candidates.items():
        oof = cross_val_predict(model, x, y, cv=folds, method="predict_proba")
        none, crisis = y == 0, y == 1
        cells = []
        for rate in (0.01, 0.02, 0.08):
            t = learned._threshold_for_false_alarms(oof[:, 1], none, rate)  # noqa: SLF001
            cells.append(f"at {rate:.0%} false alarms {float((oof[crisis, 1] >= t).mean()):.3f}")
        print(f"  {name:28} " + ", ".join(cells))


PASSES = ("fourth_tuning", "fifth_tuning", "sixth_tuning")


def leave_pass_out() -> None:
    """The detector on each tuning pass, with the learned layer fitted without it."""
    texts, labels = learned.tuning_examples()
    vectors = learned._cached_vectors(texts)
    total = {"routed": 0, "risk": 0, "emergency": 0, "check_in": 0, "ordinary": 0}
    print("\nleave one tuning pass out (the detector alone, the layer fitted without the pass):")
    for name in PASSES:
        data = load(TUNING / f"{name}.yml")
        held = {m.strip() for items in data.values() for m in items}
        # the pass's messages and the sentences cut from its long ones
        held |= {
            p for m in held if len(m) >= safety.LONG_CHARS for p in safety._sentences_for_learned(m)
        }
        keep = [i for i, t in enumerate(texts) if t not in held]
        layer = learned.fit_learned(
            [texts[i] for i in keep], [labels[i] for i in keep], vectors[keep]
        )
        learned.use_learned(layer)
        counts = dict.fromkeys(total, 0)
        for group, items in data.items():
            kinds = [safety.check(m).kind for m in items]
            if group_kind(group) == NONE:
                counts["ordinary"] += len(kinds)
                counts["check_in"] += kinds.count(safety.CHECK_IN)
                counts["emergency"] += sum(k in (safety.CRISIS, safety.DISCLOSURE) for k in kinds)
            else:
                counts["risk"] += len(kinds)
                counts["routed"] += sum(k != NONE for k in kinds)
        for key in total:
            total[key] += counts[key]
        _print_pass(name, counts)
    _print_pass("all three", total)
    learned.use_learned(None)


def _print_pass(name: str, c: dict[str, int]) -> None:
    alarmed = c["emergency"] + c["check_in"]
    print(
        f"  {name:14s} crisis and disclosure routed {c['routed']}/{c['risk']}"
        f" = {c['routed'] / c['risk']:.3f}; ordinary alarmed {c['emergency']} + {c['check_in']}"
        f" of {c['ordinary']} = {alarmed / c['ordinary']:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", action="store_true", help="compare learned-layer models")
    parser.add_argument("--detector-only", action="store_true", help="skip the REST part")
    parser.add_argument(
        "--leave-pass-out", action="store_true", help="only the leave-one-pass-out check"
    )
    args = parser.parse_args()
    if args.leave_pass_out:
        leave_pass_out()
        return
    sets = halves()
    detector(sets)
    if args.models:
        compare_models()
    if not args.detector_only:
        through_rest(sets)


if __name__ == "__main__":
    main()
