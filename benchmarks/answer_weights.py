"""How bot/knowledge/answers.py's v2 weights and decline thresholds were chosen: a grid search
on the TUNING half of the answer evaluation only (never the held-out half).

Run: ``.venv/bin/python benchmarks/answer_weights.py`` after ``make test`` or ``make
run`` has trained the model and built the index. It parses every tuning question
with the real NLU model once, gathers each question's candidate sections with their
features (dense and question similarity, BM25, topic prior, county) as the answer
function does, then prints, for each weighting, the share of answerable questions
whose best section carries the fact, and for each decline threshold the unrelated
questions the answer function declines, the answerable ones it wrongly declines and
the replies with the fact; then, for each
near-tie margin (``answers.TIE_MARGIN``: the runner-up section is given too when it
scores this close to the best), fact in the whole reply of the answer function.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.knowledge import answers  # noqa: E402
from bot.knowledge.answer_eval import COUNTY, load_cases  # noqa: E402
from bot.knowledge.search import CANDIDATES, COUNTIES, Retriever, spelled_out  # noqa: E402
from bot.knowledge.topics import TOPICS, question_for  # noqa: E402
from bot.settings import get_settings  # noqa: E402
from bot.stack.prepare import model_path  # noqa: E402


def candidates(retriever: Retriever, question: str, area: str | None, intent: dict) -> list:
    vector = retriever.embed(spelled_out(question))
    hits = retriever.search(question, area=area, k=CANDIDATES, vector=vector)
    matches = retriever.question_matches(vector, k=CANDIDATES)
    by_key = {(h.slug, h.heading): h for h in hits}
    for key in matches:
        if key not in by_key and (found := retriever.passage(*key, vector=vector)):
            by_key[key] = found
    topic = TOPICS.get(intent.get("name") or "")
    confidence = float(intent.get("confidence") or 0.0)
    top = max((h.bm25 for h in by_key.values()), default=0.0) or 1.0
    rows = []
    for key, hit in by_key.items():
        local = 0.0
        if area in COUNTIES and hit.area in COUNTIES:
            local = 1.0 if hit.area == area else -1.0
        prior = confidence if topic and hit.slug in topic.articles else 0.0
        rows.append(
            (key, hit.dense, matches.get(key, (0.0, ""))[0], hit.bm25 / top, prior, local, hit.text)
        )
    return rows


def answer_case(retriever: Retriever, case, intent: dict) -> answers.Reply:
    """The answer function's reply to a case, given the classifier's parse."""
    return answers.answer(
        retriever,
        question_for(intent.get("name"), case.question),
        intent.get("name"),
        float(intent.get("confidence") or 0.0),
        COUNTY.get(case.area or ""),
        pipeline="v2",
    )


def main(argv: list[str] | None = None) -> None:
    import argparse

    from rasa.core.agent import Agent

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--halves",
        default="tuning",
        help="comma-separated tuning sets (tuning, tuning_more, tuning_fresh, tuning_hard,"
        " national_tuning, national_tuning_more); never heldout or national",
    )
    args = parser.parse_args(argv)
    halves = [h.strip() for h in args.halves.split(",") if h.strip()]
    if {"heldout", "national"} & set(halves):
        parser.error("weights are chosen on tuning sets only")
    cases = [case for half in halves for case in load_cases(half)]
    agent = Agent.load(str(model_path(get_settings())))
    retriever = Retriever()
    table = []
    for case in cases:
        intent = asyncio.run(agent.parse_message(case.question)).get("intent") or {}
        table.append(
            (
                case,
                intent,
                candidates(retriever, case.question, COUNTY.get(case.area or ""), intent),
            )
        )
    answerable = [(c, i, rows) for c, i, rows in table if c.gold and c.fact]

    def fact_share(weights: tuple[float, ...]) -> float:
        found = 0
        for case, _, rows in answerable:
            if rows:
                best = max(rows, key=lambda r: sum(w * f for w, f in zip(weights, r[1:6])))
                found += bool(case.fact.search(best[6]))
        return found / len(answerable)

    grid = itertools.product(
        (0.5, 1.0),
        (0.5, 1.0, 1.5),
        (0, 0.1, 0.2, 0.4),
        (0, 0.05, 0.1, 0.2),
        (0, 0.05, 0.1, 0.2, 0.3),
    )
    scored = sorted(((fact_share(w), w) for w in grid), reverse=True)
    current = tuple(answers.WEIGHTS[k] for k in ("dense", "question", "bm25", "topic", "area"))
    print(
        f"{'+'.join(halves)}: {len(answerable)} answerable questions; weights are "
        "(dense, question, bm25, topic, area)"
    )
    print(f"  in use {current}: best section carries the fact {fact_share(current):.3f}")
    for share, weights in scored[:8]:
        print(f"  {weights}: {share:.3f}")
    print("  each weight alone moved from the one in use:")
    for position, name in enumerate(("dense", "question", "bm25", "topic", "area")):
        cells = []
        for value in (0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 1.5):
            moved = current[:position] + (value,) + current[position + 1 :]
            cells.append(f"{value:g}: {fact_share(moved):.3f}")
        print(f"    {name}: " + ", ".join(cells))
    print("decline threshold (answers.DECLINE_BELOW), the answer function's whole decision:")
    in_use_decline = answers.DECLINE_BELOW
    try:
        for threshold in (0.35, 0.38, 0.40, 0.42, 0.45):
            answers.DECLINE_BELOW = threshold
            counts = {"unrelated": [0, 0], "answerable": [0, 0]}
            facts = 0
            for case, intent, _ in table:
                kind = "unrelated" if case.kind == "unrelated" else "answerable"
                if kind == "answerable" and not case.gold:
                    continue
                reply = answer_case(retriever, case, intent)
                counts[kind][0] += reply.declined
                counts[kind][1] += 1
                facts += kind == "answerable" and bool(case.fact.search(reply.text))
            print(
                f"  {threshold:.2f}{' (in use)' if threshold == in_use_decline else ''}: "
                f"unrelated declined {counts['unrelated'][0]}/{counts['unrelated'][1]}, "
                f"answerable declined {counts['answerable'][0]}/{counts['answerable'][1]}, "
                f"fact in reply {facts}"
            )
    finally:
        answers.DECLINE_BELOW = in_use_decline

    print(
        "put out of scope by the classifier: best similarity"
        " (answered from answers.OUT_OF_SCOPE_ANSWER_FROM)"
    )
    for case, intent, rows in table:
        if intent.get("name") == "out_of_scope" and (case.kind == "unrelated" or case.gold):
            best = max((max(r[1], r[2]) for r in rows), default=0.0)
            print(f"  {best:.3f} {case.kind:<10} {case.question[:70]}")

    print("near-tie margin (runner-up given too when within it): fact in the whole reply")
    in_use = answers.TIE_MARGIN
    try:
        for margin in (0.0, 0.04, 0.06, 0.08, 0.10, 0.15):
            answers.TIE_MARGIN = margin
            found = two_part = 0
            for case, intent, _ in answerable:
                if intent.get("name") == "out_of_scope":
                    continue
                reply = answer_case(retriever, case, intent)
                found += bool(case.fact.search(reply.text))
                two_part += "also" in reply.evidence
            print(
                f"  {margin:.2f}{' (in use)' if margin == in_use else ''}: "
                f"{found}/{len(answerable)}, {two_part} replies with two sections"
            )
    finally:
        answers.TIE_MARGIN = in_use


if __name__ == "__main__":
    main()
