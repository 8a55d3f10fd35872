"""Headless Chromium (Debian's, driven by Playwright) for the widget's browser tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from benchmarks import CHROMIUM, CHROMIUM_ARGS
from bot.settings import REPO_ROOT

AXE = REPO_ROOT / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One browser per test module; ``make browser`` installs it.

    Module scope, not session: Playwright's sync API keeps an event loop running
    in the main thread while it is open, and later tests call ``asyncio.run``.
    """
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.fail("Debian's chromium is missing: run `make browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
