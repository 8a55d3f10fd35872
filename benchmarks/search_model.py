"""Dense search with the bundled MiniLM and with the adapted one, side by side.

Run: ``.venv/bin/python benchmarks/search_model.py`` after ``python -m bot.stack
prepare`` (it trains the adapted model, :mod:`bot.knowledge.adapted`). For every
answerable question of the tuning sets of ``evaluation/answers/`` (none of which
trains the model), it ranks the articles' sections by the cosine of their first
passage alone (no BM25, no written questions, no topic) and prints recall@1 and
@5 of the gold section with each model. ``--halves`` picks the sets; the held-out
sets are refused, as everywhere a choice could be made from the figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.knowledge import adapted  # noqa: E402
from bot.knowledge.answer_eval import load_cases  # noqa: E402
from bot.knowledge.embeddings import get_model, get_search_model  # noqa: E402

TUNING = ("tuning", "tuning_more", "national_tuning", "national_tuning_more")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--halves", default=",".join(TUNING))
    args = parser.parse_args(argv)
    halves = [h.strip() for h in args.halves.split(",") if h.strip()]
    if not set(halves) <= set(TUNING):
        parser.error(f"tuning sets only: {', '.join(TUNING)}")
    if adapted.built_folder() is None:
        parser.error("the adapted model is not built: run python -m bot.stack prepare")
    models = {"bundled": get_model(), "adapted": get_search_model()}
    print(f"{'set':<22}{'n':>5}   {'bundled @1 / @5':>18}   {'adapted @1 / @5':>18}")
    totals = {name: [0, 0] for name in models}
    count = 0
    for half in halves:
        cases = [c for c in load_cases(half) if c.gold and c.fact]
        count += len(cases)
        cells = []
        for name, model in models.items():
            first, top5 = adapted.dense_recall(model, cases)
            totals[name][0] += first
            totals[name][1] += top5
            cells.append(f"{first:>6} / {top5:<6}")
        print(f"{half:<22}{len(cases):>5}   {cells[0]:>18}   {cells[1]:>18}")
    cells = [f"{a:>6} / {b:<6}" for a, b in totals.values()]
    print(f"{'all':<22}{count:>5}   {cells[0]:>18}   {cells[1]:>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
