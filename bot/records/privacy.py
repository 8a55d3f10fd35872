"""Personal data: what is redacted before anything is stored or logged.

This module owns the one redaction function the project uses (``redact``), so the
tracker store, the logs and the staff reports hide the same things the same way:

| what | example | becomes |
| --- | --- | --- |
| email address | ``jo.bloggs@example.com`` | ``[email]`` |
| UK phone number | ``07700 900123``, ``+44 (0)1865 810516``, ``020 7946 0018`` | ``[phone]`` |
| UK postcode | ``OX1 2JD``, ``tr1 3ax`` | ``[postcode]`` |
| a name someone gives | "my name is Jo Bloggs", "I'm called Jo", "my son's name is Sam" | "my name is [name]" |
| any other run of 8 or more digits | an NHS number ``485 777 3456``, a date of birth ``31/01/2014`` | ``[number]`` |

Short service numbers (999, 111, 116 123, Shout's 85258) are not personal and
are kept. A first name said any other way ("Jo here", "I'm Jo") is not found: telling
it from "I'm worried" would redact ordinary words.

Only what is stored and logged is redacted: the crisis check and the answer read the
message as typed, because Rasa saves the conversation only after it has answered.

Retention: ``purge`` deletes conversations whose last event is older than
``SENBOT_RETENTION_DAYS`` from the tracker store (SQLite or PostgreSQL) and older
rows from the feedback database; ``python -m bot.stack`` runs it at start and
then daily (``purge_daily``).

It imports neither Rasa nor Flask. Redaction and retention share one file (about
370 lines) so a privacy reviewer reads everything that removes personal data in
one place.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

EMAIL = "[email]"
PHONE = "[phone]"
POSTCODE = "[postcode]"
NAME = "[name]"
NUMBER = "[number]"

_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

# A candidate phone number: +44 / 0044 / 0, then digits with spaces, dots, hyphens
# or brackets between them. _phone() then checks the digit count, so dates and
# reference numbers of another length stay.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?44[\s.-]?(?:\(0\)[\s.-]?)?\(?|\(?0)\d(?:[\s.()-]{0,2}\d){7,11}(?!\d)"
)

# What is left of a long number once phones are out: NHS numbers, dates of birth
# written with separators, account and reference numbers.
_LONG_NUMBER = re.compile(r"(?<![\w+])\d(?:[\s./-]?\d){7,}(?![\w])")

# Full UK postcodes (outward code, space optional, inward code); GIR 0AA too.
_POSTCODE = re.compile(
    r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)

# Words that end a name: "my name is Jo and I ..." keeps "and I ...".
_NOT_NAME = frozenset(
    """and but or so because as at in on of from to with who which that we i i'm
    my our he she they it is am are was were have has had live living here there
    and, please thanks thank can could would will do does did what how why when
    where whether if the a an mum dad mother father parent carer not back later now
    today tomorrow soon anytime any just""".split()
)
_NAME_WORD = r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’-]*"
_NAME = re.compile(
    r"(?P<lead>\b(?:"
    r"(?:my|our|his|her|their)\s+(?:[a-z]+(?:'s|’s)\s+)?(?:full\s+|first\s+|sur)?name"
    r"(?:\s+is|'s|’s|\s*:)"
    r"|(?:i'?m|i’m|i\s+am|he'?s|he’s|he\s+is|she'?s|she’s|she\s+is|they'?re|they’re"
    r"|they\s+are|(?:my|our)\s+[a-z]+\s+is)\s+called"
    r"|call\s+me"
    r"))\s+(?P<name>" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r"){0,2})",
    re.IGNORECASE,
)


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = re.sub(r"\D", "", found)
    if digits.startswith("0044"):
        digits = digits[4:]
    elif found.lstrip("(").startswith("+"):
        digits = digits[2:]
    else:
        digits = digits[1:]  # the leading 0
    if found.lstrip("(").startswith(("+", "00")) and "(0)" in found:
        digits = digits[1:]
    # A UK number is 9 or 10 digits after the 0 (0800 1111 is a helpline, kept).
    return PHONE if len(digits) in (9, 10) else found


def _name(match: re.Match[str]) -> str:
    words = match.group("name").split()
    kept = 0
    for word in words:
        if word.lower().strip("'’-") in _NOT_NAME:
            break
        kept += 1
    if not kept:
        return match.group(0)
    rest = " ".join(words[kept:])
    return f"{match.group('lead')} {NAME}" + (f" {rest}" if rest else "")


def redact(text: str) -> str:
    """Hide emails, UK phone numbers, UK postcodes and names people give.

    Args:
        text: A message, a log line or anything else about to be stored.

    Returns:
        The text with each of them replaced by ``[email]``, ``[phone]``,
        ``[postcode]`` or ``[name]``; everything else as it was.
    """
    if not text or not isinstance(text, str):
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _PHONE.sub(_phone, text)
    text = _LONG_NUMBER.sub(NUMBER, text)
    text = _POSTCODE.sub(POSTCODE, text)
    return _NAME.sub(_name, text)


def personal_items(text: str) -> list[tuple[str, str]]:
    """The personal details ``redact`` would hide in ``text``, with their labels.

    Used to hide an echo: when a reply repeats what the person typed, the same
    strings go from the stored reply, while the service's own numbers stay.

    Returns:
        ``(found text, label)`` pairs, longest first.
    """
    if not text or not isinstance(text, str):
        return []
    found = [(m.group(0), EMAIL) for m in _EMAIL.finditer(text)]
    found += [(m.group(0), PHONE) for m in _PHONE.finditer(text) if _phone(m) == PHONE]
    without_phones = _PHONE.sub(_phone, text)
    found += [(m.group(0), NUMBER) for m in _LONG_NUMBER.finditer(without_phones)]
    found += [(m.group(0), POSTCODE) for m in _POSTCODE.finditer(text)]
    for m in _NAME.finditer(text):
        replaced = _name(m)
        if replaced != m.group(0):
            kept = replaced[len(m.group("lead")) + len(NAME) + 1 :].strip()
            name = m.group("name")
            found.append((name[: len(name) - len(kept)].strip() if kept else name, NAME))
    return sorted(set(found), key=lambda item: -len(item[0]))


def redact_echo(text: str, items: list[tuple[str, str]]) -> str:
    """Replace in ``text`` each of ``items`` (from :func:`personal_items`)."""
    if not isinstance(text, str):
        return text
    for found, label in items:
        text = text.replace(found, label)
    return text


class _RedactingRecords:
    """A log record factory that redacts each message (and its traceback)."""

    def __init__(self, factory: Callable[..., logging.LogRecord]) -> None:
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        try:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
            if record.exc_info and not record.exc_text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        except Exception:  # noqa: BLE001, S110 - a log line must never break the caller
            pass
        return record


def install_log_redaction() -> None:
    """Redact every log message of this process from now on (idempotent).

    It replaces the log record factory, so it covers every logger and handler,
    those of Rasa (whose structlog lines become ordinary records), Sanic and ours.
    """
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingRecords):
        logging.setLogRecordFactory(_RedactingRecords(current))


def redact_value(value: Any) -> Any:
    """``redact`` applied to every string inside lists and dicts (keys kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


# --- Retention -----------------------------------------------------------------

DAY = 24 * 60 * 60


@dataclass(frozen=True)
class Purged:
    """What one purge deleted."""

    cutoff: datetime
    conversations: int
    events: int
    feedback_rows: int

    def __str__(self) -> str:
        return (
            f"deleted {self.conversations} conversations ({self.events} events) and "
            f"{self.feedback_rows} feedback rows last active before "
            f"{self.cutoff.isoformat(timespec='seconds')}"
        )


def tracker_db_url(settings: Settings) -> str:
    """The tracker store's database URL, as ``endpoints.yml`` gives it to Rasa."""
    return settings.tracker_url or f"sqlite:///{settings.tracker_db}"


def purge_tracker_store(url: str, cutoff: datetime) -> tuple[int, int]:
    """Delete every conversation whose last event is older than ``cutoff``.

    Works on Rasa's ``SQLTrackerStore`` table ``events`` (``sender_id``,
    ``timestamp`` in Unix seconds) in SQLite or PostgreSQL. A conversation is
    deleted whole, never cut: one event from after the cutoff keeps all of it.

    Returns:
        (conversations, events) deleted.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table("events"):
            return 0, 0  # Rasa has not started on this database yet
        old = "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"
        params = {"cutoff": cutoff.timestamp()}
        with engine.begin() as conn:
            conversations = conn.execute(
                sa.text(f"SELECT COUNT(*) FROM ({old}) AS old"), params
            ).scalar_one()
            events = conn.execute(
                sa.text(f"DELETE FROM events WHERE sender_id IN ({old})"), params
            ).rowcount
        return int(conversations), int(events)
    finally:
        engine.dispose()


def purge_feedback(path: Path, cutoff: datetime) -> int:
    """Delete feedback rows older than ``cutoff`` from the feedback database.

    Every table in that file with an ``at`` column (ISO 8601 UTC, as
    ``bot/records/feedback.py`` writes it) is purged, so a table added beside
    ``feedback`` later is covered too.

    Returns:
        Rows deleted.
    """
    if not path.exists():
        return 0
    stamp = cutoff.astimezone(UTC).isoformat(timespec="seconds")
    deleted = 0
    with closing(sqlite3.connect(path, timeout=10)) as conn, conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
            if "at" in columns:
                deleted += conn.execute(f'DELETE FROM "{table}" WHERE "at" < ?', (stamp,)).rowcount
    return deleted


def purge(settings: Settings | None = None, now: datetime | None = None) -> Purged:
    """Delete conversations and feedback older than ``SENBOT_RETENTION_DAYS``.

    Args:
        settings: Where the tracker store and feedback database are (defaults to
            the process settings).
        now: The time to count back from (tests pass one; defaults to now, UTC).

    Returns:
        What was deleted.
    """
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=settings.retention_days)
    conversations, events = 0, 0
    if settings.tracker_url or settings.tracker_db.exists():
        conversations, events = purge_tracker_store(tracker_db_url(settings), cutoff)
    feedback_rows = purge_feedback(settings.feedback_db, cutoff)
    return Purged(cutoff, conversations, events, feedback_rows)


def purge_daily(
    settings: Settings,
    stop: threading.Event,
    every: float = DAY,
    report: Callable[[str], None] | None = None,
) -> threading.Thread:
    """Purge every ``every`` seconds until ``stop`` is set, in a daemon thread.

    The caller purges once at start (so the start itself enforces retention); this
    thread repeats it. A failed purge (database down, file locked) is logged and
    tried again at the next turn; it never stops the assistant.

    Args:
        settings: Retention period and where the stores are.
        stop: Set it to end the thread.
        every: Seconds between purges.
        report: Called with one line per purge (default: this module's logger).

    Returns:
        The started thread.
    """

    def _loop() -> None:
        say = report or logger.info
        while not stop.wait(every):
            try:
                say(f"Retention ({settings.retention_days} days): {purge(settings)}")
            except Exception as err:  # noqa: BLE001 - keep serving, try next turn
                logger.exception("Retention purge failed")
                say(f"Retention purge failed ({err}); trying again in {every:.0f} s")

    thread = threading.Thread(target=_loop, name="retention-purge", daemon=True)
    thread.start()
    return thread


def enforce_retention(
    settings: Settings, report: Callable[[str], None] | None = None
) -> threading.Thread:
    """Purge now, then daily in a daemon thread: what ``python -m bot.stack`` calls.

    A purge that fails at start is reported, not raised: the assistant still
    starts, and the daily thread tries again.

    Returns:
        The daily thread (it ends with the process).
    """
    say = report or (lambda line: print(line, flush=True))
    try:
        say(f"Retention ({settings.retention_days} days): {purge(settings)}")
    except Exception as err:  # noqa: BLE001 - a database that is down must not stop a start
        logger.exception("Retention purge failed at start")
        say(f"Retention purge failed at start ({err}); trying again in a day")
    return purge_daily(settings, threading.Event(), report=say)
