"""Every message gets a reply within 2 s, even when the action server is down or slow.

Rasa 3.6, when a custom action fails (action server not running, an error, a
timeout), logs the error and carries on with no bot message, so its REST channel
answers ``[]`` with status 200 and a socket.io client hears nothing. And it waits
up to 5 minutes for a slow action server (``DEFAULT_REQUEST_TIMEOUT``). For a parent
or a young person silence reads as "nobody is listening", so both our channels wrap
Rasa's message handler with :func:`never_silent`:

- Rasa gives up on a custom action after :data:`ACTION_TIMEOUT` seconds
  (:func:`limit_action_time`), so a hung action server fails fast;
- if the turn sent no message, or is not finished after :data:`REPLY_DEADLINE`
  seconds, the person gets ``bot.people.unavailable.cannot_look_up``: sorry, SENDIAS for
  their area, 999 and the crisis lines. A late turn still finishes in the
  background, so the conversation is stored as usual.

Fixed responses that need no action server (the crisis and disclosure replies among
them) are sent as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.core.actions.action as rasa_action
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, Sanic

from bot.people.unavailable import cannot_look_up

logger = logging.getLogger(__name__)

ACTION_TIMEOUT = 1.5  # seconds Rasa waits for the action server (its default: 300)
REPLY_DEADLINE = 1.6  # seconds a turn may take before the fixed reply is sent
AREA_LOOKUP_TIMEOUT = 0.25  # seconds to read the area slot for that reply

Handler = Callable[[UserMessage], Awaitable[Any]]


def limit_action_time(seconds: float = ACTION_TIMEOUT) -> None:
    """Make Rasa give up on a custom action after ``seconds``.

    Rasa 3.6 passes its module constant ``DEFAULT_REQUEST_TIMEOUT`` to every call of
    the action server (``RemoteAction.run``), with no setting for it in
    ``endpoints.yml``; the timeout then ends the action like any other failure.
    """
    rasa_action.DEFAULT_REQUEST_TIMEOUT = seconds


async def _area(app: Sanic | None, sender_id: str) -> object:
    """The conversation's ``area`` slot, or None when it cannot be read quickly."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        tracker = await asyncio.wait_for(store.retrieve(sender_id), AREA_LOOKUP_TIMEOUT)
    except Exception:  # noqa: BLE001 - the reply without the area is still right
        logger.warning("Could not read the area of %s for the fixed reply", sender_id)
        return None
    return tracker.get_slot("area") if tracker is not None else None


def never_silent(
    on_new_message: Handler,
    app: Callable[[], Sanic | None] = lambda: None,
    deadline: float = REPLY_DEADLINE,
) -> Handler:
    """Wrap Rasa's message handler so every turn sends at least one message in time.

    Args:
        on_new_message: The handler Rasa gives an input channel's blueprint.
        app: Returns the running Sanic app (to read the area slot), or None.
        deadline: Seconds after which the fixed reply is sent if nothing was.

    Returns:
        A handler with the same signature.
    """

    async def handle(message: UserMessage) -> None:
        output = message.output_channel
        sent = 0
        send_response = output.send_response

        async def counted(recipient_id: str, reply: dict[str, Any]) -> None:
            nonlocal sent
            sent += 1
            await send_response(recipient_id, reply)

        output.send_response = counted  # type: ignore[method-assign]
        turn = asyncio.ensure_future(on_new_message(message))
        try:
            # shield: a late turn finishes in the background and is stored as usual
            await asyncio.wait_for(asyncio.shield(turn), deadline)
        except TimeoutError:
            logger.error(
                "No reply to %s within %.1f s: sending the fixed reply", message.sender_id, deadline
            )
        except Exception:  # noqa: BLE001 - whatever broke, the person gets a reply
            logger.exception("The turn for %s failed: sending the fixed reply", message.sender_id)
        if sent:
            return
        if turn.done() and not turn.cancelled() and turn.exception() is None:
            logger.error(
                "Rasa sent no reply to %s (is the action server down?): sending the fixed reply",
                message.sender_id,
            )
        text = cannot_look_up(await _area(app(), message.sender_id))
        await send_response(message.sender_id, {"text": text})

    return handle


def remember_app(blueprint: Blueprint) -> Callable[[], Sanic | None]:
    """Keep the Sanic app the blueprint is served by, once the server starts.

    Returns:
        A function returning that app (None before the server started).
    """
    found: dict[str, Sanic] = {}

    @blueprint.listener("before_server_start")
    async def keep(app: Sanic, _loop: object) -> None:
        found["app"] = app

    return lambda: found.get("app")
