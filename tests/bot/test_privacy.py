"""bot/records/privacy.py: redaction of personal data, and retention (purge)."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.records.feedback import FeedbackStore
from bot.records.privacy import (
    Purged,
    enforce_retention,
    install_log_redaction,
    personal_items,
    purge,
    purge_daily,
    redact,
    redact_echo,
    redact_value,
)
from bot.settings import Settings
from tests.postgres import postgres_url  # noqa: F401 - the fixture

PERSONAL = (
    "my email is jo.bloggs@example.com and my number is 07700 900123, my name is "
    "Jo Bloggs, we live at OX1 2JD — who pays for SEN support?"
)


def test_the_issue_message_keeps_its_question_and_loses_the_personal_data() -> None:
    assert redact(PERSONAL) == (
        "my email is [email] and my number is [phone], my name is [name], "
        "we live at [postcode] — who pays for SEN support?"
    )


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",
        "07700900123",
        "07700-900-123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)7700 900123",
        "0044 7700 900123",
        "01865 810516",
        "(01865) 810516",
        "020 7946 0018",
        "0300 123 4567",
    ],
)
def test_uk_phone_numbers(number: str) -> None:
    assert redact(f"ring me on {number} after 3") == "ring me on [phone] after 3"


@pytest.mark.parametrize(
    "kept",
    [
        "999",
        "NHS 111",
        "Samaritans 116 123",
        "Shout: text 85258",
        "year 11",
        "ref 1234567",
        "section 19 of the Children and Families Act 2014",
    ],
)
def test_service_numbers_dates_and_references_are_kept(kept: str) -> None:
    assert redact(kept) == kept


@pytest.mark.parametrize(
    "number", ["485 777 3456", "4857773456", "31/01/2014", "2014-01-31", "12345678"]
)
def test_other_long_numbers_nhs_numbers_and_dates_of_birth(number: str) -> None:
    assert redact(f"it is {number}, ok") == "it is [number], ok"


@pytest.mark.parametrize(
    "postcode", ["OX1 2JD", "ox12jd", "HP11 2AB", "TR1 3AX", "SW1A 1AA", "M1 1AE", "B33 8TH"]
)
def test_uk_postcodes(postcode: str) -> None:
    assert redact(f"we are at {postcode}.") == "we are at [postcode]."


@pytest.mark.parametrize(
    "said, stored",
    [
        ("my name is Jo Bloggs, who pays?", "my name is [name], who pays?"),
        ("My name's Priya and my son has autism", "My name's [name] and my son has autism"),
        ("I'm called alex", "I'm called [name]"),
        ("I am called Sam Smith from Banbury", "I am called [name] from Banbury"),
        ("my son's name is Leo and he is 7", "my son's name is [name] and he is 7"),
        ("my daughter is called Amira", "my daughter is called [name]"),
        ("call me Jo", "call me [name]"),
    ],
)
def test_names_people_give(said: str, stored: str) -> None:
    assert redact(said) == stored


@pytest.mark.parametrize(
    "ordinary",
    [
        "I am worried about my son",
        "my name is not important",
        "call me back please",
        "what is an EHC needs assessment called",
        "who pays for SEN support?",
        "",
    ],
)
def test_ordinary_sentences_are_kept(ordinary: str) -> None:
    assert redact(ordinary) == ordinary


def test_emails() -> None:
    assert redact("email: a_b+c@x.co.uk.") == "email: [email]."


def test_redact_value_walks_nested_data_and_keeps_keys_and_numbers() -> None:
    data = {"text": PERSONAL, "n": 3, "entities": [{"value": "OX1 2JD"}], "x": None}
    out = redact_value(data)
    assert out["entities"] == [{"value": "[postcode]"}]
    assert out["n"] == 3 and out["x"] is None
    assert "jo.bloggs" not in out["text"]


def test_personal_items_hide_an_echo_but_keep_the_services_own_numbers() -> None:
    items = personal_items(PERSONAL)
    assert ("jo.bloggs@example.com", "[email]") in items
    assert ("Jo Bloggs", "[name]") in items
    reply = "Thanks Jo Bloggs. We will not call 07700 900123; SENDIAS is on 01865 810516."
    assert redact_echo(reply, items) == (
        "Thanks [name]. We will not call [phone]; SENDIAS is on 01865 810516."
    )


def test_log_messages_are_redacted_once_installed(caplog: pytest.LogCaptureFixture) -> None:
    before = logging.getLogRecordFactory()
    try:
        install_log_redaction()
        install_log_redaction()  # idempotent: one wrapper
        logger = logging.getLogger("rasa.core.processor")
        with caplog.at_level(logging.DEBUG, logger="rasa.core.processor"):
            logger.debug("Received user message '%s'", PERSONAL)
            try:
                raise ValueError("bad text: call 07700 900123")
            except ValueError:
                logger.exception("failed for jo.bloggs@example.com")
        text = caplog.text
        assert "who pays for SEN support?" in text
        for secret in ("jo.bloggs@example.com", "07700 900123", "OX1 2JD", "Jo Bloggs"):
            assert secret not in text
        assert "[phone]" in caplog.records[-1].exc_text
    finally:
        logging.setLogRecordFactory(before)


# --- Retention ------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _events_table(url: str) -> sa.Table:
    """Rasa's SQLTrackerStore ``events`` table, as Rasa 3.6 creates it."""
    meta = sa.MetaData()
    table = sa.Table(
        "events",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.Float),
        sa.Column("intent_name", sa.String(255)),
        sa.Column("action_name", sa.String(255)),
        sa.Column("data", sa.Text),
    )
    engine = sa.create_engine(url)
    meta.drop_all(engine)
    meta.create_all(engine)
    engine.dispose()
    return table


def _add_conversation(url: str, table: sa.Table, sender: str, *ages_days: float) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for age in ages_days:
            at = (NOW - timedelta(days=age)).timestamp()
            conn.execute(
                table.insert().values(sender_id=sender, type_name="user", timestamp=at, data="{}")
            )
    engine.dispose()


def _senders(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id")
        ).fetchall()
    engine.dispose()
    return dict(rows)


def _conversations(url: str) -> Purged:
    table = _events_table(url)
    _add_conversation(url, table, "old", 90, 45, 31)  # last event 31 days ago
    _add_conversation(url, table, "recent", 2, 1)
    _add_conversation(url, table, "came-back", 60, 40, 29)  # old start, recent end
    _add_conversation(url, table, "edge", 30.01)  # just past the cutoff
    return purge(_settings(url), now=NOW)


def _settings(url: str, tmp: Path | None = None, days: int = 30) -> Settings:
    base = Settings.from_env()
    tmp = tmp or Path(tempfile.mkdtemp(prefix="senbot-retention-"))
    return dataclasses.replace(
        base,
        tracker_url=url,
        tracker_db=tmp / "unused.db",
        feedback_db=tmp / "feedback.sqlite",
        retention_days=days,
    )


def test_purge_deletes_sqlite_conversations_whose_last_event_is_too_old(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    purged = _conversations(url)
    assert _senders(url) == {"recent": 2, "came-back": 3}
    assert (purged.conversations, purged.events) == (2, 4)
    assert "deleted 2 conversations (4 events)" in str(purged)


def test_purge_uses_the_default_sqlite_file_when_no_url_is_set(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    table = _events_table(url)
    _add_conversation(url, table, "old", 31)
    _add_conversation(url, table, "new", 1)
    settings = dataclasses.replace(_settings("", tmp_path), tracker_db=tmp_path / "tracker.db")
    assert purge(settings, now=NOW).conversations == 1
    assert _senders(url) == {"new": 1}


def test_purge_honours_the_retention_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    table = _events_table(url)
    _add_conversation(url, table, "a", 8)
    _add_conversation(url, table, "b", 6)
    purge(_settings(url, tmp_path, days=7), now=NOW)
    assert _senders(url) == {"b": 1}


def test_purge_with_no_tracker_store_yet_deletes_nothing(tmp_path: Path) -> None:
    settings = dataclasses.replace(_settings("", tmp_path), tracker_db=tmp_path / "none.db")
    purged = purge(settings, now=NOW)
    assert (purged.conversations, purged.events, purged.feedback_rows) == (0, 0, 0)
    assert not (tmp_path / "none.db").exists()  # a purge creates no database


def test_purge_deletes_old_feedback_rows_from_every_table_with_a_date(tmp_path: Path) -> None:
    settings = _settings(f"sqlite:///{tmp_path / 'tracker.db'}", tmp_path)
    store = FeedbackStore(settings.feedback_db)
    for n in range(3):
        assert store.record(
            conversation=f"c{n}", question=f"question {n}", article="who-pays", helpful=bool(n % 2)
        )
    with sqlite3.connect(settings.feedback_db) as conn:
        conn.execute(
            "UPDATE feedback SET at = ? WHERE id IN (1, 2)",
            ((NOW - timedelta(days=31)).isoformat(timespec="seconds"),),
        )
        conn.execute(
            "UPDATE feedback SET at = ? WHERE id = 3",
            ((NOW - timedelta(days=29)).isoformat(timespec="seconds"),),
        )
        # A staff-report table beside it (bot/records/review.py keeps one): purged too.
        conn.execute(
            "CREATE TABLE IF NOT EXISTS answer_events (id INTEGER PRIMARY KEY,"
            " at TEXT NOT NULL, question TEXT)"
        )
        conn.execute(
            "INSERT INTO answer_events (at, question) VALUES (?, 'old'), (?, 'new')",
            (
                (NOW - timedelta(days=40)).isoformat(timespec="seconds"),
                (NOW - timedelta(days=1)).isoformat(timespec="seconds"),
            ),
        )
    _events_table(settings.tracker_url)
    purged = purge(settings, now=NOW)
    assert purged.feedback_rows == 3
    with sqlite3.connect(settings.feedback_db) as conn:
        assert [r[0] for r in conn.execute("SELECT question FROM feedback")] == ["question 2"]
        assert [r[0] for r in conn.execute("SELECT question FROM answer_events")] == ["new"]


def test_purge_deletes_postgresql_conversations_too(postgres_url: str) -> None:  # noqa: F811
    purged = _conversations(postgres_url)
    assert _senders(postgres_url) == {"recent": 2, "came-back": 3}
    assert (purged.conversations, purged.events) == (2, 4)


def test_daily_purge_repeats_until_stopped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    table = _events_table(url)
    lines: list[str] = []
    stop = threading.Event()
    thread = purge_daily(_settings(url, tmp_path), stop, every=0.05, report=lines.append)
    _add_conversation(url, table, "ancient", 400)  # real clock: far past any cutoff
    deadline = time.monotonic() + 10
    while "ancient" in _senders(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert "ancient" not in _senders(url)
    assert any("deleted 1 conversations" in line for line in lines)


def test_a_failed_purge_at_start_is_reported_not_raised(tmp_path: Path) -> None:
    lines: list[str] = []
    bad = _settings("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    thread = enforce_retention(bad, report=lines.append)
    assert thread.is_alive() and thread.daemon
    assert lines and lines[0].startswith("Retention purge failed at start")


def test_make_run_purges_before_the_services_start(tmp_path: Path, monkeypatch) -> None:
    import signal

    import bot.stack.services

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    table = _events_table(url)
    _add_conversation(url, table, "last-year", 365)
    _add_conversation(url, table, "yesterday", 1)
    started: list[dict[str, int]] = []

    def start(self, *args, **kwargs):
        started.append(_senders(url))  # what the services would find
        raise RuntimeError("not starting services in this test")

    monkeypatch.setattr(bot.stack.services, "prepare", lambda settings: None)
    monkeypatch.setattr(bot.stack.services.Stack, "start", start)
    monkeypatch.setattr(bot.stack.services.Stack, "stop", lambda self, *a, **k: None)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        settings = dataclasses.replace(_settings("", tmp_path), tracker_db=tmp_path / "tracker.db")
        assert bot.stack.services.run(settings) == 1
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert started == [{"yesterday": 1}]
