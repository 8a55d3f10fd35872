"""Through the running assistant: personal details are answered around, never stored.

The message below reaches the crisis check and the knowledge answer as typed; the
conversation Rasa writes to its SQLite tracker store, and the services' logs, hold
none of the email, phone number, postcode or name.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

pytestmark = pytest.mark.integration

PERSONAL = (
    "my email is jo.bloggs@example.com and my number is 07700 900123, my name is "
    "Jo Bloggs, we live at OX1 2JD — who pays for SEN support?"
)
SECRETS = (
    "jo.bloggs@example.com",
    "jo.bloggs",
    "07700 900123",
    "07700900123",
    "OX1 2JD",
    "Jo Bloggs",
)


def stored_events(live_stack, sender: str) -> list[dict]:
    with sqlite3.connect(live_stack.settings.tracker_db) as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def test_the_issues_message_is_stored_redacted(live_stack):
    sender = f"privacy-{uuid.uuid4().hex[:8]}"
    assert live_stack.say(sender, PERSONAL)
    events = stored_events(live_stack, sender)
    assert events, "the conversation was not stored in the SQLite tracker store"
    stored = json.dumps(events, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in stored, secret
    user = [e for e in events if e["event"] == "user"]
    assert user[-1]["text"] == (
        "my email is [email] and my number is [phone], my name is [name], "
        "we live at [postcode] — who pays for SEN support?"
    )
    assert user[-1]["parse_data"]["text"] == user[-1]["text"]


def test_the_issues_message_gets_a_real_answer(live_stack):
    # The classifier puts it out of scope (no training example starts with contact
    # details), but its question after the dash is searched on its own and answered.
    replies = live_stack.say(f"privacy-{uuid.uuid4().hex[:8]}", PERSONAL)
    text = "\n".join(r.get("text", "") for r in replies)
    assert "Element" in text and "Source:" in text, text


def test_a_question_with_personal_details_is_answered_and_stored_redacted(live_stack):
    sender = f"privacy-{uuid.uuid4().hex[:8]}"
    said = (
        "My name is Jo Bloggs. Who pays for the extra help at school, them or the "
        "council? I'm at OX1 2JD, jo.bloggs@example.com, 07700 900123"
    )
    replies = live_stack.say(sender, said)
    text = "\n".join(r.get("text", "") for r in replies)
    # The answer was given from the text as typed: a real answer with its source.
    assert "Element" in text and "Source:" in text, text
    events = stored_events(live_stack, sender)
    stored = json.dumps(events, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in stored, secret
    assert [e["text"] for e in events if e["event"] == "user"] == [
        (
            "My name is [name]. Who pays for the extra help at school, them or the "
            "council? I'm at [postcode], [email], [phone]"
        )
    ]

    # Rasa reloads the redacted conversation for the next turn: it still answers.
    replies = live_stack.say(sender, "what is an EHC needs assessment?")
    assert "Source:" in "\n".join(r.get("text", "") for r in replies)
    assert len(stored_events(live_stack, sender)) > len(events)


def test_a_crisis_with_a_phone_number_still_gets_the_help_routes(live_stack):
    sender = f"privacy-{uuid.uuid4().hex[:8]}"
    replies = live_stack.say(sender, "my name is Sam Jones, 07700 900456, I want to kill myself")
    text = "\n".join(r.get("text", "") for r in replies)
    assert "999" in text and "Samaritans" in text, text
    stored = json.dumps(stored_events(live_stack, sender))
    assert "07700 900456" not in stored and "Sam Jones" not in stored


def test_the_logs_hold_no_personal_details(live_stack):
    live_stack.say(f"privacy-{uuid.uuid4().hex[:8]}", PERSONAL)
    for service in live_stack.stack.services.values():
        log = service.log_path.read_text(errors="replace") if service.log_path else ""
        for secret in SECRETS:
            assert secret not in log, f"{secret} in {service.log_path}"
