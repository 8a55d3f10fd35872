"""Scaled stack: messages a second through nginx with 2 Rasa servers against 1.

Run: ``make scaled-benchmark`` or ``.venv/bin/python benchmarks/scaled.py``
(``--seconds 60 --concurrency 50``; ``--kill-run 180 --rate 5`` adds a steady-rate
run with Rasa server 1 killed in the middle and restarted by the supervisor). It
starts ``make run-scaled``'s processes (``bot.stack.scaled``) on free loopback ports with
a throwaway PostgreSQL and Redis in a temporary folder, the model and index from
``var/``, and never trains.

Each simulated person sends one conversation (greeting, two knowledge questions, a
request for a person and an area, thanks) through ``/webhooks/rest/webhook`` with no
think time, then starts another with a new sender id. Per level it prints messages
a second, latency p50/p95, errors (non-200, timeouts, empty replies), the fixed
"can't look that up right now" replies counted apart, and the user events stored in
PostgreSQL against the messages answered (lost events). The 1-server level stops
Rasa server 2, so both levels share one PostgreSQL, Redis and nginx.

The kill run reports messages that failed (they were in flight at the kill), fixed
replies, lost events and conversations whose stored messages are out of order.
A benchmark that prints figures, not a test; the figures are in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import get_settings  # noqa: E402
from bot.stack.scaled import Layout, build, missing_tools, start_scaled  # noqa: E402
from bot.stack.services import Stack  # noqa: E402

WEBHOOK = "/webhooks/rest/webhook"
FIXED = "Sorry, I can't look that up right now"
CONVERSATION = (
    "hello",
    "what is an EHC needs assessment?",
    "who pays for SEN support?",
    "can i talk to a real person",
    "Cornwall",
    "thank you",
)
TIMEOUT = 30.0


@dataclass
class Tally:
    """What one level or run saw."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    fixed: int = 0
    answered: dict[str, list[str]] = field(default_factory=dict)  # sender -> messages
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sender: str, message: str, seconds: float, outcome: str) -> None:
        with self.lock:
            if outcome == "error":
                self.errors += 1
                return
            self.latencies.append(seconds)
            self.fixed += outcome == "fixed"
            self.answered.setdefault(sender, []).append(message)

    @property
    def ok(self) -> int:
        return len(self.latencies)


def send(base: str, sender: str, message: str) -> tuple[float, str]:
    """One message; (seconds, "ok" | "fixed" | "error")."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(  # noqa: S310 - http only
        base + WEBHOOK, data=body, headers={"Content-Type": "application/json"}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:  # noqa: S310
            replies = json.loads(reply.read() or b"null")
            status = reply.status
    except (urllib.error.URLError, OSError, ValueError):
        return time.monotonic() - started, "error"
    seconds = time.monotonic() - started
    if status != 200 or not isinstance(replies, list) or not replies:
        return seconds, "error"
    text = " ".join(r.get("text") or "" for r in replies)
    return seconds, "fixed" if FIXED in text else "ok"


def closed_loop(base: str, prefix: str, concurrency: int, seconds: float) -> tuple[Tally, float]:
    """``concurrency`` people each sending conversations back to back for ``seconds``."""
    tally = Tally()
    deadline = time.monotonic() + seconds

    def person(i: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            sender = f"{prefix}-{i}-{n}"
            for message in CONVERSATION:
                if time.monotonic() >= deadline:
                    break
                took, outcome = send(base, sender, message)
                tally.record(sender, message, took, outcome)
            n += 1

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(person, range(concurrency)))
    return tally, time.monotonic() - started


def stored(layout: Layout, prefix: str) -> dict[str, list[str]]:
    """The user messages stored in PostgreSQL per sender with this prefix, in order."""
    import psycopg2

    conn = psycopg2.connect(layout.tracker_url)
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT sender_id, data FROM events WHERE type_name = 'user' "
            "AND sender_id LIKE %s ORDER BY id",
            (prefix + "-%",),
        )
        rows = cur.fetchall()
    conn.close()
    found: dict[str, list[str]] = {}
    for sender, data in rows:
        found.setdefault(sender, []).append(json.loads(data).get("text"))
    return found


def check_stored(layout: Layout, prefix: str, tally: Tally) -> tuple[int, int]:
    """(lost events, conversations out of order), after late turns have finished."""
    time.sleep(5)  # turns past the reply deadline finish in the background
    found = stored(layout, prefix)
    lost = sum(max(0, len(sent) - len(found.get(s, []))) for s, sent in tally.answered.items())
    disordered = sum(
        1
        for s, sent in tally.answered.items()
        if [m for m in found.get(s, []) if m in sent] != sent[: len(found.get(s, []))]
    )
    return lost, disordered


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_levels(stack: Stack, layout: Layout, base: str, args: argparse.Namespace) -> None:
    rows = []
    for servers in sorted(args.servers, reverse=True):
        stack.stop([f"rasa{i}" for i in range(servers + 1, len(layout.rasa_ports) + 1)])
        prefix = f"load{servers}"
        tally, elapsed = closed_loop(base, prefix, args.concurrency, args.seconds)
        lost, disordered = check_stored(layout, prefix, tally)
        rows.append((servers, tally, elapsed, lost, disordered))
    print(
        f"\n{args.concurrency} concurrent conversations, {args.seconds:.0f} s a level, "
        f"through nginx; load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        "Rasa servers | msg/s | p50 s | p95 s | errors | fixed replies | lost events | out of order"
    )
    for servers, tally, elapsed, lost, disordered in rows:
        print(
            f"{servers:12d} | {tally.ok / elapsed:5.1f} | {pct(tally.latencies, 0.5):5.2f} | "
            f"{pct(tally.latencies, 0.95):5.2f} | {tally.errors:6d} | {tally.fixed:13d} | "
            f"{lost:11d} | {disordered:12d}"
        )


def kill_run(stack: Stack, layout: Layout, base: str, args: argparse.Namespace) -> None:
    """A steady rate over 2 servers; Rasa server 1 killed halfway, restarted by supervision."""
    missing = [f"rasa{i}" for i in range(1, 3) if not stack.services[f"rasa{i}"].running()]
    if missing:
        stack.start(missing)
    stopping = threading.Event()
    supervisor = threading.Thread(target=stack.supervise, args=(stopping,), daemon=True)
    supervisor.start()
    tally = Tally()
    people = 12  # each waits for its reply, so a conversation's order is the client's
    period = people / args.rate
    started = time.monotonic()
    deadline = started + args.kill_run
    killed_at: list[float] = []

    def person(i: int) -> None:
        n = sent = 0
        next_at = started + i * period / people
        while True:
            sender = f"kill-{i}-{n}"
            for message in CONVERSATION:
                time.sleep(max(0.0, next_at - time.monotonic()))
                if time.monotonic() >= deadline:
                    return
                next_at += period
                took, outcome = send(base, sender, message)
                tally.record(sender, message, took, outcome)
                sent += 1
            n += 1

    def killer() -> None:
        time.sleep(args.kill_run / 2)
        process = stack.services["rasa1"].process
        assert process is not None
        os.killpg(process.pid, 9)
        killed_at.append(time.monotonic() - started)

    threading.Thread(target=killer, daemon=True).start()
    with ThreadPoolExecutor(people) as pool:
        list(pool.map(person, range(people)))
    i = tally.ok + tally.errors
    stopping.set()
    supervisor.join(5)
    lost, disordered = check_stored(layout, "kill", tally)
    rasa1 = stack.services["rasa1"]
    print(
        f"\nSteady {args.rate:g} msg/s for {args.kill_run:.0f} s over 2 Rasa servers; "
        f"Rasa server 1 killed (SIGKILL) at {killed_at[0]:.0f} s, restarted "
        f"{rasa1.restarts} time(s) by the supervisor"
    )
    print(
        f"sent {i}, answered {tally.ok} (fixed replies {tally.fixed}), failed {tally.errors}, "
        f"p50 {pct(tally.latencies, 0.5):.2f} s, p95 {pct(tally.latencies, 0.95):.2f} s, "
        f"lost events {lost}, conversations out of order {disordered}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--servers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[2, 1],
        help="levels, e.g. 2,1",
    )
    parser.add_argument("--kill-run", type=float, default=0, help="seconds (0: skip)")
    parser.add_argument("--rate", type=float, default=6, help="msg/s in the kill run")
    args = parser.parse_args(argv)
    if missing_tools():  # skipped, not failed: `make benchmark` runs every file here
        print(f"Skipped: {', '.join(missing_tools())} missing (`make scaled-tools`)")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="senbot-scaled-bench-"))
    tmp.chmod(0o755)  # PostgreSQL runs as the postgres user
    settings = get_settings()
    layout = Layout.free(tmp / "state", rasa=max(args.servers + [2]), actions=2)
    stack, scaled = build(settings, layout, fast=True)
    try:
        print(f"Started in {start_scaled(stack, layout):.0f} s", flush=True)
        for n in range(10):  # warm-up: each server loads its models on first use
            send(scaled.rasa_url, f"warm-{n}", CONVERSATION[n % len(CONVERSATION)])
        if args.seconds > 0:
            load_levels(stack, layout, scaled.rasa_url, args)
        if args.kill_run > 0:
            kill_run(stack, layout, scaled.rasa_url, args)
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
