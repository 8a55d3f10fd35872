"""The widget app's endpoints, with a real HTTP server standing in for Rasa."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import free_port
from web_widget import create_app


class FakeRasa(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello from Rasa")

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply = json.dumps([{"recipient_id": body["sender"], "text": "echo: " + body["message"]}])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(reply.encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def rasa_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def client(rasa_url):
    return create_app({"RASA_URL": rasa_url, "TESTING": True}).test_client()


def test_chat_forwards_to_rasa_and_returns_its_messages(client):
    reply = client.post("/api/chat", json={"session": "abcdefgh12", "message": "hello"})
    assert reply.status_code == 200
    assert reply.get_json() == {"messages": [{"recipient_id": "abcdefgh12", "text": "echo: hello"}]}


def test_markup_is_passed_on_as_plain_text(client):
    payload = '<img src=x onerror="alert(1)">'
    reply = client.post("/api/chat", json={"session": "abcdefgh12", "message": payload})
    assert reply.status_code == 200
    assert reply.get_json()["messages"][0]["text"] == "echo: " + payload


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": "hello", "content_type": "text/plain"}, 415, "JSON"),
        ({"data": "{bad", "content_type": "application/json"}, 400, "JSON object"),
        ({"data": b'{"session":"abcdefgh12","message":"caf\xe9"}',
          "content_type": "application/json"}, 400, "UTF-8"),
        ({"json": {"session": "no", "message": "hi"}}, 422, "session"),
        ({"json": {"session": "abcdefgh12", "message": "  "}}, 422, "message"),
        ({"json": {"session": "abcdefgh12", "message": "a" * 5000}}, 413, "1,000"),
    ],
)
def test_bad_input_gets_a_clear_json_error(client, kwargs, status, words):
    reply = client.post("/api/chat", **kwargs)
    assert reply.status_code == status
    assert words in reply.get_json()["error"]


def test_rasa_down_gives_503_with_crisis_and_sendias_routes():
    app = create_app({"RASA_URL": f"http://127.0.0.1:{free_port()}", "RASA_TIMEOUT": 2})
    reply = app.test_client().post("/api/chat", json={"session": "abcdefgh12", "message": "hi"})
    assert reply.status_code == 503
    text = reply.get_json()["messages"][0]["text"]
    assert "999" in text and "0800 1111" in text and "SENDIAS" in text


def test_healthz_reports_rasa(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok", "rasa": "up"}


def test_demo_page_is_served(client):
    reply = client.get("/demo")
    assert reply.status_code == 200 and b"Example Primary School" in reply.data
