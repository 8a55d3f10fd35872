"""The REST channel's checks: an oversized message is refused unless it holds a crisis."""

import json

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
