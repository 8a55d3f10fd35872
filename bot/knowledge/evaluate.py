"""Retrieval quality on the labelled questions: ``python -m bot.knowledge.evaluate``.

For every question in ``evaluation/retrieval_cases.yml`` it searches dense-only,
BM25-only and hybrid, and prints recall@3 (the expected article is among the top
three passages' articles) and MRR@10 (one over the rank of the first passage from
the expected article, 0 past ten) side by side, overall and per area. A question's
area is its expected article's ``area`` in the front matter. Last comes the
share of unrelated questions declined at the abstain threshold, and the share of
answerable ones wrongly declined.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge import index
from bot.knowledge.search import ABSTAIN_BELOW, MODES, Retriever
from bot.settings import REPO_ROOT, get_settings

CASES = REPO_ROOT / "evaluation" / "retrieval_cases.yml"
OVERALL = "all"


@dataclass
class Score:
    """Recall@3 and MRR@10 over some questions."""

    n: int = 0
    found_in_3: int = 0
    reciprocal: float = 0.0

    @property
    def recall_at_3(self) -> float:
        return self.found_in_3 / self.n if self.n else 0.0

    @property
    def mrr_at_10(self) -> float:
        return self.reciprocal / self.n if self.n else 0.0


@dataclass
class Report:
    """Scores by mode and area, and how the abstain threshold behaves."""

    scores: dict[str, dict[str, Score]] = field(default_factory=dict)
    unrelated: int = 0
    unrelated_declined: int = 0
    answerable_declined: int = 0
    misses: dict[str, list[tuple[str, str, list[str]]]] = field(default_factory=dict)

    @property
    def areas(self) -> list[str]:
        first = next(iter(self.scores.values()), {})
        return [OVERALL] + sorted(a for a in first if a != OVERALL)

    @property
    def decline_rate(self) -> float:
        return self.unrelated_declined / self.unrelated if self.unrelated else 0.0


def article_areas(articles_dir: Path) -> dict[str, str]:
    """Each article's slug and the area in its front matter."""
    areas = {}
    for path in sorted(articles_dir.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---"):
            meta = yaml.safe_load(text.split("---", 2)[1]) or {}
            areas[path.stem] = str(meta.get("area", "England"))
    return areas


def evaluate(retriever: Retriever, cases: dict, areas: dict[str, str]) -> Report:
    """Run every labelled question through every mode.

    Args:
        retriever: A retriever over the index to evaluate.
        cases: The parsed ``retrieval_cases.yml`` (``cases`` and ``unrelated``).
        areas: Article slug to area, from :func:`article_areas`.

    Returns:
        The report; print it with :func:`format_report`.
    """
    from bot.knowledge.embeddings import search_embed as embed

    report = Report(scores={mode: {} for mode in MODES}, misses={mode: [] for mode in MODES})
    questions = [c["q"] for c in cases["cases"]]
    vectors = embed(questions)
    for case, vector in zip(cases["cases"], vectors):
        area = areas.get(case["expect"], "unknown")
        for mode in MODES:
            hits = retriever.search(
                case["q"], area=case.get("area"), k=10, mode=mode, vector=vector
            )
            slugs = [h.slug for h in hits]
            rank = slugs.index(case["expect"]) + 1 if case["expect"] in slugs else 0
            for key in (OVERALL, area):
                score = report.scores[mode].setdefault(key, Score())
                score.n += 1
                score.found_in_3 += 0 < rank <= 3
                score.reciprocal += 1 / rank if rank else 0.0
            if not 0 < rank <= 3:
                report.misses[mode].append((case["q"], case["expect"], slugs[:3]))
        if retriever.answer(case["q"], area=case.get("area"), vector=vector).abstained:
            report.answerable_declined += 1
    unrelated = cases.get("unrelated", [])
    for question, vector in zip(unrelated, embed(unrelated)):
        report.unrelated += 1
        report.unrelated_declined += retriever.answer(question, vector=vector).abstained
    return report


def format_report(report: Report) -> str:
    """The report as a table: one row per area, recall@3 and MRR@10 per mode."""
    lines = ["Retrieval on evaluation/retrieval_cases.yml (recall@3 / MRR@10)", ""]
    header = f"{'area':16} {'n':>4}" + "".join(f"  {mode:>15}" for mode in MODES)
    lines += [header, "-" * len(header)]
    for area in report.areas:
        n = report.scores[MODES[0]][area].n
        row = f"{area:16} {n:4}"
        for mode in MODES:
            s = report.scores[mode][area]
            row += f"  {s.recall_at_3:6.3f} / {s.mrr_at_10:5.3f}"
        lines.append(row)
    total = report.scores[MODES[0]][OVERALL].n
    lines += [
        "",
        (
            f"Abstain threshold (best dense cosine) {ABSTAIN_BELOW}: "
            f"{report.unrelated_declined}/{report.unrelated} unrelated questions declined "
            f"({report.decline_rate:.0%}); {report.answerable_declined}/{total} answerable "
            f"questions wrongly declined."
        ),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the report; ``--misses`` lists the hybrid misses too.

    ``--answers`` runs the answer-level evaluation instead (:mod:`bot.knowledge.answer_eval`).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "--answers" in args_list:
        from bot.knowledge.answer_eval import main as answers_main

        return answers_main(args_list)
    parser = argparse.ArgumentParser(prog="python -m bot.knowledge.evaluate", description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=get_settings().index_dir)
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument(
        "--misses", action="store_true", help="also list the questions hybrid search missed"
    )
    args = parser.parse_args(argv)
    if not index.exists(args.index_dir):
        print(
            f"No knowledge index in {args.index_dir}: run python -m bot.knowledge.ingest first.",
            file=sys.stderr,
        )
        return 2
    cases = yaml.safe_load(args.cases.read_text(encoding="utf-8"))
    areas = article_areas(get_settings().knowledge_dir / "articles")
    report = evaluate(Retriever(args.index_dir), cases, areas)
    print(format_report(report))
    if args.misses:
        print("\nHybrid misses (question, expected, top 3):")
        for question, expected, found in report.misses["hybrid"]:
            print(f"- {question!r}: {expected}; got {', '.join(found)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
