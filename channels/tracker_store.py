"""Rasa's SQL tracker store, storing conversations with personal details redacted.

``endpoints.yml`` names it (``type: channels.tracker_store.RedactingSQLTrackerStore``)
with the same ``url`` / ``dialect`` / ``db`` settings as Rasa's own ``SQL`` store, so
it keeps SQLite in ``var/tracker.db`` or PostgreSQL at ``SENBOT_TRACKER_URL``.

What changes is only what reaches the database: each new event is written with
``bot.records.privacy.redact`` applied to the person's text and parse data, to slot values
(``last_question`` and ``handoff_text`` hold question text) and to anything else a
user or slot event carries; a bot reply keeps the service's own numbers and loses
only what repeats the person's details. The tracker Rasa is working on is not
touched, so in the turn itself the crisis check, the classifier and the actions see
the message as typed. From the next turn Rasa reloads the conversation from the
database and sees ``[email]``, ``[phone]``, ``[postcode]``, ``[name]`` or
``[number]`` instead; nothing in the dialogue reads old text back, so answers do not
change.

Creating the store also redacts this process's log messages
(``bot.records.privacy.install_log_redaction``): it is the first project code Rasa loads
that runs in the server, and Rasa's debug lines carry the message text.

It also makes a conversation that cannot be read fail its turn
(:func:`fail_turn_when_unreadable`): the channels then send the fixed reply with
SENDIAS and 999 (``channels/never_silent.py``), instead of Rasa's default, which is
to answer as if the conversation had just begun and keep it in that one server's
memory, where a second Rasa server never sees it (docs/scaling.md).

And it reloads a bounded working tracker (``working_turns`` in ``endpoints.yml``):
the events from the Nth-last user message of the session on, preceded by one
``SlotSet`` per slot with its latest earlier value. Everything stays stored; only
what Rasa reads back shrinks, and with it the policies' work and what every action
call sends, which otherwise grow with the length of the conversation
(docs/speed.md). No rule starts at the conversation's beginning, none spans more
than two user messages, and every intent has one; memoised stories cut short by the
window leave the decision to those rules (the multi-turn integration tests run on
this store), so five turns change no prediction.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
from collections.abc import Generator, Iterator
from typing import Any

import rasa.shared.utils.cli
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, ensure_schema_exists
from rasa.shared.core.events import BotUttered, Event, Restarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.knowledge.embeddings import VECTOR_KEY
from bot.records.privacy import install_log_redaction, personal_items, redact_echo, redact_value

logger = logging.getLogger(__name__)

# Keys whose values are bookkeeping, never text a person typed.
_KEEP = frozenset(
    {
        "event",
        "timestamp",
        "name",
        "policy",
        "confidence",
        "input_channel",
        "message_id",
        "action_text",
    }
)

# The attribute a working tracker keeps its count of loaded events in.
_LOADED = "_senbot_events_loaded"


class _Stored:
    """An event as it is written: its type name and its redacted dictionary."""

    def __init__(self, type_name: str, data: dict[str, Any]) -> None:
        self.type_name = type_name
        self._data = data

    def as_dict(self) -> dict[str, Any]:
        return self._data


def redact_event(event: Event, said: list[tuple[str, str]]) -> dict[str, Any]:
    """The event's dictionary as it should be stored.

    Args:
        event: A Rasa event about to be saved.
        said: Personal details found in the person's messages in memory
            (``bot.records.privacy.personal_items``), hidden where a reply repeats them.
    """
    data = event.as_dict()
    parse_data = data.get("parse_data")
    if isinstance(parse_data, dict) and VECTOR_KEY in parse_data:
        # The featurizer's vector of the message is for this turn's action call only:
        # kept, it would be 2 KB a message and a numeric copy of what was said.
        data["parse_data"] = {k: v for k, v in parse_data.items() if k != VECTOR_KEY}
    if isinstance(event, BotUttered):
        return {key: (value if key in _KEEP else _echo(value, said)) for key, value in data.items()}
    return {key: (value if key in _KEEP else redact_value(value)) for key, value in data.items()}


def _echo(value: Any, said: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        return redact_echo(value, said)
    if isinstance(value, dict):
        return {key: _echo(item, said) for key, item in value.items()}
    if isinstance(value, list):
        return [_echo(item, said) for item in value]
    return value


WORKING_INDEX = (
    "CREATE INDEX IF NOT EXISTS senbot_events_working "
    "ON events (sender_id, type_name, action_name, id)"
)


class StoreRefused(RuntimeError):  # noqa: N818 - reads as what happened
    """The database would not store something in this turn (not a missing schema)."""


class StoreUnavailable(RuntimeError):  # noqa: N818 - reads as what happened
    """The conversation could not be read (the database is down or unreachable)."""


def fail_turn_when_unreadable() -> None:
    """Make a turn fail when its conversation cannot be read from this store.

    Rasa 3.6 wraps every tracker store in ``FailSafeTrackerStore``, which logs a
    failed read and carries on with a new, empty conversation, saved in that
    server's memory. With PostgreSQL down the person would get answers that forget
    what they said (a bare "Cornwall" after "Which area are you in?"), and none of
    it would be stored. Raising instead fails the turn, and the channels send the
    fixed reply with the human routes. Failed writes keep Rasa's behaviour: the
    reply is already made. Idempotent; other tracker stores are not affected.
    """
    rasa_handler = FailSafeTrackerStore.on_tracker_store_retrieve_error
    if getattr(rasa_handler, "fails_unreadable", False):
        return

    def on_retrieve_error(self: FailSafeTrackerStore, error: Exception) -> None:
        if isinstance(self._tracker_store, RedactingSQLTrackerStore):
            raise StoreUnavailable(f"The conversation store cannot be read: {error}") from error
        rasa_handler(self, error)

    on_retrieve_error.fails_unreadable = True  # type: ignore[attr-defined]
    FailSafeTrackerStore.on_tracker_store_retrieve_error = on_retrieve_error  # type: ignore[method-assign]


class RedactingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that writes events with personal details redacted and
    reloads a bounded working tracker.

    Args:
        working_turns: How many of the session's latest user messages Rasa reloads
            with the events after them; ``0`` reloads the whole session (Rasa's own
            behaviour).
    """

    def __init__(self, *args: Any, working_turns: int | str = 10, **kwargs: Any) -> None:
        install_log_redaction()
        fail_turn_when_unreadable()
        self.working_turns = int(working_turns or 0)
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _write_ahead_log)
        self._index_for_the_working_tracker()

    def _index_for_the_working_tracker(self) -> None:
        """An index on (sender, type, action, id) for the working tracker's queries.

        Rasa indexes ``sender_id`` alone, so finding the Nth-last user message and
        each slot's latest value read every event of the conversation: the read
        grew from 2.8 to 11.3 ms between turns 1 and 200 (docs/speed.md).
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.text(WORKING_INDEX))
        except sa.exc.SQLAlchemyError as error:  # another server made it, or no database yet
            logger.warning("Could not create the working tracker's index: %s", error)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's working tracker (see the module's docstring)."""
        if self.working_turns <= 0:
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            rows = self._working_rows(session, sender_id)
        events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        # Its new events follow the ones it came with (the database holds more,
        # so Rasa's count of the stored events would be wrong).
        setattr(tracker, _LOADED, len(tracker.events))
        return tracker

    def _working_rows(self, session: Any, sender_id: str) -> list[Any]:
        """The rows of the working tracker, in the order they were stored."""
        event = self.SQLEvent
        in_session = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        ids = in_session.with_entities(event.id).order_by(None)
        cut = (
            ids.filter(event.type_name == UserUttered.type_name)
            .order_by(event.id.desc())
            .offset(self.working_turns - 1)
            .limit(1)
            .scalar()
        )
        if cut is None:  # fewer user messages than that: the whole session
            return in_session.all()
        restart = ids.filter(event.type_name == Restarted.type_name).order_by(None)
        after = restart.with_entities(sa.func.max(event.id)).scalar()
        latest_slots = [
            slot_id
            for (slot_id,) in ids.filter(event.type_name == SlotSet.type_name, event.id < cut)
            .filter(event.id > after if after is not None else sa.true())
            .with_entities(sa.func.max(event.id))
            .group_by(event.action_name)
        ]
        return in_session.filter(sa.or_(event.id >= cut, event.id.in_(latest_slots))).all()

    @contextlib.contextmanager
    def session_scope(self) -> Generator[Any, None, None]:
        """Rasa's transactional scope, without its exit on any ``ValueError``.

        Rasa 3.6 reads every ``ValueError`` in the scope as "PostgreSQL schema
        missing" and exits the server; but SQLite and psycopg2 raise ``ValueError``
        for text they cannot store (a lone surrogate, a NUL), so one such message
        stopped the assistant for everyone. Here only the schema check exits, as in
        Rasa; any other ``ValueError`` fails that one turn (``StoreRefused``), and
        ``channels/never_silent.py`` still sends that person a reply.
        """
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as err:  # Rasa's own message and exit
                rasa.shared.utils.cli.print_error_and_exit(
                    f"Requested PostgreSQL schema '{err}' was not found in the "
                    "database. Create it, or unset the POSTGRESQL_SCHEMA environment "
                    "variable to use the default schema. Exiting application."
                )
            try:
                yield session
            except ValueError as err:
                raise StoreRefused(f"The conversation store refused a value: {err}") from err
        finally:
            session.close()

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        """Rasa's new events for this tracker, each redacted for storage."""
        said: list[tuple[str, str]] = []
        for event in tracker.events:
            if isinstance(event, UserUttered):
                said.extend(personal_items(event.text or ""))
        said.sort(key=lambda item: -len(item[0]))
        loaded = getattr(tracker, _LOADED, None)
        if loaded is None:  # a tracker this store did not load: Rasa's own count
            new = super()._additional_events(session, tracker)
        else:
            new = itertools.islice(tracker.events, loaded, None)
            setattr(tracker, _LOADED, len(tracker.events))
        for event in new:
            if isinstance(event, (UserUttered, BotUttered, SlotSet)) or _has_text(event):
                yield _Stored(event.type_name, redact_event(event, said))
            else:
                yield event


def _write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite in write-ahead-log mode, synced at checkpoints rather than each commit.

    A turn's commit then costs no fsync of its own; a crash of the server loses
    nothing committed, a power cut at most the last turns (SQLite's documented
    trade for ``synchronous=NORMAL`` in WAL mode). PostgreSQL is not touched.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _has_text(event: Event) -> bool:
    """Any other event type carrying strings beyond its name (entities, metadata)."""
    return any(
        isinstance(value, (str, dict, list))
        for key, value in event.as_dict().items()
        if key not in _KEEP
    )
