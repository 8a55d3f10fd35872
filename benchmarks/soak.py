"""Soak: the real stack at a steady message rate for half an hour, watched for drift.

Run: ``make soak`` (30 minutes at 10 messages a second) or
``make soak ARGS=--quick`` (3 minutes); ``--minutes`` and ``--rate`` change them.
It starts the action server, Rasa and the widget on free loopback ports with a
fresh tracker store (``bot.stack.loopback_settings``), then sends conversations of
4 to 12 messages to ``/webhooks/rest/webhook`` from a fixed, seeded mix:
knowledge questions (``evaluation/retrieval_cases.yml``), a handoff ("can I talk to
someone", then an area), greetings, out-of-scope questions, thanks, and a few
crisis messages (``evaluation/safety/crisis.yml``).

Every 30 s, and at the end, it prints each service's resident memory (VmRSS from
``/proc/PID/status``) and CPU time (``/proc/PID/stat``), its children included. At
the end it prints the messages sent and the rate achieved, the errors (status
other than 200, timeouts, connection errors, empty replies ``[]``), the replies
that were the fixed "can't look that up right now" reply (``bot/people/unavailable.py``;
counted apart: the assistant still answered, but a look-up was too slow or failed),
latency p50/p95/p99 in the first and the last 5 minutes, memory growth of each
service after warm-up (the first sample at or after 2 minutes against the last)
and CPU milliseconds per message. It exits with 1 if there was any error.

The load comes from locust (``locust.env.Environment`` with a ``LocalRunner`` and a
``FastHttpUser`` at ``constant_throughput``). Locust needs gevent and newer
libraries than Rasa's pins allow, so it lives in its own environment,
``var/tools/soak-venv`` (``make soak`` creates it; the project's lock is not
touched), and this file runs twice: from ``.venv`` it starts and samples the
stack and reads the results, and it starts itself under the tool environment
with ``--load`` to send the messages and write one JSON line per message.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL_PYTHON = ROOT / "var" / "tools" / "soak-venv" / "bin" / "python"
WEBHOOK = "/webhooks/rest/webhook"
SAMPLE_EVERY = 30.0  # seconds between memory and CPU samples
WARM_UP = 120.0  # memory growth is measured from the first sample after this
DRIFT_WINDOW = 300.0  # "first and last 5 minutes"
TIMEOUT = 10.0  # a reply slower than this is an error (the channels answer by 1.6 s)
SEED = 14

GREETINGS = ["hello", "hi", "hiya, i'm a parent", "good morning", "hey, anyone there?"]
THANKS = ["thanks", "thank you, that helps", "cheers", "thanks so much"]
OUT_OF_SCOPE = [
    "how do i pay my council tax",
    "when is my bin collection",
    "what's 7 times 8",
    "can you do my maths homework",
    "what's the weather tomorrow",
]
HANDOFF = [
    "can I talk to someone",
    "can i speak to a real person",
    "I want to talk to someone about my son's support",
]
AREAS = ["Cornwall", "Buckinghamshire", "Oxfordshire", "Truro", "High Wycombe"]


# --- the plan: seeded conversations (runs in .venv) --------------------------------


def build_plan(messages_needed: int, seed: int = SEED) -> list[list[list[str]]]:
    """Conversations of 4 to 12 ``[kind, message]`` turns, enough for the run.

    About one conversation in 12 carries a crisis message, so the crisis reply is
    exercised all through the run without dominating it.
    """
    import yaml

    cases = yaml.safe_load((ROOT / "evaluation" / "retrieval_cases.yml").read_text("utf-8"))
    questions = [c["q"] for c in cases["cases"]]
    crisis_sets = yaml.safe_load((ROOT / "evaluation" / "safety" / "crisis.yml").read_text("utf-8"))
    crisis = [str(m) for group in crisis_sets.values() for m in group][:40]
    rng = random.Random(seed)
    plan: list[list[list[str]]] = []
    total = 0
    while total < messages_needed:
        length = rng.randint(4, 12)
        turns: list[list[str]] = [["greeting", rng.choice(GREETINGS)]]
        while len(turns) < length - 1:
            roll = rng.random()
            if roll < 0.70:
                turns.append(["knowledge", rng.choice(questions)])
            elif roll < 0.82 and len(turns) < length - 2:
                turns.append(["handoff", rng.choice(HANDOFF)])
                turns.append(["area", rng.choice(AREAS)])
            elif roll < 0.94:
                turns.append(["out_of_scope", rng.choice(OUT_OF_SCOPE)])
            elif roll < 0.97:
                turns.append(["crisis", rng.choice(crisis)])
            else:
                turns.append(["thanks", rng.choice(THANKS)])
        turns.append(["thanks", rng.choice(THANKS)])
        plan.append(turns)
        total += len(turns)
    return plan


# --- the load (runs in the tool environment, under gevent) -------------------------


def run_load(args: argparse.Namespace) -> int:
    """Send the plan's messages at ``args.rate`` for ``args.seconds``; one JSON line each."""
    import gevent
    from locust import FastHttpUser, constant_throughput, events, task
    from locust.env import Environment

    job = json.loads(Path(args.load).read_text("utf-8"))
    plan, fallback_mark = job["plan"], job["fallback_mark"]
    # Each user waits for its reply before the next message, so at latency L one
    # user manages at most 1/L messages a second: 3 users per message a second
    # keep the rate with replies of up to 3 s.
    users = max(4, round(args.rate * 3))
    out = open(job["results"], "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed below
    started = time.monotonic()
    state = {"next": 0}

    class Parent(FastHttpUser):
        host = job["host"]
        wait_time = constant_throughput(args.rate / users)
        network_timeout = TIMEOUT
        connection_timeout = TIMEOUT

        def on_start(self) -> None:
            self.turns: list[list[str]] = []
            self.sender = ""

        @task
        def say(self) -> None:
            if not self.turns:
                n = state["next"]
                state["next"] += 1
                self.turns = list(plan[n % len(plan)])
                self.sender = f"soak-{n}"
            kind, message = self.turns.pop(0)
            sent = time.monotonic()
            with self.client.post(
                WEBHOOK,
                json={"sender": self.sender, "message": message},
                name=kind,
                catch_response=True,
            ) as reply:
                latency = time.monotonic() - sent
                outcome, text = "ok", ""
                if reply.status_code == 0:
                    error = str(reply.error or "")
                    outcome = (
                        "timeout"
                        if "timed out" in error.lower()
                        or "timeout" in type(reply.error).__name__.lower()
                        else "connection"
                    )
                    text = error[:200]
                elif reply.status_code != 200:
                    outcome, text = f"http_{reply.status_code}", (reply.text or "")[:200]
                else:
                    try:
                        body = reply.json()
                    except ValueError:
                        body = None
                    if not isinstance(body, list):
                        outcome, text = "bad_json", (reply.text or "")[:200]
                    elif not body:
                        outcome = "empty"
                    else:
                        text = "\n".join(
                            str(r.get("text", "")) for r in body if isinstance(r, dict)
                        )
                        if fallback_mark in text:
                            outcome = "fallback"
                        elif kind == "crisis" and "999" not in text:
                            outcome = "crisis_without_999"
                if outcome in ("ok", "fallback"):
                    reply.success()
                else:
                    reply.failure(outcome)
            out.write(
                json.dumps(
                    {
                        "t": round(sent - started, 3),
                        "ms": round(latency * 1000, 1),
                        "kind": kind,
                        "outcome": outcome,
                        "text": "" if outcome == "ok" else text[:200],
                    }
                )
                + "\n"
            )

    env = Environment(user_classes=[Parent], events=events)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(1.0, users / 5))  # spread the users' first turns
    gevent.spawn_later(args.seconds, runner.quit)
    runner.greenlet.join()
    out.close()
    return 0


# --- /proc sampling (runs in .venv) ------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree(pid: int, kids: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(kids.get(p, []))
    return found


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a zombie has no VmRSS


def _cpu_s(pid: int) -> float:
    """utime + stime of the process and of its children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS


def sample(pids: dict[str, int]) -> dict[str, dict[str, float]]:
    """{service: {"rss_mb", "cpu_s", "procs"}}, each summed over the process tree."""
    kids = _children()
    result = {}
    for name, pid in pids.items():
        rss = cpu = 0.0
        procs = 0
        for p in _tree(pid, kids):
            try:
                rss += _rss_kb(p) / 1024
                cpu += _cpu_s(p)
                procs += 1
            except (OSError, ValueError):
                continue  # exited between the listing and the read
        result[name] = {"rss_mb": rss, "cpu_s": cpu, "procs": procs}
    return result


def print_sample(t: float, s: dict[str, dict[str, float]], sent: int) -> None:
    cells = "  ".join(
        f"{name} {v['rss_mb']:7.1f} MB {v['cpu_s']:8.1f} s cpu ({v['procs']:.0f} proc)"
        for name, v in s.items()
    )
    print(f"[{t / 60:5.1f} min] sent {sent:6d}  {cells}", flush=True)


# --- the report (runs in .venv) ----------------------------------------------------


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_line(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label}: no messages"
    return (
        f"  {label}: n {len(values)}, p50 {pct(values, 0.5):.0f} ms, "
        f"p95 {pct(values, 0.95):.0f} ms, p99 {pct(values, 0.99):.0f} ms, "
        f"max {max(values):.0f} ms"
    )


def load_line(load: list[float]) -> str:
    return "load average " + " / ".join(f"{x:.2f}" for x in load) + " (1 / 5 / 15 min)"


def report(
    records: list[dict],
    samples: list[tuple[float, dict]],
    seconds: float,
    rate: float,
    loads: list[tuple[float, float, float]],
) -> int:
    """Print the figures; return the number of errors."""
    sent = len(records)
    counts: dict[str, int] = {}
    for r in records:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    errors = sum(n for outcome, n in counts.items() if outcome not in ("ok", "fallback"))
    fallbacks = counts.get("fallback", 0)
    kinds: dict[str, int] = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print("\n=== soak result ===")
    print(
        f"duration {seconds / 60:.1f} min, target {rate:g} msg/s, "
        f"achieved {sent / seconds:.2f} msg/s"
    )
    print(
        f"messages sent: {sent} (" + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")"
    )
    print(
        f"errors: {errors}"
        + (
            " ("
            + ", ".join(
                f"{k} {v}" for k, v in sorted(counts.items()) if k not in ("ok", "fallback")
            )
            + ")"
            if errors
            else ""
        )
    )
    by_kind: dict[str, int] = {}
    for r in records:
        if r["outcome"] == "fallback":
            by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + 1
    print(
        f"fixed 'can't look that up right now' replies: {fallbacks}"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())) + ")"
            if fallbacks
            else ""
        )
    )
    for r in [r for r in records if r["outcome"] not in ("ok", "fallback")][:10]:
        print(f"  error at {r['t']:.1f} s ({r['kind']}): {r['outcome']} {r['text'][:120]!r}")
    window = min(DRIFT_WINDOW, seconds / 3)  # a short run's windows must not overlap
    first = [r["ms"] for r in records if r["t"] < window]
    last = [r["ms"] for r in records if r["t"] >= seconds - window]
    print(f"latency (all replies), first and last {window / 60:.3g} min:")
    print(latency_line("first", first))
    print(latency_line("last ", last))
    if first and last:
        print(
            f"  drift: p50 {pct(last, 0.5) - pct(first, 0.5):+.0f} ms, "
            f"p95 {pct(last, 0.95) - pct(first, 0.95):+.0f} ms, "
            f"p99 {pct(last, 0.99) - pct(first, 0.99):+.0f} ms"
        )
    for kind in ("knowledge", "crisis", "greeting"):
        values = [r["ms"] for r in records if r["kind"] == kind]
        print(latency_line(f"{kind} (whole run)", values))
    _, start = samples[0]
    end_t, end = samples[-1]
    warm = next(((t, s) for t, s in samples if t >= WARM_UP), None)
    print("resident memory (children included), after warm-up:")
    for name in end:
        if warm is None or warm[0] >= end_t:
            print(
                f"  {name}: {end[name]['rss_mb']:.1f} MB at the end "
                f"(run shorter than the {WARM_UP / 60:g} min warm-up)"
            )
            continue
        before, after = warm[1][name]["rss_mb"], end[name]["rss_mb"]
        growth = (after - before) / before * 100 if before else 0.0
        print(
            f"  {name}: {before:.1f} MB at {warm[0] / 60:.1f} min -> {after:.1f} MB at "
            f"{end_t / 60:.1f} min: {after - before:+.1f} MB ({growth:+.1f}%)"
        )
    print("CPU per message (all processes of each service, start to end of the load):")
    total = 0.0
    for name in end:
        used = end[name]["cpu_s"] - start[name]["cpu_s"]
        total += used
        print(f"  {name}: {used:.1f} s, {used * 1000 / max(sent, 1):.1f} ms per message")
    print(
        f"  all three: {total * 1000 / max(sent, 1):.1f} ms per message "
        f"(the load generator runs on the same cores and is not counted)"
    )
    print(
        "machine: "
        + load_line(loads[0])
        + " at the start, "
        + load_line(loads[-1])
        + f" at the end; {os.cpu_count()} cores"
    )
    return errors


# --- main (runs in .venv) ----------------------------------------------------------


def soak(minutes: float, rate: float) -> int:
    sys.path.insert(0, str(ROOT))
    from bot.people.unavailable import cannot_look_up
    from bot.stack.prepare import loopback_settings, prepare
    from bot.stack.services import Stack

    if not TOOL_PYTHON.exists():
        raise SystemExit(f"{TOOL_PYTHON} is missing: run `make soak` (it creates it).")
    seconds = minutes * 60
    work = Path(tempfile.mkdtemp(prefix="senbot-soak-run-"))
    fallback_mark = cannot_look_up().split(".")[0]  # "Sorry, I can't look that up right now"
    settings = loopback_settings("senbot-soak-")
    prepare(settings)
    stack = Stack(settings)
    job = {
        "host": settings.rasa_url,
        "fallback_mark": fallback_mark,
        "results": str(work / "replies.jsonl"),
        "plan": build_plan(int(seconds * rate * 1.2) + 100),
    }
    (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
    print(
        f"soak: {minutes:g} min at {rate:g} msg/s against {settings.rasa_url}{WEBHOOK}; "
        f"{len(job['plan'])} conversations planned (seed {SEED}); "
        f"{load_line(os.getloadavg())}",
        flush=True,
    )
    loads = [os.getloadavg()]
    try:
        print(f"starting the stack: ready in {stack.start():.1f} s", flush=True)
        pids = {name: service.process.pid for name, service in stack.services.items()}
        print("pids: " + ", ".join(f"{n} {p}" for n, p in pids.items()), flush=True)
        load = subprocess.Popen(
            [
                str(TOOL_PYTHON),
                __file__,
                "--load",
                str(work / "job.json"),
                "--rate",
                str(rate),
                "--seconds",
                str(seconds),
            ],
            cwd=ROOT,
            stdout=open(work / "locust.log", "wb"),  # noqa: SIM115 - the child owns it
            stderr=subprocess.STDOUT,
        )
        began = time.monotonic()
        samples = [(0.0, sample(pids))]
        print_sample(0.0, samples[0][1], 0)
        next_at = SAMPLE_EVERY
        while load.poll() is None:
            time.sleep(min(1.0, max(0.0, began + next_at - time.monotonic())))
            now = time.monotonic() - began
            if now >= next_at:
                samples.append((now, sample(pids)))
                print_sample(now, samples[-1][1], _count(job["results"]))
                loads.append(os.getloadavg())
                if stack.dead():
                    print(f"  service(s) exited: {', '.join(stack.dead())}", flush=True)
                next_at += SAMPLE_EVERY
        end = time.monotonic() - began
        samples.append((end, sample(pids)))
        print_sample(end, samples[-1][1], _count(job["results"]))
        loads.append(os.getloadavg())
        if load.returncode != 0:
            print((work / "locust.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            raise SystemExit(f"the load generator failed (exit {load.returncode})")
        dead = stack.dead()
    finally:
        stack.stop()
    records = [
        json.loads(line)
        for line in Path(job["results"]).read_text("utf-8").splitlines()
        if line.strip()
    ]
    errors = report(records, samples, seconds, rate, loads)
    if dead:
        print(f"services that exited during the run: {', '.join(dead)}")
    print(f"raw replies: {job['results']}")
    return 1 if errors or dead else 0


def _count(path: str) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    parser.add_argument("--quick", action="store_true", help="3 minutes")
    parser.add_argument("--rate", type=float, default=10.0, help="messages a second (10)")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # the tool environment's part
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return run_load(args)
    return soak(3.0 if args.quick else args.minutes, args.rate)


if __name__ == "__main__":
    sys.exit(main())
