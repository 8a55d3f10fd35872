"""Crisis-reply latency through the REST channel, detector speed, recall and false alarms.

Run: ``.venv/bin/python benchmarks/safety.py`` (after ``make test`` or ``make run``
has trained the model and built the index). It starts the real action server,
Rasa server and widget on free loopback ports, as ``make run`` does, and prints:

- the detector alone (bot.safety.check, model warm): p50/p95 per message,
  recall on tests/safety/crisis.yml and disclosure.yml, false alarms on
  not_crisis.yml, and which layer caught each crisis;
- through ``/webhooks/rest/webhook``: p50/p95/max reply latency for every crisis
  message (208, each in a new conversation; target p95 <= 100 ms), how many
  replies carried every crisis route, and how many ordinary messages got the
  crisis or safeguarding reply.
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import safety  # noqa: E402
from bot.embeddings import use_threads  # noqa: E402
from bot.stack import Stack, prepare  # noqa: E402
from benchmarks import loopback_settings  # noqa: E402
from tests.safety.conftest import messages  # noqa: E402

CRISIS_ROUTES = ("999", "111", "0800 068 4141", "0800 1111", "116 123", "85258")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[round(share * (len(ordered) - 1))]


def summary(values: list[float]) -> str:
    return (f"p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
            f"max {max(values):.1f} ms")


def detector(crisis: list[str], disclosure: list[str], ordinary: list[str]) -> None:
    use_threads(1)  # as nlu_components/crisis.py sets it in the Rasa server
    safety.warm_up()
    safety.check("warm up the tokenizer")
    timings: dict[str, list[float]] = {"crisis": [], "ordinary": []}
    layers: collections.Counter[str] = collections.Counter()
    for kind, batch in (("crisis", crisis), ("ordinary", ordinary)):
        for message in batch:
            started = time.perf_counter()
            result = safety.check(message)
            timings[kind].append((time.perf_counter() - started) * 1000)
            if kind == "crisis":
                layers[result.layer or "missed"] += 1
    found = sum(safety.check(m).kind == safety.CRISIS for m in crisis)
    told = sum(safety.check(m).flagged for m in disclosure)
    alarms = sum(safety.check(m).flagged for m in ordinary)
    for kind, values in timings.items():
        print(f"detector only, {kind} messages ({len(values)}): {summary(values)}"
              + (" (patterns found nothing, so MiniLM ran)" if kind == "ordinary" else ""))
    print(f"detector recall: crisis {found}/{len(crisis)} = {found / len(crisis):.3f}, "
          f"disclosure {told}/{len(disclosure)} = {told / len(disclosure):.3f}")
    print(f"detector false alarms: {alarms}/{len(ordinary)} = {alarms / len(ordinary):.1%} "
          f"(target <= 5%)")
    print("crisis caught by layer: " + ", ".join(f"{k} {v}" for k, v in layers.most_common()))


def post(url: str, sender: str, message: str) -> tuple[float, str]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
        replies = json.loads(reply.read())
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, "\n".join(r.get("text", "") for r in replies)


def main() -> None:
    crisis, disclosure, ordinary = (
        messages("crisis"), messages("disclosure"), messages("not_crisis"))
    detector(crisis, disclosure, ordinary)

    settings = loopback_settings("senbot-safety-bench-")
    prepare(settings)
    stack = Stack(settings)
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    try:
        stack.start()
        for i in range(5):  # first requests pay for lazy set-up inside Rasa
            post(url, f"warm-{i}", "hello")
        timings, complete = [], 0
        for i, message in enumerate(crisis):
            elapsed, text = post(url, f"crisis-{i}", message)
            timings.append(elapsed)
            complete += all(r in text for r in CRISIS_ROUTES) and "still here" in text
        print(f"crisis reply over REST ({len(timings)} messages): {summary(timings)} "
              f"(target p95 <= 100 ms)")
        print(f"REST replies with every crisis route: {complete}/{len(crisis)} "
              f"= {complete / len(crisis):.3f}")
        alarmed = 0
        for i, message in enumerate(ordinary):
            _, text = post(url, f"ordinary-{i}", message)
            alarmed += "999" in text
        print(f"REST false alarms (ordinary message got the crisis/safeguarding reply): "
              f"{alarmed}/{len(ordinary)} = {alarmed / len(ordinary):.1%}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
