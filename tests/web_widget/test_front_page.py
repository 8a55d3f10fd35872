"""The widget app's front page: what the service is, its parts' state, the embed line."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import free_port
from web_widget import create_app


class Answers(BaseHTTPRequestHandler):
    delay = 0.0

    def do_GET(self):  # noqa: N802
        time.sleep(self.delay)
        try:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the front page stopped waiting, as it should

    def log_message(self, *args):
        pass


class Hangs(Answers):
    delay = 5.0


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def up():
    server, url = serve(Answers)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def hangs():
    server, url = serve(Hangs)
    yield url
    server.shutdown()


def front_page(rasa_url: str, actions_url: str):
    app = create_app(
        {"RASA_URL": rasa_url, "ACTIONS_HEALTH_URL": actions_url + "/health", "TESTING": True}
    )
    return app.test_client().get("/")


def states(html: str) -> dict[str, str]:
    rows = re.findall(r"<td>([^<]+)</td>\s*<td class=\"(up|down)\">([^<]+)</td>", html)
    return {name: state for name, _, state in rows}


def test_it_says_what_the_service_is_and_that_every_part_answers(up):
    reply = front_page(up, up)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    assert "<h1>SEN Support assistant</h1>" in html and "SENDIAS" in html
    assert states(html) == {
        "this widget app": "reachable",
        "Rasa server": "reachable",
        "action server": "reachable",
    }
    assert "make run" not in html
    assert reply.headers["Cache-Control"] == "no-store"


def test_the_embed_line_names_this_host(up):
    html = front_page(up, up).get_data(as_text=True)
    assert (
        "<pre><code>&lt;script src=&#34;http://localhost/widget.js&#34; defer&gt;"
        "&lt;/script&gt;</code></pre>"
    ) in html
    assert 'href="/demo"' in html and 'href="/privacy"' in html


def test_a_part_that_does_not_answer_is_shown_down_with_what_to_do(up):
    closed = f"http://127.0.0.1:{free_port()}"
    html = front_page(closed, up).get_data(as_text=True)
    assert states(html)["Rasa server"] == "not reachable"
    assert states(html)["action server"] == "reachable"
    assert "make run" in html
    html = front_page(up, closed).get_data(as_text=True)
    assert states(html)["action server"] == "not reachable"


def test_a_part_that_hangs_does_not_hold_the_page_up(hangs):
    started = time.monotonic()
    html = front_page(hangs, hangs).get_data(as_text=True)
    assert time.monotonic() - started < 3.5  # both asked at once, 1.5 s each at most
    assert states(html)["Rasa server"] == "not reachable"
    assert states(html)["action server"] == "not reachable"
