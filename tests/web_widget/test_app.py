"""The widget app's endpoints, with a real HTTP server standing in for Rasa."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.conftest import free_port
from web_widget import create_app


class FakeRasa(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello from Rasa")

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRasa.received.append(body["message"])
        if body["message"] == "break":
            self.send_response(500)
            self.end_headers()
            return
        if body["message"] == "silence":  # Rasa 3.6 when the action server is down
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[]")
            return
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


@pytest.mark.parametrize(
    "payload", ['<img src=x onerror="alert(1)">', "<script>alert('x')</script>"]
)
def test_markup_is_passed_on_as_plain_text(client, payload):
    reply = client.post("/api/chat", json={"session": "abcdefgh12", "message": payload})
    assert reply.status_code == 200
    assert reply.get_json()["messages"][0]["text"] == "echo: " + payload


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": "hello", "content_type": "text/plain"}, 415, "JSON"),
        ({"data": "{bad", "content_type": "application/json"}, 400, "JSON object"),
        (
            {
                "data": b'{"session":"abcdefgh12","message":"caf\xe9"}',
                "content_type": "application/json",
            },
            400,
            "UTF-8",
        ),
        ({"json": {"session": "no", "message": "hi"}}, 422, "session"),
        ({"json": {"session": "abcdefgh12", "message": "  "}}, 422, "message"),
        ({"json": {"session": "abcdefgh12", "message": "a" * 5000}}, 413, "1,000"),
        ({"json": {"session": "abcdefgh12", "message": ""}}, 422, "message"),
        ({"json": {"session": "abcdefgh12", "message": 42}}, 422, "message"),
        ({"json": ["abcdefgh12", "hi"]}, 400, "JSON object"),
        ({"json": {"session": "../../etc/passwd", "message": "hi"}}, 422, "session"),
        ({"json": {"session": "a" * 65, "message": "hi"}}, 422, "session"),
        ({"json": {"session": "<script>x</script>", "message": "hi"}}, 422, "session"),
        ({"json": {"message": "hi"}}, 422, "session"),
        ({"json": {"session": "abcdefgh12", "message": "hi", "area": "Leeds"}}, 422, "area"),
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


def test_a_message_of_exactly_the_limit_is_accepted(client):
    reply = client.post("/api/chat", json={"session": "abcdefgh12", "message": "a" * 1000})
    assert reply.status_code == 200


def test_rasa_error_gives_503_with_the_crisis_routes(client):
    reply = client.post("/api/chat", json={"session": "abcdefgh12", "message": "break"})
    assert reply.status_code == 503
    assert "Samaritans 116 123" in reply.get_json()["messages"][0]["text"]


def test_an_empty_reply_from_rasa_becomes_the_fixed_reply_for_the_area(client):
    reply = client.post(
        "/api/chat", json={"session": "abcdefgh13", "message": "silence", "area": "oxfordshire"}
    )
    assert reply.status_code == 200
    [message] = reply.get_json()["messages"]
    assert "can't look that up right now" in message["text"]
    assert "01865 810516" in message["text"]  # SENDIASS Oxfordshire, from contacts.yml
    assert "999" in message["text"] and "116 123" in message["text"]


def test_the_sites_area_reaches_rasas_area_slot_before_the_message(client):
    FakeRasa.received.clear()
    reply = client.post(
        "/api/chat", json={"session": "abcdefgh99", "message": "hello", "area": "cornwall"}
    )
    assert reply.status_code == 200
    assert FakeRasa.received == ['/inform_area{"area": "cornwall"}', "hello"]
    # Only the answer to the person's message comes back, not the acknowledgement.
    assert [m["text"] for m in reply.get_json()["messages"]] == ["echo: hello"]


def test_wrong_method_and_unknown_paths_get_json_errors(client):
    reply = client.get("/api/chat")
    assert reply.status_code == 405 and "not allowed" in reply.get_json()["error"]
    reply = client.get("/api/nothing-here")
    assert reply.status_code == 404 and reply.get_json() == {"error": "Not found."}


def test_widget_script_is_javascript_with_cache_headers(client):
    reply = client.get("/widget.js")
    assert reply.status_code == 200
    assert reply.mimetype == "text/javascript"
    assert "max-age=300" in reply.headers["Cache-Control"]
    assert reply.headers.get("ETag")
    body = reply.get_data(as_text=True)
    assert "document.currentScript" in body
    # Bot and user text never goes through HTML parsing.
    assert "innerHTML" not in body and "insertAdjacentHTML" not in body
    again = client.get("/widget.js", headers={"If-None-Match": reply.headers["ETag"]})
    assert again.status_code == 304


def test_demo_page_embeds_the_widget_with_one_script_tag(client):
    reply = client.get("/demo?area=cornwall")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and html.count("<script") == 1
    assert 'src="http://localhost/widget.js"' in html and 'data-area="cornwall"' in html


@pytest.mark.parametrize(
    ("exit_url", "expected"),
    [
        ("/privacy", 'data-exit-url="/privacy"'),
        ("https://evil.example/", None),
        ("//evil.example/", None),
    ],
)
def test_demo_quick_exit_can_only_point_at_this_site(client, exit_url, expected):
    html = client.get("/demo", query_string={"exit": exit_url}).get_data(as_text=True)
    if expected:
        assert expected in html
    else:
        assert "data-exit-url" not in html and "evil" not in html


def test_privacy_page_says_what_is_kept_and_that_there_are_no_cookies(client):
    reply = client.get("/privacy")
    text = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "sets no cookies" in text and "third parties" in text and "For how long" in text


def test_contacts_are_the_sourced_crisis_lines_and_sendias(client):
    reply = client.get("/api/contacts?area=oxfordshire")
    assert reply.status_code == 200
    body = reply.get_json()
    phones = [c["phone"] for c in body["crisis"]]
    assert phones == ["999", "111", "0800 1111", "116 123"]
    assert [c["id"] for c in body["sendias"]] == ["sendias_oxfordshire"]
    assert all(c["source"] for c in body["crisis"] + body["sendias"])
    assert "999" in body["fallback"]


def test_contacts_without_an_area_list_every_sendias(client):
    body = client.get("/api/contacts").get_json()
    assert {c["area"] for c in body["sendias"]} == {"Oxfordshire", "Buckinghamshire", "Cornwall"}
    assert client.get("/api/contacts?area=narnia").status_code == 422


def test_rate_limit_per_session_answers_429_kindly(rasa_url):
    app = create_app({"RASA_URL": rasa_url, "RATE_LIMIT_SESSION": "2/minute"})
    client = app.test_client()
    for _ in range(2):
        ok = client.post("/api/chat", json={"session": "limited001", "message": "hi"})
        assert ok.status_code == 200
    reply = client.post("/api/chat", json={"session": "limited001", "message": "hi"})
    assert reply.status_code == 429
    assert "wait a minute" in reply.get_json()["messages"][0]["text"]
    # Another conversation is not held up by this one.
    other = client.post("/api/chat", json={"session": "limited002", "message": "hi"})
    assert other.status_code == 200


def test_rate_limit_per_address_covers_every_session(rasa_url):
    app = create_app({"RASA_URL": rasa_url, "RATE_LIMIT_ADDRESS": "3/minute"})
    client = app.test_client()
    bodies = [{"session": f"session{i:04d}", "message": "hi"} for i in range(4)]
    codes = [client.post("/api/chat", json=body).status_code for body in bodies]
    assert codes == [200, 200, 200, 429]


ALLOWED = "https://www.example-school.org.uk"


@pytest.fixture
def site_client(rasa_url):
    return create_app({"RASA_URL": rasa_url, "ALLOWED_ORIGINS": [ALLOWED]}).test_client()


def test_cors_allows_only_the_configured_sites(site_client):
    body = {"session": "abcdefgh12", "message": "hi"}
    allowed = site_client.post("/api/chat", json=body, headers={"Origin": ALLOWED})
    assert allowed.headers.get("Access-Control-Allow-Origin") == ALLOWED
    other = site_client.post("/api/chat", json=body, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = site_client.options(
        "/api/chat",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert "content-type" in preflight.headers.get("Access-Control-Allow-Headers", "").lower()


def test_csp_lets_only_the_configured_sites_frame_the_pages(site_client):
    csp = site_client.get("/demo").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == f"'self' {ALLOWED}"
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/demo"),
        ("get", "/widget.js"),
        ("get", "/privacy"),
        ("get", "/healthz"),
        ("get", "/api/contacts"),
        ("post", "/api/chat"),
    ],
)
def test_no_endpoint_sets_a_cookie(site_client, method, path):
    kwargs = {"json": {"session": "abcdefgh12", "message": "hi"}} if method == "post" else {}
    reply = getattr(site_client, method)(path, **kwargs)
    assert reply.status_code == 200
    assert "Set-Cookie" not in reply.headers
