"""Knowledge-answer latency over the real REST channel, the answer function before
issue 12 (``baseline``) beside today's (``v2``), in one run.

Run: ``.venv/bin/python benchmarks/answer_latency.py [--half heldout] [--runs 2]
[--rounds 3]`` after ``make run`` or ``make test`` has trained the model and built the
index. Each run starts the real stack (action server, Rasa) once per pipeline, the
pipelines in turn and their order swapped from one run to the next, so the machine's
drift falls on both alike. Each round asks every answerable question of the half in a
new conversation, as ``python -m bot.knowledge.evaluate --answers`` does. The figures
(p50 and p95 of the time to the reply) are over the questions that every pipeline
answers, so a pipeline that declines more is not faster for it. Only timings are
printed, never replies, so the held-out half may be timed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import percentile  # noqa: E402

Timings = dict[str, dict[str, list[float]]]  # pipeline -> case id -> seconds


def table(timings: Timings) -> str:
    """p50 and p95 of each pipeline, over the questions every pipeline answered."""
    answered = [set(by_case) for by_case in timings.values()]
    both = set.intersection(*answered) if answered else set()
    lines = [f"questions every pipeline answered: {len(both)}"]
    lines.append(f"  {'pipeline':10} {'timings':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for pipeline, by_case in timings.items():
        values = [s for case in sorted(both) for s in by_case[case]]
        if not values:
            lines.append(f"  {pipeline:10} {0:>8} {'-':>8} {'-':>8}")
            continue
        lines.append(
            f"  {pipeline:10} {len(values):>8} {percentile(values, 0.50) * 1000:>8.0f}"
            f" {percentile(values, 0.95) * 1000:>8.0f}"
        )
    return "\n".join(lines)


def measure(half: str, pipelines: Sequence[str], runs: int, rounds: int) -> Timings:
    from bot.knowledge import answer_eval
    from bot.stack.prepare import loopback_settings, prepare

    settings = loopback_settings("senbot-latency-")
    prepare(settings)
    cases = [c for c in answer_eval.load_cases(half) if c.kind == "answer"]
    timings: Timings = {p: {} for p in pipelines}
    for run in range(runs):
        order = list(pipelines) if run % 2 == 0 else list(reversed(pipelines))
        for pipeline in order:
            with answer_eval.pipeline_stack(settings, pipeline):
                for _ in range(rounds):
                    for outcome in answer_eval.run_rest(cases, settings.rasa_url):
                        if not outcome.declined:
                            timings[pipeline].setdefault(outcome.case.id, []).append(
                                outcome.seconds
                            )
            print(f"run {run + 1}/{runs}: {pipeline} done", file=sys.stderr)
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", default="heldout", help="an answer set (default: heldout)")
    parser.add_argument("--pipelines", default="baseline,v2")
    parser.add_argument("--runs", type=int, default=2, help="stack starts per pipeline")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the set per run")
    args = parser.parse_args(argv)
    pipelines = [p for p in args.pipelines.split(",") if p]
    timings = measure(args.half, pipelines, args.runs, args.rounds)
    print(f"knowledge-answer latency over REST, {args.half} half, answerable questions:")
    print(table(timings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
