"""The REST channel's checks: an oversized message is refused unless it holds a crisis."""

import json

import pytest

from channels.safe_rest import MAX_MESSAGE_CHARS, check_request

FILLER = "We had another meeting about his reading and the plan was not followed. "


def body(message: str) -> bytes:
    return json.dumps({"sender": "long", "message": message}).encode("utf-8")


def test_an_oversized_ordinary_message_is_refused_with_the_limit():
    payload, reply = check_request(body(FILLER * 400))
    assert payload is None
    assert reply.status == 413
    assert "20,000" in json.loads(reply.body)["error"]


def test_an_oversized_message_with_a_crisis_in_the_middle_goes_on_with_that_part():
    message = FILLER * 200 + "Honestly I want to kill myself. " + FILLER * 200
    assert len(message) > MAX_MESSAGE_CHARS
    payload, reply = check_request(body(message))
    assert reply is None
    assert "kill myself" in payload["message"]
    assert len(payload["message"]) <= 2_000


def test_an_oversized_message_with_a_disclosure_at_the_very_end_goes_on():
    message = FILLER * 400 + " my stepdad hits me"
    payload, reply = check_request(body(message))
    assert reply is None
    assert payload["message"].endswith("my stepdad hits me")


def test_deeply_nested_json_is_a_400_not_a_500():
    payload, reply = check_request(b"[" * 100_000 + b"]" * 100_000)
    assert payload is None
    assert reply.status == 400
    assert "nested too deeply" in json.loads(reply.body)["error"]


@pytest.mark.parametrize(
    "sender", ["\ud800", "ab\udfffcd", "a\x00b", "tab\there", "x" * 129, "  ", 7]
)
def test_a_sender_no_database_can_store_is_a_400(sender):
    # SQLite and PostgreSQL raise ValueError for these, which Rasa turned into an
    # exit of the whole server.
    payload, reply = check_request(json.dumps({"sender": sender, "message": "hi"}).encode())
    assert payload is None
    assert reply.status == 400 and "sender" in json.loads(reply.body)["error"]


def test_lone_surrogates_in_the_message_become_replacement_characters():
    payload, reply = check_request(b'{"sender": "s", "message": "help \\ud800 me \\ud83d\\ude00"}')
    assert reply is None
    assert payload["message"] == "help \ufffd me \U0001f600"  # a real pair is kept
