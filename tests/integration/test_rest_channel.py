"""The real Rasa server and action server, spoken to over the REST webhook."""

from __future__ import annotations

import ipaddress
import json

import pytest

pytestmark = pytest.mark.integration
WEBHOOK = "/webhooks/rest/webhook"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_greeting_names_the_service(live_stack):
    replies = live_stack.say("greeter", "hello")
    # utter_greet, a domain response: it needs no action server.
    assert "SEN Support helper" in texts(replies)


def test_what_can_you_do_lists_the_topics(live_stack):
    answer = texts(live_stack.say("curious", "what can you help me with?"))
    for topic in ("SEN Support", "EHC", "who pays", "mental health"):
        assert topic in answer


@pytest.mark.parametrize(
    ("body", "status", "error_words"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"sender": "x", "message": "caf\xe9"}', 400, "UTF-8"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"message": "hello"}', 400, "sender"),
        (b'{"sender": "x", "message": 42}', 400, "'message' must be a string"),
        (json.dumps({"sender": "x", "message": "a" * 20_001}).encode(), 413, "limit"),
    ],
)
def test_bad_requests_get_a_clear_error_and_the_server_keeps_serving(
    live_stack, body, status, error_words
):
    got_status, reply = live_stack.post(WEBHOOK, body)
    assert got_status == status
    assert error_words in reply["error"]
    assert "SEN Support helper" in texts(live_stack.say("after-bad-input", "hi"))


def test_empty_message_gets_a_kind_reply(live_stack):
    replies = live_stack.say("empty", "   ")
    assert "didn't catch a question" in texts(replies)


def test_a_20000_character_message_is_answered(live_stack):
    long_message = ("My son is in year 4 and struggles with reading. " * 420)[:20_000]
    assert len(long_message) == 20_000
    replies = live_stack.say("rambler", long_message)
    assert replies and any(r.get("text") for r in replies)


def _is_loopback(target) -> bool:
    if isinstance(target, str):  # a Unix socket path
        return True
    host = target[0]
    if host in (None, "localhost", "", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost means a look-up outside


def test_chatting_makes_no_connection_outside_this_machine(live_stack):
    for message in ("hello", "what can you do", "how do I ask for an EHC assessment?"):
        live_stack.say("privacy", message)
    events = [json.loads(line) for line in live_stack.audit_log.read_text().splitlines()]
    # The hook must have seen Rasa calling the action server, or it saw nothing.
    assert any(e["event"] == "socket.connect" and _is_loopback(e["target"]) for e in events)
    outside = [e for e in events if not _is_loopback(e["target"])]
    assert outside == []


def test_a_crisis_inside_a_message_over_the_limit_still_gets_the_help_routes(live_stack):
    filler = "The school keeps changing his timetable and nobody tells us. " * 200
    message = filler + "i dont want to be here anymore. " + filler
    assert len(message) > 20_000
    text = texts(live_stack.say("long-crisis", message))
    for route in ("999", "111", "0800 1111", "116 123"):
        assert route in text
