"""Rasa Webchat, the real npm package, talks to our socket.io channel from another site.

The page is served by a small HTTP server on another loopback port, an origin listed
in the stack's ``SENBOT_ALLOWED_ORIGINS`` (see ``tests/conftest.py``), so the browser
applies its cross-origin rules exactly as on a council's site. ``make browser``
installs the package (pinned) into ``var/node``.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from bot.settings import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WEBCHAT_VERSION = "1.0.1"
WEBCHAT = REPO_ROOT / "var" / "node" / "node_modules" / "rasa-webchat"
QUESTION = "What is SEN Support?"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another school's page</title></head>
<body><h1>Our SEN Support page</h1>
<script src="/webchat.js"></script>
<script>
  WebChat.default({{ socketUrl: {rasa_url}, socketPath: "/socket.io/",
                     customData: {{ language: "en" }}, params: {{ storage: "session" }},
                     title: "Ask about SEN Support" }}, null);
</script>
</body></html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the test's output stays readable
        pass


@pytest.fixture(scope="module")
def other_site(live_stack, tmp_path_factory) -> Iterator[str]:
    """A page embedding Rasa Webchat, served from the stack's other allowed origin."""
    package = json.loads((WEBCHAT / "package.json").read_text(encoding="utf-8"))
    if package.get("version") != WEBCHAT_VERSION:
        pytest.fail(f"rasa-webchat {WEBCHAT_VERSION} is missing: run `make browser`")
    root = tmp_path_factory.mktemp("other-site")
    shutil.copy(WEBCHAT / "lib" / "index.js", root / "webchat.js")
    page = PAGE.format(rasa_url=json.dumps(live_stack.rasa_url))
    (root / "index.html").write_text(page, encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", live_stack.other_site_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield live_stack.other_site_origin + "/index.html"
    finally:
        server.shutdown()
        server.server_close()


def bot_texts(frames: list[str]) -> list[str]:
    """Texts of the ``bot_uttered`` events among socket.io websocket frames."""
    texts = []
    for frame in frames:
        if frame.startswith("42"):  # engine.io message + socket.io event
            name, *args = json.loads(frame[2:])
            if name == "bot_uttered" and args and isinstance(args[0], dict):
                texts.append(args[0].get("text") or "")
    return texts


def test_rasa_webchat_on_another_site_answers_over_websocket(chromium, live_stack, other_site):
    # The answer the REST channel gives, to recognise it in the web chat.
    expected = live_stack.say(uuid.uuid4().hex, QUESTION)[0]["text"]
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sockets: list[str] = []
    frames: list[str] = []
    console: list[str] = []

    def on_websocket(ws) -> None:
        sockets.append(ws.url)
        ws.on(
            "framereceived",
            lambda data: frames.append(
                data if isinstance(data, str) else data.decode("utf-8", "replace")
            ),
        )

    page.on("websocket", on_websocket)
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    try:
        page.goto(other_site)
        page.locator(".rw-launcher").click()
        box = page.locator(".rw-new-message")
        expect(box).to_be_visible(timeout=30_000)
        box.fill(QUESTION)
        box.press("Enter")
        # Webchat renders the text as Markdown and shows one message at a time, so
        # wait for the answer's first words.
        first_words = " ".join(re.sub(r"[*_`#\[\]()]", "", expected).split()[:6])
        expect(page.locator(".rw-response", has_text=first_words).first).to_be_visible(
            timeout=60_000
        )
        assert page.url.startswith(live_stack.other_site_origin)
    finally:
        context.close()

    assert any("transport=websocket" in url for url in sockets), sockets
    assert expected in bot_texts(frames), "the answer did not arrive over the websocket"
    # Before the fix: "WebSocket connection to ... failed: Invalid frame header".
    assert not [line for line in console if "WebSocket" in line], console
