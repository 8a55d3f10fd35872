"""Benchmark scripts: each prints its figures; none is a timed test.

Also the headless browser both ``benchmarks/widget.py`` and the browser tests
(``tests/e2e``) drive, so neither imports the other's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.stack.prepare import free_port, loopback_settings

CHROMIUM = Path("/usr/bin/chromium")  # Debian's, installed by `make browser`
# No downloads, no background traffic: the browser only talks to the loopback stack.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` 0 to 1) in the values' own unit; nan when
    there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "free_port", "loopback_settings", "percentile"]
