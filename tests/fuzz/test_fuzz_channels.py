"""Fuzzing the ways in: Rasa's REST webhook, the widget's /api/chat and socket.io events.

Random bytes, wrong types, deep nesting, lone surrogates, huge strings, markup and
intent payloads. None may cause a 5xx or show a traceback, and each server still
answers an ordinary question afterwards. Bounded (100 examples each, 40 against the
live widget, whose per-address limit is 60 a minute) so the suite stays minutes long.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import (
    CONTENT_TYPES,
    FIELD,
    FUZZ,
    JSON_VALUE,
    TEXT,
    bodies,
    no_traceback,
)
from web_widget import create_app

pytestmark = pytest.mark.integration

QUESTION = "who pays for SEN support?"
SESSION = st.text(st.sampled_from("abcdefghijklmnop0123456789-_"), min_size=8, max_size=64)


def raw_post(url: str, body: bytes, content_type: str) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - http on loopback only
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:  # noqa: S310
            return reply.status, reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def answered(replies: list[dict]) -> bool:
    return "Source:" in "\n".join(r.get("text", "") for r in replies)


@FUZZ
@given(body=bodies("sender", "message", SESSION), content_type=CONTENT_TYPES)
def test_rest_webhook_never_fails(live_stack, body: bytes, content_type: str) -> None:
    status, text = raw_post(live_stack.rasa_url + "/webhooks/rest/webhook", body, content_type)
    assert status < 500, (status, text[:300], body[:300])
    no_traceback(text)
    if status == 200:
        assert isinstance(json.loads(text), list)


def test_rest_webhook_answers_after_fuzzing(live_stack) -> None:
    assert answered(live_stack.say(f"after-fuzz-{uuid.uuid4().hex[:8]}", QUESTION))


@pytest.fixture(scope="module")
def widget_client(live_stack):
    """The widget app in this process (Flask's test client), talking to the live Rasa."""
    app = create_app(
        {
            "TESTING": True,
            "RASA_URL": live_stack.rasa_url,
            "RATE_LIMIT_SESSION": "10000/minute",
            "RATE_LIMIT_ADDRESS": "10000/minute",
        }
    )
    return app.test_client()


@FUZZ
@given(body=bodies("session", "message", SESSION, ("area",)), content_type=CONTENT_TYPES)
def test_widget_chat_never_fails_test_client(widget_client, body: bytes, content_type: str) -> None:
    reply = widget_client.post("/api/chat", data=body, content_type=content_type)
    text = reply.get_data(as_text=True)
    assert reply.status_code < 500, (reply.status_code, text[:300], body[:300])
    no_traceback(text)
    if reply.status_code == 200:
        assert isinstance(reply.get_json()["messages"], list)


@settings(FUZZ, max_examples=40)
@given(body=bodies("session", "message", SESSION, ("area",)), content_type=CONTENT_TYPES)
def test_widget_chat_never_fails_live(live_stack, body: bytes, content_type: str) -> None:
    status, text = raw_post(live_stack.widget_url + "/api/chat", body, content_type)
    assert status < 500, (status, text[:300], body[:300])  # 429 when over the limit is fine
    no_traceback(text)


def test_widget_chat_answers_after_fuzzing(live_stack, widget_client) -> None:
    reply = widget_client.post("/api/chat", json={"session": uuid.uuid4().hex, "message": QUESTION})
    assert reply.status_code == 200 and answered(reply.get_json()["messages"])
    # The live widget, once its per-address limit (60 a minute) lets us through again.
    deadline = time.monotonic() + 75
    while True:
        status, text = raw_post(
            live_stack.widget_url + "/api/chat",
            json.dumps({"session": uuid.uuid4().hex, "message": QUESTION}).encode(),
            "application/json",
        )
        if status != 429 or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert status == 200, text
    assert answered(json.loads(text)["messages"])


class SocketClient:
    """A python-socketio client over polling, collecting what the bot says and errors."""

    def __init__(self, url: str) -> None:
        import socketio

        self.client = socketio.Client(reconnection=False)
        self.said: list[dict] = []
        self.got = threading.Event()
        self.client.on("bot_uttered", self._on_bot)
        self.client.connect(url, transports=["polling"], wait_timeout=20)

    def _on_bot(self, data: dict) -> None:
        self.said.append(data)
        self.got.set()

    def ask(self, message: str, timeout: float = 60) -> list[dict]:
        session = uuid.uuid4().hex
        confirmed = threading.Event()
        self.client.on("session_confirm", lambda _s: confirmed.set())
        self.said.clear()
        self.got.clear()
        self.client.emit("session_request", {"session_id": session})
        assert confirmed.wait(20), "no session_confirm"
        self.client.emit("user_uttered", {"message": message, "session_id": session})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not answered(self.said):
            self.got.wait(1)
            self.got.clear()
        return list(self.said)


@pytest.fixture(scope="module")
def sio(live_stack):
    client = SocketClient(live_stack.rasa_url)
    yield client
    client.client.disconnect()


SOCKET_DATA = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "message": FIELD,
            "session_id": st.one_of(SESSION, FIELD),
            "customData": JSON_VALUE,
            "metadata": JSON_VALUE,
        },
    ),
    JSON_VALUE,
    TEXT,
    st.binary(max_size=200),
)


@FUZZ
@given(
    event=st.sampled_from(
        ["user_uttered", "user_uttered", "session_request", "message", "disconnect_me"]
    ),
    data=SOCKET_DATA,
)
def test_socketio_events_never_fail(live_stack, sio, event: str, data) -> None:
    assert sio.client.connected, "the server dropped the socket.io connection"
    sio.client.emit(event, data)
    time.sleep(0.05)  # a steady stream rather than one burst
    for reply in sio.said[-5:]:
        no_traceback(json.dumps(reply))


def test_socketio_answers_after_fuzzing(live_stack, sio) -> None:
    assert sio.client.connected
    replies = sio.ask(QUESTION)
    assert answered(replies), replies
    for reply in replies:
        no_traceback(json.dumps(reply))
    # A new client connects and is answered too.
    fresh = SocketClient(live_stack.rasa_url)
    try:
        assert answered(fresh.ask(QUESTION))
    finally:
        fresh.client.disconnect()
    with urllib.request.urlopen(live_stack.rasa_url + "/", timeout=10) as reply:  # noqa: S310
        assert reply.status == 200
