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

Rasa 3.6 also checks every response from the action server with
``jsonschema.validate``, which re-checks Rasa's own constant schema against JSON
Schema's meta-schema and builds a new validator on every call: 13.3 of the 13.7 ms
that check took, the largest part of the 20-23 ms "action call" in ``docs/speed.md``
(the HTTP round trip with the action's own work was 3.4 ms p50). Both channels
therefore also call :func:`validate_action_responses_once`: 0.47 ms a response
(2026-12-06, the 185 action calls of 30 of ``benchmarks/load.py``'s conversations).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import rasa.core.actions.action as rasa_action
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, Sanic

from bot.people.unavailable import cannot_look_up

logger = logging.getLogger(__name__)

ACTION_TIMEOUT = 1.5  # seconds Rasa waits for the action server (its default: 300)
REPLY_DEADLINE = 1.6  # seconds a turn may take before the fixed reply is sent
AREA_LOOKUP_TIMEOUT = 0.25  # seconds to read the area slot for that reply
_FAST = "_senbot_validator_built_once"  # marks Rasa's response check once replaced

Handler = Callable[[UserMessage], Awaitable[Any]]


def limit_action_time(seconds: float = ACTION_TIMEOUT) -> None:
    """Make Rasa give up on a custom action after ``seconds``.

    Rasa 3.6 passes its module constant ``DEFAULT_REQUEST_TIMEOUT`` to every call of
    the action server (``RemoteAction.run``), with no setting for it in
    ``endpoints.yml``; the timeout then ends the action like any other failure.
    """
    rasa_action.DEFAULT_REQUEST_TIMEOUT = seconds


@cache
def response_validator() -> Validator:
    """One validator for Rasa's action response schema, its schema checked once."""
    schema = rasa_action.RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # as jsonschema.validate does on every call
    return cls(schema)


def validate_action_responses_once() -> None:
    """Make Rasa check action server responses with :func:`response_validator`.

    A response it finds valid is valid to ``jsonschema.validate`` too (the same
    validator class, schema and rules); any other goes to Rasa's own check, which
    raises the same error with the same message as before. Idempotent.
    """
    remote = rasa_action.RemoteAction
    # Rasa has no setting for it, so the method itself is replaced.
    original = remote._validate_action_result  # noqa: SLF001
    if getattr(original, _FAST, False):
        return

    def _validate_action_result(self: rasa_action.RemoteAction, result: dict[str, Any]) -> bool:
        if response_validator().is_valid(result):
            return True
        return original(self, result)  # Rasa's own check raises its own error

    setattr(_validate_action_result, _FAST, True)
    setattr(remote, "_validate_action_result", _validate_action_result)  # noqa: B010


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
