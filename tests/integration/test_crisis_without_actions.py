"""A crisis message gets the help routes even when the action server is down."""

import pytest

pytestmark = pytest.mark.integration


def test_crisis_reply_needs_no_action_server(live_stack):
    live_stack.stack.stop(("actions",))
    try:
        replies = live_stack.say("crisis-check", "i want to kill myself")
        text = "\n".join(r.get("text", "") for r in replies)
        for route in ("999", "111", "0800 068 4141", "0800 1111", "116 123", "85258"):
            assert route in text
        assert "still here" in text
    finally:
        live_stack.stack.start(("actions",))
    assert "SEN Support helper" in live_stack.say("crisis-check-after", "hello")[0]["text"]
