"""What the assistant answered and declined, kept for the staff review report.

The knowledge action records one event per question it handles: ``answered``
(with the article's slug, or ``contacts`` for an answer from
knowledge/contacts.yml; the question itself is not kept) or ``declined`` (with the
question, personal details taken out by :func:`bot.records.privacy.redact`, so staff can see
what families asked that the knowledge does not cover). Events live in a second
table of the feedback database, beside the "Was this helpful?" answers, with the
conversation id hashed by the same salt (:class:`bot.records.feedback.FeedbackStore`).
Like feedback, recording never raises.

Questions the classifier put out of scope never reach the knowledge action (Rasa
answers them with ``utter_out_of_scope``, which needs no action server), so
:func:`out_of_scope_events` reads them from the conversation store, where they
were written redacted (``channels/tracker_store.py``), as declined questions too.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from bot.records.feedback import FeedbackStore, _clip
from bot.records.privacy import redact

logger = logging.getLogger(__name__)

ANSWERED = "answered"
DECLINED = "declined"
KINDS = (ANSWERED, DECLINED)
CONTACTS_ARTICLE = "contacts"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answer_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    conversation TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('answered', 'declined')),
    question TEXT NOT NULL,
    article TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Event:
    """One recorded question: when, answered or declined, what, which article."""

    at: datetime
    kind: str
    question: str
    article: str


@dataclass(frozen=True)
class Rating:
    """One "Was this helpful?" answer, as stored by :mod:`bot.records.feedback`."""

    at: datetime
    article: str
    question: str
    helpful: bool
    comment: str | None


def out_of_scope_events(url: str, since: date | None = None) -> list[Event]:
    """Messages the classifier put out of scope, from the conversation store at ``url``.

    Args:
        url: The tracker store's database URL (SQLite or PostgreSQL).
        since: Only messages from this UTC day on.

    Returns:
        One ``declined`` event per message, oldest first; nothing when the store
        does not exist yet or cannot be read (logged).
    """
    import sqlalchemy as sa

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    start = datetime.combine(since, datetime.min.time(), UTC).timestamp() if since else 0.0
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT timestamp, data FROM events WHERE type_name = 'user'"
                    " AND intent_name = 'out_of_scope' AND timestamp >= :start ORDER BY id"
                ),
                {"start": start},
            ).fetchall()
    except sa.exc.SQLAlchemyError as err:
        logger.error("Could not read out-of-scope questions from the conversation store: %s", err)
        return []
    finally:
        engine.dispose()
    events = []
    for timestamp, data in rows:
        text = (json.loads(data).get("text") or "").strip()
        if text and not text.startswith("/"):  # a button's payload is not a question
            at = datetime.fromtimestamp(timestamp, UTC)
            events.append(Event(at, DECLINED, redact(_clip(text) or ""), ""))
    return events


def _since_text(since: date | None) -> str:
    return since.isoformat() if since else ""


class ReviewLog(FeedbackStore):
    """The feedback database, with the answered / declined events beside it."""

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        conn.execute(_SCHEMA)
        return conn

    def record_event(
        self, kind: str, *, conversation: str, question: str = "", article: str = ""
    ) -> bool:
        """Store one answered or declined question; False (logged) instead of raising.

        Args:
            kind: ``answered`` or ``declined``.
            conversation: Rasa's sender id; only its salted hash is stored.
            question: What was asked; kept (redacted) for declined questions only.
            article: The article answered from (answered only).
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        kept = (_clip(redact(question)) or "") if kind == DECLINED else ""
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT INTO answer_events"
                    " (at, conversation, kind, question, article)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        datetime.now(UTC).isoformat(timespec="seconds"),
                        self._hash(conversation or ""),
                        kind,
                        kept,
                        _clip(article) or "",
                    ),
                )
            return True
        except (sqlite3.Error, OSError) as err:
            logger.error("Could not store an answer event in %s: %s", self.path, err)
            return False

    def events(self, since: date | None = None) -> list[Event]:
        """Answered and declined questions from ``since`` (a UTC day), oldest first."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT at, kind, question, article FROM answer_events WHERE at >= ? ORDER BY id",
                (_since_text(since),),
            ).fetchall()
        return [
            Event(datetime.fromisoformat(at), kind, question, article)
            for at, kind, question, article in rows
        ]

    def ratings(self, since: date | None = None) -> list[Rating]:
        """The "Was this helpful?" answers from ``since`` on, oldest first."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT at, article, question, helpful, comment FROM feedback"
                " WHERE at >= ? ORDER BY id",
                (_since_text(since),),
            ).fetchall()
        # Rows stored before questions were redacted on the way in are redacted here.
        return [
            Rating(
                datetime.fromisoformat(at),
                article,
                redact(question),
                bool(helpful),
                redact(comment) or None,
            )
            for at, article, question, helpful, comment in rows
        ]
