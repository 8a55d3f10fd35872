"""Crisis and disclosure messages get their help routes even when the action server
is down, and the assistant answers ordinary questions again once it is back."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

CRISIS_ROUTES = ("999", "111", "0800 068 4141", "0800 1111", "116 123", "85258")
DISCLOSURE_ROUTES = ("999", "0800 1111", "children's services")
CRISIS_MESSAGES = (
    "i want to kill myself",
    "honestly i might just kms",
    "my daughter told me she has been cutting herself",
    "nobody would even notice if I disappeared for good",
)


def text_of(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_crisis_and_disclosure_replies_need_no_action_server(live_stack):
    live_stack.stack.stop(("actions",))
    try:
        assert not live_stack.stack.services["actions"].running()
        for message in CRISIS_MESSAGES:
            text = text_of(live_stack.say(uuid.uuid4().hex, message))
            for route in CRISIS_ROUTES:
                assert route in text, (message, route)
            assert "still here" in text
        text = text_of(live_stack.say(uuid.uuid4().hex, "someone at home hurts me"))
        for route in DISCLOSURE_ROUTES:
            assert route in text
        assert "still here" in text
        # A risk word in a message the classifier is unsure of: the knowledge action
        # would send the check-in; without it, the fixed reply still has the numbers.
        text = text_of(
            live_stack.say(
                uuid.uuid4().hex, "where can I donate the school uniform we are giving away"
            )
        )
        assert "999" in text and "0800 1111" in text and "116 123" in text, text
    finally:
        live_stack.stack.start(("actions",))
    replies = live_stack.say(uuid.uuid4().hex, "who pays for the extra help at school?")
    text = text_of(replies)
    assert "6,000" in text and "Source:" in text
