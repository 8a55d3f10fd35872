"""Choose the semantic layer's thresholds from evaluation/safety/calibration.yml.

Run: ``.venv/bin/python tests/safety/calibrate.py``

For each candidate threshold (0.40 to 0.90, step 0.01) it prints, on the
calibration file only (never on the test sets):

- ``sem_recall``: share of positives the semantic layer alone catches,
- ``all_recall``: share caught by patterns or the semantic layer,
- ``false_alarms``: ordinary messages the semantic layer alone flags.

The rule: the lowest threshold whose semantic false alarms on the calibration
negatives are at most ``MAX_FALSE_ALARM`` (2%), i.e. catch as much as possible
while leaving the false-alarm budget (5% overall) to the pattern layers. The
chosen values and their figures are written by hand into bot/safety/detector.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.safety import detector as safety  # noqa: E402

CALIBRATION = Path(__file__).resolve().parents[2] / "evaluation" / "safety" / "calibration.yml"
MAX_FALSE_ALARM = 0.02


def choose(
    kind_index: int, positives: list[str], negatives: list[str], pattern_hits: list[bool]
) -> float:
    pos = [safety.semantic_scores(m)[kind_index] for m in positives]
    neg = [safety.semantic_scores(m)[kind_index] for m in negatives]
    chosen = None
    print(f"{'threshold':>9} {'sem_recall':>10} {'all_recall':>10} {'false_alarms':>12}")
    for step in range(40, 91):
        t = step / 100
        sem = [s >= t for s in pos]
        both = [a or b for a, b in zip(sem, pattern_hits)]
        fa = sum(s >= t for s in neg)
        rate = fa / len(neg)
        if chosen is None and rate <= MAX_FALSE_ALARM:
            chosen = t
        mark = "  <- chosen" if chosen == t else ""
        if step % 5 == 0 or mark:
            print(
                f"{t:9.2f} {sum(sem) / len(pos):10.2f} {sum(both) / len(pos):10.2f} "
                f"{fa:5d}/{len(neg)} ({rate:.0%}){mark}"
            )
    assert chosen is not None
    return chosen


def main() -> None:
    data = yaml.safe_load(CALIBRATION.read_text())
    negatives = [str(m) for m in data["not_crisis"]]
    crisis = [str(m) for m in data["crisis"]]
    disclosure = [str(m) for m in data["disclosure"]]
    print(f"crisis ({len(crisis)} positives, {len(negatives)} negatives)")
    hits = [safety.check_patterns(m).kind == safety.CRISIS for m in crisis]
    print(f"patterns alone: recall {sum(hits) / len(hits):.2f}")
    c = choose(0, crisis, negatives, hits)
    print(f"\ndisclosure ({len(disclosure)} positives, {len(negatives)} negatives)")
    hits = [safety.check_patterns(m).flagged for m in disclosure]
    print(f"patterns alone: recall {sum(hits) / len(hits):.2f}")
    d = choose(2, disclosure, negatives, hits)
    print(f"\nCRISIS_THRESHOLD = {c:.2f}\nDISCLOSURE_THRESHOLD = {d:.2f}")
    print(
        f"(in bot/safety/detector.py now: {safety.CRISIS_THRESHOLD:.2f}, "
        f"{safety.DISCLOSURE_THRESHOLD:.2f})"
    )


if __name__ == "__main__":
    main()
