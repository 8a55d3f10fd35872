"""Benchmark scripts: each prints its figures; none is a timed test.

Also the headless browser both ``benchmarks/widget.py`` and the browser tests
(``tests/e2e``) drive, so neither imports the other's files.
"""

from __future__ import annotations

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

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "free_port", "loopback_settings"]
