"""Rasa's lock store, chosen by one setting: Redis when a URL is set, memory otherwise.

Rasa processes the messages of one conversation one after the other by taking a
ticket lock on the conversation id. Its default keeps the locks in the server's
memory, which is right for one process (``make run``) and wrong for several: two
servers would each lock their own copy and could process two messages of one
conversation at once, writing their events interleaved. With several servers
(``make run-scaled``) the locks live in Redis, shared by all of them.

``endpoints.yml`` names this class (``lock_store: type: channels.lock_store.
EnvLockStore``) with ``url: ${SENBOT_LOCK_STORE_URL}`` (``bot/settings.py``):

- empty: Rasa's ``InMemoryLockStore``, exactly what Rasa uses with no lock store;
- ``redis://[[user]:password@]host[:port][/db]``: Rasa's ``RedisLockStore`` on that
  server and database (port 6379 and database 0 when left out).

Rasa creates a lock store named by module path as ``cls(endpoint_config=...)``, so
this class holds one of Rasa's two stores and hands its three storage methods on;
the ticket logic stays Rasa's own. One thing differs: a message waiting for the
conversation's lock looks again every :data:`POLL_SECONDS` (Rasa: every second), so
the second of two quick messages is not held up to a second longer than it must;
the channels send their fixed reply when a turn takes more than 1.6 s.

And one fault of Rasa 3.6 is fixed for Redis: each change to a conversation's lock
(issue a ticket, drop expired ones, finish one, delete the lock) is a read, a change
and a write, with nothing between two servers. A waiting server's periodic clean-up
could write back a copy read just before the other server finished its ticket,
bringing that ticket back: the waiting message then waited for it to expire (60 s),
long after its person had been given the fixed reply (found by
``tests/scaled`` in CI). Here every such change holds a short Redis mutex on the
conversation (``senbot:mutex:<conversation id>``, SET NX with an expiry).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

# Keys are "senbot:lock:<conversation id>", so the database can be shared.
KEY_PREFIX = "senbot"
POLL_SECONDS = 0.05  # between looks at a lock another message holds
MUTEX_SECONDS = 5.0  # longest hold (and wait) of the mutex around one lock change


def redis_lock_store(url: str, socket_timeout: float = 2.0) -> RedisLockStore:
    """Rasa's Redis lock store for a ``redis://`` URL.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``.
        socket_timeout: Seconds before a Redis call that hangs fails the turn
            (Rasa's default is 10, longer than the channels' 2 s reply deadline).

    Raises:
        ValueError: The URL is not a ``redis://`` URL with a host.
    """
    parts = urlsplit(url)
    if parts.scheme != "redis" or not parts.hostname:
        raise ValueError(f"The lock store URL must look like redis://host:6379/0, not {url!r}")
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise ValueError(f"The Redis database in {url!r} must be a number, not {db!r}")
    return RedisLockStore(
        host=parts.hostname,
        port=parts.port or 6379,
        db=int(db),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        key_prefix=KEY_PREFIX,
        socket_timeout=socket_timeout,
    )


class EnvLockStore(LockStore):
    """Rasa's Redis lock store when a URL is configured, its in-memory one otherwise."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **_: Any) -> None:
        url = ((endpoint_config.url if endpoint_config else None) or "").strip()
        self.store: LockStore = redis_lock_store(url) if url else InMemoryLockStore()
        super().__init__()

    def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AbstractAsyncContextManager[TicketLock]:
        """Rasa's ticket lock on the conversation, looked at every ``POLL_SECONDS``."""
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The stored lock of ``conversation_id``, if any."""
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Delete the lock of ``conversation_id``."""
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Store ``lock``."""
        self.store.save_lock(lock)

    def _changing(self, conversation_id: str) -> AbstractContextManager[Any]:
        """Hold the conversation's mutex while its lock is read, changed and written.

        In memory nothing is needed: these methods do not await, so no other message
        of this process runs in between.
        """
        if not isinstance(self.store, RedisLockStore):
            return nullcontext()
        name = f"{KEY_PREFIX}:mutex:{conversation_id}"  # not under the locks' prefix
        return self.store.red.lock(
            name, timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS, sleep=0.002
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Rasa's ticket, issued under the conversation's mutex."""
        try:
            with self._changing(conversation_id):
                return super().issue_ticket(conversation_id, lock_lifetime)
        except RedisError as err:
            raise LockError(f"Could not lock conversation {conversation_id!r}: {err}") from err

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets, under the conversation's mutex."""
        with self._changing(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Drop a finished ticket, under the conversation's mutex."""
        with self._changing(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Drop the finished ticket, and the lock when nobody waits: one change."""
        with self._changing(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)
