"""Staff tools: ``python -m bot ask "question" [--area X] [--intent I] [--explain]``,
``python -m bot feedback``, ``python -m bot audit`` (see :mod:`bot.knowledge.audit`),
``python -m bot report`` (see :mod:`bot.staff.report`) and ``python -m bot ingest``
(the same as ``python -m bot.knowledge.ingest``, e.g. ``--raw PAGE --dry-run``).

``ask`` prints the reply of the assistant's own answer function
(:func:`bot.knowledge.answers.answer`, as the knowledge action calls it) and, with
``--explain``, the candidate sections with their scores, the decline threshold and
the decision. Rasa need not run; without ``--intent`` the topic prior is left out,
as when the classifier is unsure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from bot.knowledge import areas
from bot.knowledge.answers import PIPELINES, answer, decline_text
from bot.knowledge.search import MODES, Retriever
from bot.knowledge.sources import source_line


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ingest"]:  # its own options, so handed over whole
        from bot.knowledge.ingest import main as ingest

        return ingest(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question from the knowledge index")
    ask.add_argument("question")
    ask.add_argument("--area", choices=areas.names())
    ask.add_argument("--intent", help="the classifier's intent, e.g. diagnosis_needed")
    ask.add_argument("--confidence", type=float, default=0.9, help="with --intent")
    ask.add_argument("--pipeline", choices=PIPELINES, help="default: the setting (v2)")
    ask.add_argument("--explain", action="store_true", help="show candidates and scores")
    ask.add_argument(
        "--mode",
        choices=MODES,
        default="hybrid",
        help="also list this search's raw results with --explain",
    )
    sub.add_parser("feedback", help="how helpful each article's answers were")
    from bot.knowledge import audit

    audit.add_arguments(
        sub.add_parser(
            "audit", help="unsourced contacts, copied runs, old sources, overdue reviews"
        )
    )
    from bot.staff import report

    report.add_arguments(
        sub.add_parser(
            "report", help="unanswered questions, unhelpful answers, unused articles, weeks"
        )
    )
    sub.add_parser(
        "ingest", help="python -m bot.knowledge.ingest (see python -m bot ingest --help)"
    )
    args = parser.parse_args(argv)
    if args.command == "report":
        return report.run_cli(args)
    if args.command == "feedback":
        return _feedback()
    if args.command == "audit":
        return audit.run_cli(args)

    retriever = Retriever()
    reply = answer(
        retriever,
        args.question,
        args.intent,
        args.confidence if args.intent else 0.0,
        args.area,
        args.pipeline,
    )
    if reply.declined:
        print(f"(declines) {decline_text(reply, args.intent)}")
    else:
        print(reply.text)
        if reply.hit is not None:
            print(source_line(reply.hit))
    if args.explain:
        print("\nWhy (the answer function's own evidence):")
        print(json.dumps(reply.evidence, indent=1, ensure_ascii=False))
        print(f"\nRaw {args.mode} search results:")
        hits = retriever.search(args.question, area=args.area, mode=args.mode)
        if not hits:
            print("(no passage matched)")
        for rank, hit in enumerate(hits, 1):
            print(
                f"{rank}. [{hit.slug} > {hit.heading}] dense {hit.dense:.3f} "
                f"bm25 {hit.bm25:.2f} fused {hit.fused:.4f} ({hit.area})"
            )
            print(f"   {hit.text[:160]}")
    return 0


def _feedback() -> int:
    from bot.records.feedback import FeedbackStore

    store = FeedbackStore()
    scores = store.summary()
    if not scores:
        print(f"No feedback yet in {store.path}.")
        return 0
    print(f"{'article':40} {'helpful':>7} {'not':>5}")
    for score in scores:
        print(f"{score.article:40} {score.helpful:7} {score.not_helpful:5}")
    unhelpful = store.recent_unhelpful()
    if unhelpful:
        print("\nLatest answers that did not help:")
        for at, article, question, comment in unhelpful:
            print(f"{at} [{article}] {question!r}" + (f" - {comment!r}" if comment else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
