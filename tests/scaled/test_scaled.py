"""Rasa's scale-out with the real servers: two Rasa servers on PostgreSQL and Redis.

Against ``make run-scaled``'s processes (``tests/scaled/conftest.py``): messages of
one conversation on two servers at once are processed one after the other; no
event is lost in a burst; a stopped PostgreSQL or Redis gives the kind fixed reply;
a conversation goes on when its server is killed (last, as it leaves one server).
Events are counted in PostgreSQL's ``events`` table.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.scaled.conftest import ScaledStack

pytestmark = pytest.mark.scaled

FIXED = "Sorry, I can't look that up right now"


def _text(replies: Any) -> str:
    return " ".join(r.get("text") or "" for r in replies) if isinstance(replies, list) else ""


def _turns(events: list[tuple[int, str, str | None]]) -> list[list[str]]:
    """The stored events cut into turns (each from a user message to action_listen).

    Raises:
        AssertionError: A user message was stored inside another one's turn.
    """
    turns: list[list[str]] = []
    current: list[str] | None = None
    for _id, kind, action in events:
        if kind == "user":
            assert current is None, f"two turns interleaved: {events}"
            current = ["user"]
        elif current is not None:
            current.append(action or kind)
            if kind == "action" and action == "action_listen":
                turns.append(current)
                current = None
    assert current is None, f"a turn never finished: {events}"
    return turns


def _stored_turns(
    scaled: ScaledStack, sender: str, expected: int, wait: float = 30
) -> list[list[str]]:
    """The conversation's finished turns, once ``expected`` are stored.

    A turn that took longer than the channels' deadline got the fixed reply and
    finishes in the background, so this waits for it.
    """
    deadline = time.monotonic() + wait
    while True:
        events = scaled.events(sender)
        users = sum(1 for _, kind, _a in events if kind == "user")
        listens = sum(1 for _, kind, a in events if kind == "action" and a == "action_listen")
        if (users == expected and listens == users + 1) or time.monotonic() > deadline:
            return _turns(events)
        time.sleep(0.5)


def test_two_messages_at_once_on_two_servers_are_processed_one_after_the_other(
    scaled: ScaledStack,
) -> None:
    senders = [f"lock-{i}" for i in range(3)]
    for sender in senders:  # an existing conversation, as both servers will load it
        assert scaled.say(sender, "hello")[0] == 200
    messages = ("what is an EHC needs assessment?", "what is SEN support?")
    start = threading.Barrier(len(senders) * 2)
    results: dict[tuple[str, int], tuple[int, Any]] = {}

    def send(sender: str, server: int) -> None:
        start.wait()
        results[sender, server] = scaled.say(
            sender, messages[server - 1], base=scaled.server(server)
        )

    threads = [threading.Thread(target=send, args=(s, i)) for s in senders for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for key, (status, replies) in results.items():
        assert status == 200 and _text(replies), (key, replies)
    assert len(results) == 6
    for sender in senders:
        turns = _stored_turns(scaled, sender, expected=3)
        assert len(turns) == 3, turns  # both messages stored, each turn whole
        assert all("bot" in turn for turn in turns), turns


def test_no_event_is_lost_in_a_burst_of_conversations(scaled: ScaledStack) -> None:
    conversations, script = 24, ("hello", "what is an EHC plan?", "thank you")

    def converse(i: int) -> list[tuple[int, Any]]:
        return [scaled.say(f"burst-{i}", text) for text in script]

    with ThreadPoolExecutor(conversations) as pool:
        replies = list(pool.map(converse, range(conversations)))
    for i, turns in enumerate(replies):
        for status, body in turns:
            assert status == 200 and _text(body), (i, status, body)
    stored = 0
    for i in range(conversations):
        turns = _stored_turns(scaled, f"burst-{i}", expected=len(script))
        assert len(turns) == len(script), (i, turns)
        stored += sum(len(turn) for turn in turns)
    assert stored >= conversations * len(script) * 3  # user, an action or more, listen


@pytest.mark.parametrize("store", ["postgres", "redis"])
def test_a_stopped_store_gives_the_kind_reply_with_the_human_routes(
    scaled: ScaledStack, store: str
) -> None:
    sender = f"{store}-down"
    assert FIXED not in _text(scaled.say(sender, "hello")[1])
    scaled.stack.stop([store])
    try:
        for who in (sender, f"{store}-down-new"):
            started = time.monotonic()
            status, replies = scaled.say(who, "what is an EHC plan?")
            took = time.monotonic() - started
            text = _text(replies)
            assert status == 200, (status, replies)
            assert FIXED in text and "SENDIAS" in text and "999" in text, replies
            assert took < 5, took
    finally:
        scaled.stack.start([store])
    deadline = time.monotonic() + 30  # the servers reconnect by themselves
    while True:
        status, replies = scaled.say(sender, "what is SEN support?")
        if status == 200 and _text(replies) and FIXED not in _text(replies):
            break
        assert time.monotonic() < deadline, f"not answering after {store} came back: {replies}"
        time.sleep(1)


def test_a_conversation_goes_on_when_the_server_it_started_on_is_killed(
    scaled: ScaledStack,
) -> None:
    sender = "failover"
    status, replies = scaled.say(sender, "can i talk to a real person", base=scaled.server(1))
    assert status == 200 and "Which area are you in?" in _text(replies), replies
    scaled.kill("rasa1")
    status, replies = scaled.say(sender, "Cornwall")  # through the balancer
    text = _text(replies)
    assert status == 200 and text and FIXED not in text, replies
    assert "Cornwall" in text, text  # the answer to the first server's question
    for i in range(4):  # nginx skips the dead server: no 502 for anyone
        status, replies = scaled.say(f"after-kill-{i}", "hello")
        assert status == 200 and FIXED not in _text(replies), replies
    assert len(_stored_turns(scaled, sender, expected=2)) == 2
