"""Cold start, memory and REST round trip of the real stack, printed as a table.

Run: ``.venv/bin/python benchmarks/startup.py`` (after ``make run`` or
``make test`` has trained the model and built the index). It starts the action
server, the Rasa server and the widget on free loopback ports, as ``make run``
does, and reports:

- seconds from starting the processes until each answers (target: ≤ 20 s, issue 15),
- resident memory of each service's process group once ready,
- p50/p95 of a "hello" round trip through ``/webhooks/rest/webhook``
  (it includes the call to the action server).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import loopback_settings  # noqa: E402
from bot.stack.prepare import prepare  # noqa: E402
from bot.stack.services import Stack  # noqa: E402


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in a process group, in MB."""
    total_kb = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # fields[2] is the process group id
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def main() -> None:
    settings = loopback_settings("senbot-bench-")
    prepare(settings)
    stack = Stack(settings)
    try:
        total = stack.start()
        time.sleep(2)  # let start-up allocations settle before reading memory
        print(f"{'service':<10}{'ready after (s)':>17}{'RSS (MB)':>11}")
        for name, service in stack.services.items():
            rss = group_rss_mb(os.getpgid(service.process.pid))
            print(f"{name:<10}{service.ready_after:>17.1f}{rss:>11.0f}")
        print(f"all three ready in {total:.1f} s (target ≤ 20 s)")

        timings = []
        for i in range(30):
            body = json.dumps({"sender": f"bench-{i % 3}", "message": "hello"}).encode()
            request = urllib.request.Request(
                f"{settings.rasa_url}/webhooks/rest/webhook",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
                reply.read()
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[int(0.95 * (len(timings) - 1))]
        print(
            f"'hello' round trip over REST (30 requests): "
            f"p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
