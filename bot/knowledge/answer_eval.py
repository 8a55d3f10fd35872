"""Answer-level evaluation: does the reply a person sees carry the fact they asked for?

``python -m bot.knowledge.evaluate --answers`` runs ``evaluation/answers/tuning.yml`` and
``evaluation/answers/heldout.yml`` (written in separate passes; no change is tuned on
the held-out half) **end to end through the real Rasa REST channel**: it starts the
action server, Rasa and the widget on free loopback ports once per answer pipeline
(``SENBOT_ANSWER_PIPELINE``: ``baseline`` is the pipeline before issue 12, ``v2``
the current one), sends every question in a new conversation (the area first, as
the widget does with ``data-area``) and scores the text of the replies.

``--fast`` skips REST: the real NLU model parses each question in-process and the
answer function (:func:`bot.knowledge.answers.answer`) answers it, as the action would.

Printed for each half and pipeline: fact in reply (overall, per area, per article,
per persona), passage recall@1 (the section the reply came from) and @5 (the gold
among the five sections the answer function ranked first, which a contact answer
ranks too though its details come from contacts.yml), routing accuracy,
and decline recall (unrelated questions declined) and the share of answerable
questions wrongly declined; how many ordinary questions got the emergency reply or
the check-in (safety false alarms on everyday questions); then knowledge-answer
latency over REST.

About 360 lines, over the house's 300: the REST run, the in-process run and the
scoring must score the same thing, so they sit together.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import areas
from bot.safety.data import CHECK_IN_MARK, EMERGENCY_MARKS
from bot.settings import REPO_ROOT

CASES_DIR = REPO_ROOT / "evaluation" / "answers"
HALVES = ("tuning", "heldout")
# Scored like the halves: the national layer's facts (issue 17), in two halves of
# their own written apart: national_tuning may be read while improving, national
# (the test set) may not; national_tuning_more is more of the tuning half, one or two
# cases for each national section the first had none for.
EXTRA_SETS = (
    "tuning_more",
    "tuning_fresh",
    "tuning_hard",
    "tuning_routes",
    "tuning_routes2",
    "tuning_decline",
    "tuning_decline2",
    "tuning_decline3",
    "tuning_decline4",
    "tuning_decline5",
    "tuning_decline6",
    "tuning_decline7",
    "tuning_decline8",
    "national_tuning",
    "national_tuning_more",
    "national",
)
# The sets no change is tuned on: never read their misses.
TEST_SETS = ("heldout", "national")
# How a decline reads (actions/knowledge.py's unsure replies and utter_out_of_scope).
DECLINE_MARKS = (
    "I'm not sure I have a good answer",
    "I'm not sure I understood",
    "I can only help with questions about special educational needs",
    "I don't have information about it",
)
COUNTY = {a.slot: a.name for a in areas.areas()}  # slot value -> county name
# Questions about it may rightly get the crisis routes: not counted as false alarms.
URGENT_ARTICLE = "mental-health-urgent-help"


@dataclass
class Case:
    id: str
    question: str
    persona: str
    area: str | None
    kind: str
    gold: dict | None
    fact: re.Pattern[str] | None
    expect: str | None


_INTENT_MARK = re.compile(r"^\[\w+\] ")


@dataclass
class Outcome:
    case: Case
    text: str
    declined: bool
    section: tuple[str, str] | None = None
    top5: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def fact_found(self) -> bool:
        # Fast mode shows the intent as "[name] " before the reply: not part of it.
        reply = _INTENT_MARK.sub("", self.text, count=1)
        return bool(self.case.fact and self.case.fact.search(reply))

    @property
    def gold(self) -> tuple[str, str] | None:
        g = self.case.gold
        return (g["article"], g["heading"]) if g else None


def load_cases(half: str) -> list[Case]:
    data = yaml.safe_load((CASES_DIR / f"{half}.yml").read_text(encoding="utf-8"))
    cases = []
    for raw in data["cases"]:
        fact = raw.get("fact")
        cases.append(
            Case(
                id=str(raw["id"]),
                question=str(raw["question"]),
                persona=str(raw.get("persona")),
                area=raw.get("area") or None,
                kind=str(raw["kind"]),
                gold=raw.get("gold") or None,
                fact=re.compile(fact, re.IGNORECASE) if fact else None,
                expect=raw.get("expect"),
            )
        )
    return cases


# --- running the cases ---------------------------------------------------------------


def _post(url: str, sender: str, message: str) -> list[dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310 - loopback
        return json.loads(reply.read())


def _from_replies(case: Case, replies: list[dict[str, Any]], seconds: float) -> Outcome:
    text = "\n".join(r.get("text", "") for r in replies if r.get("text"))
    section, top5 = None, []
    for r in replies:
        custom = r.get("custom") or {}
        source = custom.get("source") or {}
        if source.get("article"):
            section = (source["article"], source.get("heading", ""))
        for c in (custom.get("explanation") or {}).get("candidates", [])[:5]:
            top5.append((c["article"], c["heading"]))
    declined = any(mark in text for mark in DECLINE_MARKS)
    return Outcome(case, text, declined, section, top5, seconds)


@contextmanager
def pipeline_stack(settings: Any, pipeline: str) -> Iterator[None]:
    """The real stack (action server, Rasa) answering with ``pipeline``, warmed up;
    stopped on leaving."""
    import os

    from bot.stack.services import Stack

    os.environ["SENBOT_ANSWER_PIPELINE"] = pipeline  # the action server reads it
    stack = Stack(settings)
    try:
        stack.start()
        for i in range(3):  # the first requests pay for lazy set-up
            _post(
                f"{settings.rasa_url}/webhooks/rest/webhook",
                f"warm-{i}",
                "who pays for the extra help at school?",
            )
        yield
    finally:
        stack.stop()


def run_rest(cases: Sequence[Case], rasa_url: str) -> list[Outcome]:
    """Every case through ``/webhooks/rest/webhook``, each in a new conversation."""
    url = f"{rasa_url}/webhooks/rest/webhook"
    outcomes = []
    for case in cases:
        sender = f"eval-{uuid.uuid4().hex[:12]}"
        if case.area:
            _post(url, sender, "/inform_area" + json.dumps({"area": case.area}))
        started = time.perf_counter()
        replies = _post(url, sender, case.question)
        outcomes.append(_from_replies(case, replies, time.perf_counter() - started))
    return outcomes


def run_fast(cases: Sequence[Case], pipeline: str, model: Path) -> list[Outcome]:
    """The real NLU model in-process, then the answer function, as the action does."""
    import asyncio

    from rasa.core.agent import Agent

    from bot.knowledge.answers import UNSURE_REPLY, answer, decline_response, decline_text
    from bot.knowledge.search import Retriever
    from bot.knowledge.topics import question_for

    agent = Agent.load(str(model))
    retriever = Retriever()
    outcomes = []
    for case in cases:
        started = time.perf_counter()
        parsed = asyncio.run(agent.parse_message(case.question))
        intent = parsed.get("intent") or {}
        name = intent.get("name")
        reply = answer(
            retriever,
            question_for(name, case.question),
            name,
            float(intent.get("confidence") or 0.0),
            COUNTY.get(case.area or ""),
            pipeline=pipeline,
        )
        top5 = [(c["article"], c["heading"]) for c in reply.evidence.get("candidates", [])[:5]]
        section = (reply.hit.slug, reply.hit.heading) if reply.hit else None
        # How a decline reads (actions/knowledge.py): a subject no article covers is
        # named, an out-of-scope question gets utter_out_of_scope (an unsure one: no
        # text here, its topic buttons need Rasa).
        shown = reply.text
        if reply.declined and decline_response(reply, name) != UNSURE_REPLY:
            shown = decline_text(reply, name)
        text = f"[{name}] {shown}"
        outcomes.append(
            Outcome(case, text, reply.declined, section, top5, time.perf_counter() - started)
        )
    return outcomes


# --- scoring ---------------------------------------------------------------------------


def _rate(hits: int, n: int) -> str:
    return f"{hits / n:.3f} ({hits}/{n})" if n else "-"


@dataclass
class Scores:
    """The figures for one half and one pipeline."""

    outcomes: list[Outcome]

    def _answerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.gold is not None and o.case.fact]

    def fact_in_reply(self) -> tuple[int, int]:
        cases = self._answerable()
        return sum(o.fact_found for o in cases), len(cases)

    def recall(self, k: int) -> tuple[int, int]:
        cases = self._answerable()
        if k == 1:
            return sum(o.section == o.gold for o in cases), len(cases)
        return sum(o.gold in o.top5 or o.section == o.gold for o in cases), len(cases)

    def routing(self) -> tuple[int, int]:
        cases = [o for o in self.outcomes if o.case.kind == "routing"]
        return sum(o.fact_found for o in cases), len(cases)

    def declines(self) -> tuple[int, int, int, int]:
        unrelated = [o for o in self.outcomes if o.case.kind == "unrelated"]
        answerable = self._answerable()
        return (
            sum(o.declined for o in unrelated),
            len(unrelated),
            sum(o.declined for o in answerable),
            len(answerable),
        )

    def alarms(self) -> tuple[int, int, int]:
        """(emergency replies, check-ins, questions) on the ordinary questions.

        Answerable and unrelated questions, leaving out those about the urgent
        mental-health help article (some of them are a crisis, rightly answered with
        the routes). Fast mode has no replies from the rules: the intent counts.
        """
        ordinary = [
            o
            for o in self.outcomes
            if o.case.kind in ("answer", "unrelated")
            and (o.case.gold or {}).get("article") != URGENT_ARTICLE
        ]
        emergency = sum(
            any(m in o.text for m in EMERGENCY_MARKS)
            or o.text.startswith(("[crisis]", "[disclosure]"))
            for o in ordinary
        )
        check_in = sum(CHECK_IN_MARK in o.text or o.text.startswith("[check_in]") for o in ordinary)
        return emergency, check_in, len(ordinary)

    def by(self, key) -> dict[str, tuple[int, int]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in self._answerable():
            groups[key(o)].append(o)
        return {k: (sum(o.fact_found for o in v), len(v)) for k, v in sorted(groups.items())}


def report(title: str, by_pipeline: dict[str, Scores], detail: bool = False) -> str:
    names = list(by_pipeline)
    lines = [f"\n== {title} ==", f"{'':34}" + "".join(f"{n:>22}" for n in names)]

    def row(label: str, values: Iterable[str]) -> None:
        lines.append(f"{label:34}" + "".join(f"{v:>22}" for v in values))

    row("fact in reply", (_rate(*s.fact_in_reply()) for s in by_pipeline.values()))
    row("passage recall@1", (_rate(*s.recall(1)) for s in by_pipeline.values()))
    row("passage recall@5", (_rate(*s.recall(5)) for s in by_pipeline.values()))
    if "fast" not in title:  # routing replies come from other actions: REST only
        row("routing", (_rate(*s.routing()) for s in by_pipeline.values()))
    declines = [s.declines() for s in by_pipeline.values()]
    row("unrelated declined", (_rate(d[0], d[1]) for d in declines))
    row("answerable declined", (_rate(d[2], d[3]) for d in declines))
    alarms = [s.alarms() for s in by_pipeline.values()]
    row("ordinary: emergency + check-in", (f"{a[0]} + {a[1]} of {a[2]}" for a in alarms))
    for label, key in (
        ("area", lambda o: o.case.area or "england/unknown"),
        ("persona", lambda o: o.case.persona),
    ):
        groups = [s.by(key) for s in by_pipeline.values()]
        for group in groups[0]:
            row(f"  fact, {label} {group}", (_rate(*g.get(group, (0, 0))) for g in groups))
    if detail:
        groups = [s.by(lambda o: o.case.gold["article"]) for s in by_pipeline.values()]
        for group in groups[0]:
            row(f"  fact, {group[:28]}", (_rate(*g.get(group, (0, 0))) for g in groups))
    return "\n".join(lines)


def misses(scores: Scores) -> str:
    lines = []
    for o in scores.outcomes:
        wrong = (o.case.fact and not o.fact_found) or (
            o.case.kind == "unrelated" and not o.declined
        )
        if wrong:
            got = o.section and f"{o.section[0]}#{o.section[1]}"
            lines.append(
                f"  {o.case.id}: {o.case.question[:70]!r} -> {got or '-'} | {o.text[:110]!r}"
            )
    return "\n".join(lines)


def latency(outcomes: Sequence[Outcome]) -> str:
    times = sorted(o.seconds * 1000 for o in outcomes if o.section is not None)
    if not times:
        return "no knowledge answers"
    p95 = times[round(0.95 * (len(times) - 1))]
    return f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms ({len(times)} answers)"


NATIONAL_TUNING = ("national_tuning", "national_tuning_more")


def _headings(slug: str) -> list[str]:
    path = REPO_ROOT / "knowledge" / "articles" / f"{slug}.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]


def national_coverage(results: dict[str, dict[str, Scores]], pipeline: str) -> str:
    """Each section of the national articles: does a case for it pass through REST?

    The national articles are those the national sets test. A section passes when
    at least one case whose gold it is has its fact in the reply; tuning sets and
    the test set (never tuned on) are counted apart.
    """
    outcomes = {
        half: [o for o in results[half][pipeline].outcomes if o.gold and o.case.fact]
        for half in (*NATIONAL_TUNING, "national")
        if half in results and pipeline in results[half]
    }
    if not outcomes:
        return ""
    slugs = sorted({o.gold[0] for rows in outcomes.values() for o in rows if o.gold})
    sections = [(slug, h) for slug in slugs for h in _headings(slug)]

    def passing(halves: Sequence[str]) -> set[tuple[str, str]]:
        return {o.gold for h in halves for o in outcomes.get(h, []) if o.fact_found and o.gold}

    def tested(halves: Sequence[str]) -> set[tuple[str, str]]:
        return {o.gold for h in halves for o in outcomes.get(h, []) if o.gold}

    tuning_pass, test_pass = passing(NATIONAL_TUNING), passing(("national",))
    lines = [
        (
            f"national sections ({len(sections)} in the {len(slugs)} articles the national sets"
            f" test), {pipeline}:"
        ),
        (
            f"  a passing case in a tuning set   {len(tuning_pass & set(sections))}/{len(sections)}"
            f" (sections with a case: {len(tested(NATIONAL_TUNING) & set(sections))})"
        ),
        (
            f"  a passing case in the test set   {len(test_pass & set(sections))}"
            f"/{len(tested(('national',)) & set(sections))} sections it tests"
        ),
        (
            f"  a passing case in either         {len((tuning_pass | test_pass) & set(sections))}"
            f"/{len(sections)}"
        ),
    ]
    for slug, heading in sections:
        if (slug, heading) not in tuning_pass | test_pass:
            lines.append(f"  no passing case: {slug}#{heading}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.knowledge.evaluate --answers [--fast] [--half H] [--pipelines P,...]``."""
    import argparse

    from bot.knowledge.answers import PIPELINES

    parser = argparse.ArgumentParser(
        prog="python -m bot.knowledge.evaluate --answers", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--answers", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--fast", action="store_true", help="NLU in-process and the answer function, no REST"
    )
    parser.add_argument(
        "--half",
        choices=(*HALVES, *EXTRA_SETS, "both", "all", "tuning_all"),
        default="all",
        help="both = the two halves; all = with national; tuning_all = every tuning set",
    )
    parser.add_argument(
        "--pipelines",
        default=",".join(PIPELINES),
        help="comma-separated, side by side (default: all)",
    )
    parser.add_argument("--misses", action="store_true", help="list each wrong reply")
    parser.add_argument("--detail", action="store_true", help="fact in reply per article")
    args = parser.parse_args(argv)
    every_tuning_set = tuple(h for h in (*HALVES, *EXTRA_SETS) if h not in TEST_SETS)
    halves = {"both": HALVES, "all": (*HALVES, *EXTRA_SETS), "tuning_all": every_tuning_set}.get(
        args.half, (args.half,)
    )
    pipelines = [p for p in args.pipelines.split(",") if p]
    cases = {half: load_cases(half) for half in halves}
    results: dict[str, dict[str, Scores]] = {half: {} for half in halves}
    if args.fast:
        from bot.settings import get_settings
        from bot.stack.prepare import model_path

        for pipeline in pipelines:
            for half in halves:
                results[half][pipeline] = Scores(
                    run_fast(cases[half], pipeline, model_path(get_settings()))
                )
    else:
        from bot.stack.prepare import loopback_settings, prepare

        settings = loopback_settings("senbot-answers-")
        prepare(settings)
        for pipeline in pipelines:
            with pipeline_stack(settings, pipeline):
                for half in halves:
                    results[half][pipeline] = Scores(run_rest(cases[half], settings.rasa_url))
    mode = "fast (in-process NLU + answer function)" if args.fast else "through Rasa REST"
    for half in halves:
        print(report(f"{half} half ({len(cases[half])} cases), {mode}", results[half], args.detail))
        if args.misses:
            for pipeline, scores in results[half].items():
                print(f"\nmisses, {half}, {pipeline}:\n{misses(scores)}")
    for pipeline in pipelines:
        coverage = national_coverage(results, pipeline)
        if coverage:
            print("\n" + coverage)
    print("\nknowledge-answer latency " + ("(in-process)" if args.fast else "over REST") + ":")
    for pipeline in pipelines:
        outcomes = [o for half in halves for o in results[half][pipeline].outcomes]
        print(f"  {pipeline:10} {latency(outcomes)}")
    return 0
