"""Where one message's time goes: a profile per stage, in-process, with Rasa's objects.

Run: ``.venv/bin/python benchmarks/profile.py`` (300 messages and one 200-turn
conversation, about 5 minutes on 2 cores) or ``--quick`` (60 messages, 50
turns); ``--write`` also puts the tables into ``docs/speed.md`` between its
``profile`` markers, leaving the rest of that page as written.

It loads the trained model (``var/models/senbot.tar.gz``) with
``rasa.core.agent.load_agent`` and the project's ``endpoints.yml``: the SQLite
tracker store that ``make run`` uses (``channels.tracker_store``), in a fresh
temporary file, and the action server, which it starts on a free loopback port
(``bot.stack.Stack``), so the action call is a real HTTP round trip. Then it sends
the messages of ``benchmarks/load.py``'s seeded mix (test and evaluation sets in
``tests/``) through ``Agent.handle_message``, one at a time, and times:

- every graph node (``rasa.engine.graph.GraphNode.__call__``), named by its
  component: the crisis check, the MiniLM featurizer, the intent classifier, FallbackClassifier,
  each policy, and the small ones together;
- the tracker store's ``retrieve`` and ``save``;
- the action call (``RemoteAction.run``: HTTP to the action server and its work);
- MiniLM calls through ``bot.knowledge.embeddings.embed`` (the crisis check's, counted
  inside its node too);
- the answer composition (``bot.knowledge.answers.answer``) for each message the knowledge
  action answered, run again in this process with the same question and intent
  (the action server's own share of the action call; not added to the total).

"Other" is the rest of ``handle_message``: Rasa's own bookkeeping between the stages.
Then one conversation asks one question again and again, and the same stages are
shown at turns 1, 50 and 200 (the median of the turns either side of each).
No channel is involved (no HTTP into Rasa): the stack-level figures are
``benchmarks/load.py``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if not __package__:
    # Run as a script, this folder would come first on sys.path and this file would
    # shadow the standard library's ``profile`` (which cProfile imports).
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
    sys.path.insert(0, str(ROOT))

from bot.settings import use_serving_env  # noqa: E402

use_serving_env()  # as the two servers set it for themselves, before numpy loads

from benchmarks.load import LONG_TURNS, build_mix, message_sets, pct, turn_window  # noqa: E402

DOCS = ROOT / "docs" / "speed.md"
START, END = "<!-- profile:start -->", "<!-- profile:end -->"
TOTAL, OTHER = "total (Agent.handle_message)", "other (Rasa between the stages)"
ANSWER = "retrieval and answer composition (bot.knowledge.answers, inside the action call)"
STORE_READ, STORE_WRITE = "tracker store read (SQLite)", "tracker store write (SQLite)"
ACTION = "action call (HTTP round trip to the action server)"
CRISIS_MINILM = "MiniLM inside the crisis check (bot.knowledge.embeddings.embed)"
ANSWER_MINILM = "MiniLM inside the answer composition (bot.knowledge.embeddings.embed)"
# Stage order in the tables; anything else a node is called lands in a group row.
NODE_LABELS = [
    (re.compile(r"CrisisCheck"), "crisis check"),
    (re.compile(r"MiniLMFeaturizer"), "MiniLM featurizer"),
    (re.compile(r"DIETClassifier|LinearIntentClassifier"), "intent classifier"),
    (re.compile(r"FallbackClassifier"), "FallbackClassifier"),
    (re.compile(r"MemoizationPolicy"), "policy: MemoizationPolicy"),
    (re.compile(r"RulePolicy"), "policy: RulePolicy"),
    (re.compile(r"TEDPolicy"), "policy: TEDPolicy"),
]
OTHER_NLU = "other NLU nodes (tokenizer, sparse featurizers, entities)"
OTHER_CORE = "other policy-graph nodes (domain, rule data, prediction ensemble)"
NLU_HINTS = re.compile(r"Tokenizer|Featurizer|Entity|Synonym|nlu_message|Regex|Classifier")
ORDER = (
    [label for _, label in NODE_LABELS[:4]]
    + [CRISIS_MINILM, OTHER_NLU]
    + [label for _, label in NODE_LABELS[4:]]
    + [OTHER_CORE, STORE_READ, STORE_WRITE, ACTION, ANSWER, ANSWER_MINILM, OTHER, TOTAL]
)
INSIDE = (CRISIS_MINILM, ANSWER, ANSWER_MINILM)  # already counted in another row
IN_TOTAL = [label for label in ORDER if label not in (*INSIDE, OTHER, TOTAL)]


def node_label(node_name: str) -> str:
    """The stage a graph node belongs to, from its name (``run_DIETClassifier6``)."""
    for pattern, label in NODE_LABELS:
        if pattern.search(node_name):
            return label
    return OTHER_NLU if NLU_HINTS.search(node_name) else OTHER_CORE


class Timings:
    """Milliseconds per stage for the message being handled."""

    def __init__(self) -> None:
        self.current: dict[str, float] = {}
        self.node: str | None = None
        self.knowledge: list[tuple[str, dict, Any]] = []  # the knowledge action's inputs
        self.requests: list[dict] = []  # bodies sent to the action server, sized later

    def add(self, label: str, ms: float) -> None:
        self.current[label] = self.current.get(label, 0.0) + ms

    def take(self) -> dict[str, float]:
        taken, self.current = self.current, {}
        return taken


def instrument(agent: Any, timings: Timings) -> Callable[[], None]:
    """Wrap the graph nodes, the tracker store, remote actions and MiniLM; return undo."""
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.graph import GraphNode

    import bot.knowledge.embeddings

    undo: list[Callable[[], None]] = []

    def patch(owner: Any, name: str, wrapper: Callable) -> None:
        original = getattr(owner, name)
        setattr(owner, name, wrapper(original))
        undo.append(lambda: setattr(owner, name, original))

    def node_wrapper(original: Callable) -> Callable:
        def call(self: Any, *inputs: Any) -> Any:
            label = node_label(self._node_name)
            outer, timings.node = timings.node, label
            started = time.perf_counter()
            try:
                return original(self, *inputs)
            finally:
                timings.add(label, (time.perf_counter() - started) * 1000)
                timings.node = outer

        return call

    def async_wrapper(label: str) -> Callable:
        def wrap(original: Callable) -> Callable:
            async def call(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    timings.add(label, (time.perf_counter() - started) * 1000)

            return call

        return wrap

    def action_wrapper(original: Callable) -> Callable:
        async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
            if self.name() == "action_answer_from_knowledge":
                timings.knowledge.append(
                    (
                        tracker.latest_message.text or "",
                        tracker.latest_message.intent or {},
                        tracker.get_slot("area"),
                    )
                )
            started = time.perf_counter()
            try:
                return await original(self, output_channel, nlg, tracker, domain)
            finally:
                timings.add(ACTION, (time.perf_counter() - started) * 1000)

        return run

    def embed_wrapper(original: Callable) -> Callable:
        def embed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if timings.node == "crisis check":
                    timings.add(CRISIS_MINILM, (time.perf_counter() - started) * 1000)
                elif timings.node == ANSWER:
                    timings.add(ANSWER_MINILM, (time.perf_counter() - started) * 1000)

        return embed

    def request_wrapper(original: Callable) -> Callable:
        def call_format(self: Any, tracker: Any, domain: Any) -> dict:
            body = original(self, tracker, domain)
            timings.requests.append(body)  # sized after the message, outside the timing
            return body

        return call_format

    patch(GraphNode, "__call__", node_wrapper)
    patch(RemoteAction, "_action_call_format", request_wrapper)
    patch(RemoteAction, "run", action_wrapper)
    store = agent.processor.tracker_store
    patch(store, "retrieve", async_wrapper(STORE_READ))
    patch(store, "save", async_wrapper(STORE_WRITE))
    if hasattr(bot.knowledge.embeddings, "embed"):  # the ONNX change may rename it; then no row
        patch(bot.knowledge.embeddings, "embed", embed_wrapper)
    return lambda: [u() for u in reversed(undo)]


def summarise(per_message: list[dict[str, float]]) -> list[dict]:
    """Rows of (stage, runs, p50, p95, mean per message, share of the total)."""
    total = sum(m.get(TOTAL, 0.0) for m in per_message) or 1.0
    rows = []
    for label in ORDER:
        values = [m[label] for m in per_message if label in m]
        if not values:
            continue
        rows.append(
            {
                "stage": label,
                "runs": len(values),
                "p50": pct(values, 0.5),
                "p95": pct(values, 0.95),
                "mean": sum(values) / len(per_message),
                "share": sum(values) / total,
            }
        )
    return rows


def with_other(stages: dict[str, float], total_ms: float) -> dict[str, float]:
    stages = dict(stages)
    stages[TOTAL] = total_ms
    stages[OTHER] = max(0.0, total_ms - sum(stages.get(k, 0.0) for k in IN_TOTAL))
    return stages


def stage_table(rows: list[dict], messages: int) -> str:
    lines = [
        f"| stage ({messages} messages) | ran on | p50 ms | p95 ms | mean ms/msg | share |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        inside = r["stage"] in INSIDE
        share = f"({r['share']:.0%})" if inside else f"{r['share']:.0%}"
        lines.append(
            f"| {r['stage']} | {r['runs']} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['mean']:.1f} | {share} |"
        )
    return "\n".join(lines)


def request_kb(timings: Timings) -> float:
    """Size of the JSON bodies sent to the action server for the last message."""
    size = sum(len(json.dumps(body, default=str)) for body in timings.requests)
    timings.requests.clear()
    return size / 1024


def growth_table(turns: list[dict[str, float]], request_sizes: list[float]) -> str:
    shown = [t for t in LONG_TURNS if t <= len(turns)]
    windows = {t: turn_window(t, len(turns)) for t in shown}
    head = " | ".join(f"turn {t} (turns {lo}-{hi})" for t, (lo, hi) in windows.items())
    lines = [
        f"| stage, median ms | {head} | last - first |",
        "| --- |" + " ---: |" * (len(shown) + 1),
    ]
    for label in ORDER:
        if label in (ANSWER, ANSWER_MINILM) or not any(label in t for t in turns):
            continue
        cells = []
        for t in shown:
            lo, hi = windows[t]
            cells.append(pct([m.get(label, 0.0) for m in turns[lo - 1 : hi]], 0.5))
        lines.append(
            f"| {label} | "
            + " | ".join(f"{c:.1f}" for c in cells)
            + f" | {cells[-1] - cells[0]:+.1f} |"
        )
    sizes = [pct(request_sizes[lo - 1 : hi], 0.5) for lo, hi in windows.values()]
    lines.append(
        "| *request body to the action server, KB (not ms)* | "
        + " | ".join(f"{k:.0f}" for k in sizes)
        + f" | {sizes[-1] - sizes[0]:+.0f} |"
    )
    return "\n".join(lines)


async def handle(agent: Any, timings: Timings, sender: str, text: str) -> dict[str, float]:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    timings.take()
    started = time.perf_counter()
    await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
    total = (time.perf_counter() - started) * 1000
    return with_other(timings.take(), total)


def time_answers(timings: Timings, retriever: Any) -> dict[str, float]:
    """Run bot.knowledge.answers.answer in this process for each knowledge action seen.

    Returns:
        The milliseconds it took and those of its MiniLM calls, when it ran.
    """
    from bot.knowledge.answers import answer
    from bot.people.contacts import normalise_area

    spent = 0.0
    timings.take()
    timings.node = ANSWER
    try:
        for text, intent, area in timings.knowledge:
            started = time.perf_counter()
            answer(
                retriever,
                text,
                intent.get("name"),
                float(intent.get("confidence") or 0.0),
                normalise_area(area) if area else None,
            )
            spent += (time.perf_counter() - started) * 1000
    finally:
        timings.node = None
    ran = bool(timings.knowledge)
    timings.knowledge.clear()
    minilm = timings.take().get(ANSWER_MINILM, 0.0)
    return {ANSWER: spent, ANSWER_MINILM: minilm} if ran else {}


async def profile(messages: int, turns: int) -> str:
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from bot.settings import get_settings
    from bot.stack.prepare import (
        child_env,
        loopback_settings,
        model_path,
        training_fingerprint,
    )
    from bot.stack.services import Stack

    # As `rasa run` logs by default (INFO): debug lines would be timed as Rasa's work.
    configure_logging_and_warnings(logging.INFO, warn_only_once=True)
    configure_structlog(logging.INFO)
    settings = loopback_settings("senbot-profile-")
    os.environ.update(child_env(settings))  # endpoints.yml reads these
    get_settings.cache_clear()
    model = model_path(settings)
    if not model.exists():
        raise SystemExit(f"{model} is missing: run `make prepare` first.")
    stamp = model.with_suffix(".fingerprint")
    stale = not stamp.exists() or stamp.read_text().strip() != training_fingerprint()
    if stale:
        print(
            "note: the model in var/ was trained from other inputs than this checkout's "
            "(bot.stack.training_fingerprint); this benchmark never trains",
            flush=True,
        )
    stack = Stack(settings)
    try:
        print(f"action server ready in {stack.start(['actions']):.1f} s", flush=True)
        from rasa.core.agent import load_agent
        from rasa.core.utils import AvailableEndpoints

        from bot.knowledge.search import Retriever
        from channels.never_silent import validate_action_responses_once

        validate_action_responses_once()  # as the channels do in `rasa run`

        started = time.perf_counter()
        agent = await load_agent(
            model_path=str(model),
            endpoints=AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")),
        )
        print(
            f"model loaded in {time.perf_counter() - started:.1f} s "
            f"(tracker store: {type(agent.tracker_store).__name__})",
            flush=True,
        )
        retriever = Retriever()
        timings = Timings()
        undo = instrument(agent, timings)
        plan = build_mix(400, message_sets(ROOT / "evaluation"))
        for _, text in (turn for conversation in plan[:2] for turn in conversation):
            await handle(agent, timings, "profile-warm", text)  # first-use loads
        timings.requests.clear()
        time_answers(timings, retriever)
        per_message: list[dict[str, float]] = []
        for n, conversation in enumerate(plan):
            for _, text in conversation:
                if len(per_message) >= messages:
                    break
                stages = await handle(agent, timings, f"profile-{n}", text)
                timings.requests.clear()
                stages.update(time_answers(timings, retriever))
                per_message.append(stages)
        print(f"mix: {len(per_message)} messages", flush=True)
        question = message_sets(ROOT / "evaluation")["knowledge"][0]
        long: list[dict[str, float]] = []
        request_sizes: list[float] = []
        for _ in range(turns):
            long.append(await handle(agent, timings, "profile-long", question))
            request_sizes.append(request_kb(timings))
            timings.knowledge.clear()
        print(f"long conversation: {turns} turns", flush=True)
        undo()
    finally:
        stack.stop()
    tables = [
        (
            "Per stage, over the mix (greetings, knowledge questions, handoffs, out of "
            "scope, crisis; `benchmarks/load.py`'s seeded conversations). *ran on*: messages "
            "on which the stage ran; p50/p95 over those; *mean ms/msg* and *share* over all "
            "messages. Shares in brackets are already inside another row."
        ),
        "",
        stage_table(summarise(per_message), len(per_message)),
        "",
        f'One conversation, the same question {turns} times: "{question}"',
        "",
        growth_table(long, request_sizes),
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end "
        "(other work shares the machine)"
        + (
            "; the model in var/ was trained from other inputs than this checkout's."
            if stale
            else "."
        ),
    ]
    return "\n".join(tables)


def write_docs(text: str, path: Path = DOCS) -> None:
    """Replace the block between the profile markers (append one if there is none)."""
    block = f"{START}\n{text}\n{END}"
    page = path.read_text("utf-8") if path.exists() else "# Speed\n"
    if START in page and END in page:
        page = page[: page.index(START)] + block + page[page.index(END) + len(END) :]
    else:
        page = page.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(page, "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 messages, 50 turns")
    parser.add_argument("--messages", type=int, default=0, help="messages of the mix (300)")
    parser.add_argument("--turns", type=int, default=0, help="turns of the long one (200)")
    parser.add_argument("--write", action="store_true", help=f"update {DOCS.name}")
    args = parser.parse_args()
    messages = args.messages or (60 if args.quick else 300)
    turns = args.turns or (50 if args.quick else 200)
    with contextlib.suppress(AttributeError):
        asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    text = asyncio.run(profile(messages, turns))
    print()
    print(text)
    if args.write:
        write_docs(text)
        print(f"\nwritten to {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
