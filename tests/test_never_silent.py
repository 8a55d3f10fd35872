"""Every message gets a reply in time, even when the action server is down or slow."""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import SimpleNamespace

import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from channels.never_silent import REPLY_DEADLINE, limit_action_time, never_silent
from tests.conftest import free_port


def reply_text(output: CollectingOutputChannel) -> str:
    return "\n".join(m.get("text", "") for m in output.messages)


async def say(handler, text: str = "who pays for the extra help at school?"):
    output = CollectingOutputChannel()
    started = time.monotonic()
    await handler(UserMessage(text, output, "parent-1"))
    return output, time.monotonic() - started


async def test_a_turn_that_sends_nothing_gets_sendias_and_the_crisis_lines():
    async def silent(message):  # what Rasa does when the action server is down
        return None

    output, seconds = await say(never_silent(silent))
    text = reply_text(output)
    assert len(output.messages) == 1
    assert "can't look that up right now" in text
    assert 'local offer for "SENDIAS"' in text  # no area known yet
    assert "call 999" in text and "0800 1111" in text and "116 123" in text
    assert seconds < 1


async def test_an_answer_is_passed_on_untouched():
    async def answers(message):
        await message.output_channel.send_response(message.sender_id, {"text": "Hello!"})

    output, _ = await say(never_silent(answers), "hello")
    assert output.messages == [{"recipient_id": "parent-1", "text": "Hello!"}]


async def test_a_turn_that_takes_too_long_gets_the_fixed_reply_within_2_s():
    finished = asyncio.Event()

    async def slow(message):
        await asyncio.sleep(REPLY_DEADLINE + 0.5)
        finished.set()

    output, seconds = await say(never_silent(slow))
    assert "can't look that up right now" in reply_text(output)
    assert REPLY_DEADLINE <= seconds < 2.0
    await asyncio.wait_for(finished.wait(), 2)  # the turn still ends, and is stored


async def test_a_turn_that_fails_gets_the_fixed_reply():
    async def broken(message):
        raise RuntimeError("Failed to execute custom action 'action_greet'")

    output, _ = await say(never_silent(broken))
    assert "SENDIAS" in reply_text(output) and "999" in reply_text(output)


async def test_the_fixed_reply_names_sendias_for_the_area_already_given():
    tracker = DialogueStateTracker.from_dict("parent-1", [], slots=[])
    tracker.get_slot = lambda name: "oxfordshire" if name == "area" else None

    async def retrieve(sender_id):
        return tracker

    app = SimpleNamespace(
        ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=SimpleNamespace(retrieve=retrieve)))
    )

    async def silent(message):
        return None

    output, _ = await say(never_silent(silent, lambda: app))
    text = reply_text(output)
    assert "SENDIASS Oxfordshire" in text and "01865 810516" in text  # contacts.yml


@pytest.fixture
async def slow_action_server():
    """An action server that takes 5 s to answer."""

    async def webhook(request):
        await asyncio.sleep(5)
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/webhook"
    await runner.cleanup()


async def test_rasa_gives_up_on_a_slow_action_server_in_time(slow_action_server):
    limit_action_time()
    action = RemoteAction("action_answer_from_knowledge", EndpointConfig(slow_action_server))
    tracker = DialogueStateTracker("parent-1", [])
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - Rasa's processor logs it and sends nothing...
        await action.run(CollectingOutputChannel(), None, tracker, Domain.empty())
    assert time.monotonic() - started < 2.0

    async def turn(message):  # ...so the channel sends the fixed reply
        with contextlib.suppress(Exception):  # as rasa.core.processor does
            await action.run(message.output_channel, None, tracker, Domain.empty())

    output, seconds = await say(never_silent(turn))
    assert "can't look that up right now" in reply_text(output)
    assert seconds < 2.0
