"""channels/tracker_store.py: Rasa's SQL store writes conversations with personal details
redacted, reloads them as working trackers, and the retention purge removes old ones.

The same tests run on SQLite and on a throwaway PostgreSQL cluster (tests/postgres.py).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.knowledge.embeddings import DIMENSION, VECTOR_KEY, vector_to_text
from bot.records.privacy import purge
from bot.settings import Settings
from channels.tracker_store import RedactingSQLTrackerStore, StoreRefused
from tests.postgres import postgres_url  # noqa: F401 - the fixture

PERSONAL = (
    "my email is jo.bloggs@example.com and my number is 07700 900123, my name is "
    "Jo Bloggs, we live at OX1 2JD — who pays for SEN support?"
)
SECRETS = ("jo.bloggs", "07700 900123", "OX1 2JD", "Jo Bloggs")

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [ask_who_pays]
slots:
  last_question:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
  area:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
"""
)


@pytest.fixture(autouse=True)
def _own_log_records() -> Iterator[None]:
    """The store redacts this process's log records; undo that after each test."""
    before = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(before)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return request.getfixturevalue("postgres_url")


def _store(url: str, working_turns: int = 10) -> RedactingSQLTrackerStore:
    # As endpoints.yml configures it: Rasa passes the url as host, plus dialect and db.
    return RedactingSQLTrackerStore(
        domain=DOMAIN, host=url, dialect="sqlite", db="unused.db", working_turns=working_turns
    )


def _rows(url: str, sender: str) -> list[dict]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).fetchall()
    engine.dispose()
    return [json.loads(data) for (data,) in rows]


def _clear(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM events"))
    engine.dispose()


def _turn(sender: str, at: float, text: str = PERSONAL) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events(sender, [], slots=DOMAIN.slots)
    for event in (
        ActionExecuted("action_session_start", timestamp=at),
        SessionStarted(timestamp=at),
        ActionExecuted("action_listen", timestamp=at),
        UserUttered(
            text,
            intent={"name": "ask_who_pays", "confidence": 0.9},
            parse_data={
                "text": text,
                "intent": {"name": "ask_who_pays"},
                "entities": [{"entity": "area", "value": "OX1 2JD"}],
            },
            timestamp=at,
        ),
        SlotSet("last_question", text, timestamp=at),
        BotUttered(
            "Thanks Jo Bloggs. Schools pay the first part; SENDIAS: 01865 810516", timestamp=at
        ),
        ActionExecuted("action_listen", timestamp=at),
    ):
        tracker.update(event)
    return tracker


async def test_stored_events_hold_no_personal_details(store_url: str) -> None:
    store = _store(store_url)
    _clear(store_url)
    tracker = _turn("parent", datetime.now(UTC).timestamp())
    await store.save(tracker)
    stored = json.dumps(_rows(store_url, "parent"))
    for secret in SECRETS:
        assert secret not in stored
    assert "who pays for SEN support?" in stored
    assert "[email]" in stored and "[phone]" in stored and "[postcode]" in stored
    # The service's own number in the reply stays; only the echoed name goes.
    assert "SENDIAS: 01865 810516" in stored and "Thanks [name]." in stored
    # The tracker Rasa is still working on keeps the text as typed.
    assert tracker.latest_message.text == PERSONAL


async def test_the_message_vector_reaches_the_action_but_is_never_stored(store_url: str) -> None:
    store = _store(store_url)
    _clear(store_url)
    tracker = _turn("vector", datetime.now(UTC).timestamp(), "who pays for SEN support?")
    message = next(e for e in tracker.events if isinstance(e, UserUttered))
    message.parse_data[VECTOR_KEY] = vector_to_text(np.ones(DIMENSION, dtype=np.float32))
    await store.save(tracker)
    stored = _rows(store_url, "vector")
    said = [row for row in stored if row.get("event") == "user"]
    assert said and said[0]["parse_data"]["intent"]["name"] == "ask_who_pays"
    assert VECTOR_KEY not in json.dumps(stored)
    # This turn's tracker (what the action server is sent) still has it.
    assert VECTOR_KEY in message.parse_data


async def test_the_next_turn_reloads_a_working_tracker_and_adds_only_new_events(
    store_url: str,
) -> None:
    store = _store(store_url)
    _clear(store_url)
    now = datetime.now(UTC).timestamp()
    await store.save(_turn("parent", now))
    reloaded = await store.retrieve("parent")
    assert reloaded is not None
    assert reloaded.get_slot("last_question").endswith("who pays for SEN support?")
    assert "[email]" in reloaded.latest_message.text
    assert reloaded.latest_message.intent["name"] == "ask_who_pays"
    count = len(_rows(store_url, "parent"))
    reloaded.update(UserUttered("thanks, call me on 01865 810516", timestamp=now + 1))
    await store.save(reloaded)
    rows = _rows(store_url, "parent")
    assert len(rows) == count + 1  # nothing written twice
    assert rows[-1]["text"] == "thanks, call me on [phone]"


def _long_conversation(sender: str, at: float, turns: int) -> DialogueStateTracker:
    """A session of ``turns`` questions; the area is said once, in the second."""
    tracker = DialogueStateTracker.from_events(sender, [], slots=DOMAIN.slots)
    tracker.update(ActionExecuted("action_session_start", timestamp=at))
    tracker.update(SessionStarted(timestamp=at))
    tracker.update(ActionExecuted("action_listen", timestamp=at))
    for turn in range(turns):
        t = at + turn
        tracker.update(UserUttered(f"question {turn}", timestamp=t))
        if turn == 1:
            tracker.update(SlotSet("area", "oxfordshire", timestamp=t))
        tracker.update(SlotSet("last_question", f"question {turn}", timestamp=t))
        tracker.update(BotUttered(f"answer {turn}", timestamp=t))
        tracker.update(ActionExecuted("action_listen", timestamp=t))
    return tracker


async def test_a_long_conversation_reloads_its_last_ten_turns_with_every_slot(
    store_url: str,
) -> None:
    """Turn 200 must cost what turn 10 does: Rasa gets the last ten user messages
    and the latest value of each slot, never the whole session; nothing stored is
    lost, and new events are written once, after all 200 turns'."""
    store = _store(store_url)
    _clear(store_url)
    now = datetime.now(UTC).timestamp()
    await store.save(_long_conversation("long", now, 200))
    stored = len(_rows(store_url, "long"))

    working = await store.retrieve("long")
    assert working is not None
    said = [e.text for e in working.events if isinstance(e, UserUttered)]
    assert said == [f"question {turn}" for turn in range(190, 200)]
    # The area was given at turn 2 of 200 and still answers "where do you live?".
    assert working.get_slot("area") == "oxfordshire"
    assert working.get_slot("last_question") == "question 199"
    assert len(working.events) < 60

    working.update(UserUttered("question 200", timestamp=now + 200))
    working.update(BotUttered("answer 200", timestamp=now + 200))
    await store.save(working)
    rows = _rows(store_url, "long")
    assert len(rows) == stored + 2
    assert [r.get("text") for r in rows[-2:]] == ["question 200", "answer 200"]
    again = await store.retrieve("long")
    assert again is not None and again.latest_message.text == "question 200"
    assert again.get_slot("area") == "oxfordshire"


async def test_a_restart_clears_the_slots_the_working_tracker_carries(store_url: str) -> None:
    store = _store(store_url)
    _clear(store_url)
    now = datetime.now(UTC).timestamp()
    tracker = _long_conversation("restarted", now, 5)
    tracker.update(Restarted(timestamp=now + 5))
    for turn in range(5, 20):
        tracker.update(UserUttered(f"question {turn}", timestamp=now + turn))
        tracker.update(ActionExecuted("action_listen", timestamp=now + turn))
    await store.save(tracker)
    working = await store.retrieve("restarted")
    assert working is not None
    assert working.get_slot("area") is None


async def test_working_turns_zero_reloads_the_whole_session(store_url: str) -> None:
    store = _store(store_url, working_turns=0)
    _clear(store_url)
    await store.save(_long_conversation("whole", datetime.now(UTC).timestamp(), 30))
    working = await store.retrieve("whole")
    assert working is not None
    assert sum(isinstance(e, UserUttered) for e in working.events) == 30


async def test_retention_purges_conversations_rasa_stored(store_url: str, tmp_path: Path) -> None:
    store = _store(store_url)
    _clear(store_url)
    now = datetime.now(UTC)
    await store.save(_turn("old", (now - timedelta(days=31)).timestamp()))
    await store.save(_turn("new", (now - timedelta(days=1)).timestamp()))
    settings = dataclasses.replace(
        Settings.from_env(),
        tracker_url=store_url,
        feedback_db=tmp_path / "feedback.sqlite",
        retention_days=30,
    )
    purged = purge(settings, now=now)
    assert purged.conversations == 1 and purged.events == 7
    assert await store.retrieve("old") is None
    assert await store.retrieve("new") is not None


async def test_a_value_the_database_cannot_store_fails_the_turn_not_the_server(
    store_url: str,
) -> None:
    # Rasa 3.6 exited the whole server (SystemExit) on any ValueError in a session.
    store = _store(store_url)
    with pytest.raises(StoreRefused):
        await store.retrieve("bad\ud800sender")
    tracker = _turn("after-refusal", datetime.now(UTC).timestamp())
    await store.save(tracker)
    reloaded = await store.retrieve("after-refusal")
    assert reloaded.latest_message.text.endswith("who pays for SEN support?")


async def test_a_conversation_that_cannot_be_read_fails_the_turn(tmp_path: Path) -> None:
    # Rasa wraps every store in FailSafeTrackerStore, which answered an unreadable
    # conversation as a new one kept in memory; the channels now send the fixed reply.
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore

    from channels.tracker_store import StoreUnavailable

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = _store(url)
    await store.save(_turn("readable", datetime.now(UTC).timestamp()))
    failsafe = FailSafeTrackerStore(store)
    assert (await failsafe.retrieve("readable")) is not None
    store.engine.dispose()
    (tmp_path / "tracker.db").unlink()
    (tmp_path / "tracker.db").mkdir()  # the database can no longer be opened
    with pytest.raises(StoreUnavailable):
        await failsafe.retrieve("readable")
    # Rasa's own behaviour is kept for every other store.
    other = FailSafeTrackerStore(InMemoryTrackerStore(DOMAIN))
    other._tracker_store.retrieve = None  # type: ignore[assignment] - fails when called
    assert await other.retrieve("anyone") is None


async def test_sqlite_conversations_are_kept_in_write_ahead_log_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = _store(url)
    await store.save(_turn("parent", datetime.now(UTC).timestamp()))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        mode = conn.execute(sa.text("PRAGMA journal_mode")).scalar()
    engine.dispose()
    assert mode == "wal"
    assert (await store.retrieve("parent")) is not None
