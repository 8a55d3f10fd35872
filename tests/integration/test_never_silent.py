"""The action server is killed mid-conversation: nobody meets silence, and it comes back.

The live stack is put under supervision (what ``make run`` does); its action server
is killed. Every message, over REST, the widget and socket.io, must get a non-empty
reply within 2 s that names SENDIAS and 999; the crisis reply still comes; and
knowledge answers (with their source) resume within 10 s of the kill.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid

import pytest

from bot.stack.services import RestartPolicy

pytestmark = pytest.mark.integration

QUESTION = "who pays for the extra help at school?"
# Seconds from the kill to a knowledge answer again: the target. On PyTorch
# it took 11-13 s on the shared 2-core machine (load 5-6), nearly all of it importing
# PyTorch and sentence-transformers in the new action server; on ONNX Runtime
# (bot/knowledge/embeddings.py) the action server answers ~4 s after the kill at load 4-5.
BACK_WITHIN = 10.0


def text_of(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def timed(call, *args, **kwargs):
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def widget_chat(live_stack, **body) -> str:
    status, reply = live_stack.post(
        "/api/chat", json.dumps(body).encode("utf-8"), base=live_stack.widget_url
    )
    assert status == 200, reply
    return text_of(reply["messages"])


def socketio_say(live_stack, message: str, wait: float) -> tuple[list[dict], float | None]:
    """One message over socket.io (polling, as tests/e2e does).

    Returns:
        The replies heard, and seconds from sending to the first one (None if none).
    """
    import socketio

    heard: list[dict] = []
    got = threading.Event()
    confirmed = threading.Event()
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", lambda data: (heard.append(data), got.set()))
    client.on("session_confirm", lambda _session: confirmed.set())
    session_id = uuid.uuid4().hex
    client.connect(live_stack.rasa_url, transports=["polling"], wait_timeout=20)
    try:
        client.emit("session_request", {"session_id": session_id})
        assert confirmed.wait(20), "no session_confirm over socket.io"
        sent = time.monotonic()
        client.emit("user_uttered", {"message": message, "session_id": session_id})
        seconds = time.monotonic() - sent if got.wait(wait) else None
    finally:
        # A polling client's disconnect waits for its pending long-poll: not timed.
        threading.Thread(target=client.disconnect, daemon=True).start()
    return heard, seconds


@pytest.fixture
def supervised(live_stack):
    """The live stack under supervision, as ``make run`` runs it; its log lines."""
    stack = live_stack.stack
    lines: list[str] = []
    log, policy = stack.log, stack.restart
    stack.log, stack.restart = lines.append, RestartPolicy()
    stop = threading.Event()
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            stack.supervise(stop)
        except BaseException as err:  # noqa: BLE001 - reported by the test
            errors.append(err)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield lines
    finally:
        stop.set()
        watcher.join(5)
        stack.log, stack.restart = log, policy
        stack.start(("actions",))  # the next tests need it, whatever happened here
    assert not errors, errors


def test_killing_the_action_server_never_leaves_a_person_in_silence(live_stack, supervised):
    sender = uuid.uuid4().hex
    live_stack.say(sender, '/inform_area{"area": "oxfordshire"}')
    assert "Source:" in text_of(live_stack.say(sender, QUESTION))  # working before

    actions = live_stack.stack.services["actions"]
    os.killpg(actions.process.pid, signal.SIGKILL)
    killed = time.monotonic()

    # From the kill on, someone keeps asking a knowledge question: every reply must
    # come in time and name SENDIAS and 999, until the answers (with a source) resume.
    polled: list[tuple[float, str]] = []
    back: list[float] = []

    def keep_asking() -> None:
        while time.monotonic() - killed < 60:
            replies, seconds = timed(live_stack.say, uuid.uuid4().hex, QUESTION)
            text = text_of(replies)
            if "Source:" in text:
                back.append(time.monotonic() - killed)
                return
            polled.append((seconds, text))
            time.sleep(0.25)

    asker = threading.Thread(target=keep_asking, daemon=True)
    asker.start()

    timings: dict[str, float] = {}
    # A greeting needs no action server: it still comes, and quickly.
    replies, seconds = timed(live_stack.say, sender, "hello")
    assert "SEN Support helper" in text_of(replies) and seconds < 2.0, (replies, seconds)
    timings["hello"] = seconds
    for message in (QUESTION, "what is an EHC needs assessment?"):
        replies, seconds = timed(live_stack.say, sender, message)
        text = text_of(replies)
        timings[message] = seconds
        assert text.strip(), f"silence for {message!r}"
        assert seconds < 2.0, (message, seconds)
        assert "SENDIAS" in text and "999" in text, text
        assert "01865 810516" in text  # SENDIASS Oxfordshire: the area given earlier

    # A crisis still gets its own fixed reply, not the "can't look that up" one.
    replies, seconds = timed(live_stack.say, uuid.uuid4().hex, "i want to kill myself")
    assert "0800 068 4141" in text_of(replies) and seconds < 2.0, seconds

    # The widget and socket.io: a reply, in time, with SENDIAS and 999.
    said, seconds = timed(widget_chat, live_stack, session=uuid.uuid4().hex, message=QUESTION)
    assert "SENDIAS" in said and "999" in said and seconds < 2.0, (said, seconds)
    timings["widget"] = seconds
    if not back:  # socket.io only while the action server is still down
        heard, seconds = socketio_say(live_stack, QUESTION, wait=5)
        text = text_of(heard)
        assert seconds is not None and seconds < 2.0, (seconds, heard)
        assert "SENDIAS" in text and "999" in text, heard
        timings["socket.io"] = seconds

    asker.join(65)
    slowest = max(seconds for seconds, _ in polled)
    print(
        f"\nfixed replies: {', '.join(f'{k} {v:.2f} s' for k, v in timings.items())}; "
        f"{len(polled)} more, slowest {slowest:.2f} s; knowledge answers back "
        f"{back[0] if back else None} s after the kill; log: {supervised}"
    )
    assert all("SENDIAS" in text and "999" in text for _, text in polled)
    assert slowest < 2.0, slowest
    assert any("action server was killed by signal 9" in line for line in supervised)
    assert back and back[0] < BACK_WITHIN, (back, supervised)
