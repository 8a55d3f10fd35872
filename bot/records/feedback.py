"""Answers to "Was this helpful?", kept so the people who run the assistant can improve it.

Stored in SQLite (write-ahead log, so the action server and a staff member reading
the summary do not block each other). The conversation id is never stored as
given: it is hashed with a salt kept beside the database, so a row can be grouped
with others from the same conversation but not traced back to a person.
Emails, phone numbers, postcodes and introduced names are taken out of the
question and comment before they are stored (:func:`bot.records.privacy.redact`).
Recording never raises: a full disk or locked file is logged, and the person
chatting still gets their reply.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.records.privacy import redact
from bot.settings import get_settings

logger = logging.getLogger(__name__)

MAX_TEXT = 1000  # characters kept of a question or comment

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    conversation TEXT NOT NULL,
    question TEXT NOT NULL,
    article TEXT NOT NULL,
    helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    comment TEXT
)
"""


@dataclass(frozen=True)
class ArticleScore:
    """How one article was rated."""

    article: str
    helpful: int
    not_helpful: int

    @property
    def total(self) -> int:
        return self.helpful + self.not_helpful


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace("\x00", "").strip()
    return text[:MAX_TEXT] or None


class FeedbackStore:
    """Append-only store of helpful / not helpful answers."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else get_settings().feedback_db
        self._salt: bytes | None = None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_SCHEMA)
        return conn

    def _salt_bytes(self) -> bytes:
        if self._salt is None:
            salt_file = self.path.with_suffix(".salt")
            if not salt_file.exists():
                salt_file.parent.mkdir(parents=True, exist_ok=True)
                salt_file.write_bytes(secrets.token_bytes(16))
                salt_file.chmod(0o600)
            self._salt = salt_file.read_bytes()
        return self._salt

    def _hash(self, conversation: str) -> str:
        return hashlib.sha256(self._salt_bytes() + conversation.encode()).hexdigest()[:16]

    def record(
        self,
        *,
        conversation: str,
        question: str,
        article: str,
        helpful: bool,
        comment: str | None = None,
    ) -> bool:
        """Store one answer; return False (and log why) instead of raising."""
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT INTO feedback (at, conversation, question, article, helpful, comment)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        datetime.now(UTC).isoformat(timespec="seconds"),
                        self._hash(conversation or ""),
                        _clip(redact(question)) or "",
                        _clip(article) or "",
                        int(bool(helpful)),
                        _clip(redact(comment or "")),
                    ),
                )
            return True
        except (sqlite3.Error, OSError) as err:
            logger.error("Could not store feedback in %s: %s", self.path, err)
            return False

    def summary(self) -> list[ArticleScore]:
        """Per article, how many found it helpful and not; least helpful first."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT article, SUM(helpful), SUM(1 - helpful) FROM feedback"
                " GROUP BY article ORDER BY SUM(1 - helpful) * 1.0 / COUNT(*) DESC, article"
            ).fetchall()
        return [ArticleScore(a, int(h), int(n)) for a, h, n in rows]

    def recent_unhelpful(self, limit: int = 20) -> list[tuple[str, str, str, str | None]]:
        """The latest questions whose answer did not help: (when, article, question, comment)."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            return conn.execute(
                "SELECT at, article, question, comment FROM feedback WHERE helpful = 0"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
