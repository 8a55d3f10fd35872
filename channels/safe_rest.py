"""Rasa's REST channel with its input checked before Rasa sees it.

Rasa 3.6's own REST channel answers a body that is not UTF-8 or not a JSON
object with a 500, and treats an empty message as a real turn (the classifier
then guesses an intent for nothing). Families meet this channel through the
widget and other sites' clients, so every bad request gets a clear 4xx JSON
error, and an empty message gets a kind reply without touching the
conversation. The webhook URL stays ``/webhooks/rest/webhook``.

A message over the length limit is refused, except when it holds a crisis or a
disclosure of harm (``bot.safety``'s pattern layers, no model): then the part
that holds it goes on to Rasa, so the person still gets the help routes first
(hazard H9 in docs/safety.md).

A turn that sends nothing, because the action server is down, slow or failing,
gets a fixed reply with SENDIAS and the crisis lines within 2 s
(``channels/never_silent.py``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.safety.detector import check_patterns
from channels.never_silent import (
    limit_action_time,
    never_silent,
    remember_app,
    validate_action_responses_once,
)

MAX_MESSAGE_CHARS = 20_000
WINDOW_CHARS = 2_000  # the part of an oversized message passed on when it is a crisis
MAX_SENDER_CHARS = 128
EMPTY_MESSAGE_REPLY = (
    "I didn't catch a question there. You can ask me anything about SEN Support, "
    'for example: "What is an EHC needs assessment?"'
)


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def check_request(body: bytes) -> tuple[dict[str, Any] | None, HTTPResponse | None]:
    """Parse and check a webhook body.

    Returns:
        ``(payload, None)`` when the body may go on to Rasa, else
        ``(None, response)`` with the reply to send instead.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, _error(400, "The request body must be UTF-8 encoded JSON.")
    try:
        payload = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return None, _error(400, "The request body is not valid JSON.")
    except RecursionError:  # [[[[...]]]] a few thousand levels deep (tests/fuzz)
        return None, _error(400, "The request body is nested too deeply.")
    if not isinstance(payload, dict):
        return None, _error(400, 'Send a JSON object: {"sender": "...", "message": "..."}.')
    sender = payload.get("sender")
    problem = sender_problem(sender)
    if problem:
        return None, _error(400, f"'sender' {problem}.")
    message = payload.get("message")
    if message is None:
        message = ""
    if not isinstance(message, str):
        return None, _error(400, "'message' must be a string.")
    if clean_text(message) != message:
        message = clean_text(message)
        payload = {**payload, "message": message}
    if len(message) > MAX_MESSAGE_CHARS:
        window = flagged_window(message)
        if window is not None:
            return {**payload, "message": window}, None
        return None, _error(
            413,
            f"That message is {len(message):,} characters long; the limit is "
            f"{MAX_MESSAGE_CHARS:,}. Please send it in shorter parts.",
        )
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return None, _error(400, "'metadata' must be a JSON object.")
    if not message.strip():
        return None, response.json([{"recipient_id": sender, "text": EMPTY_MESSAGE_REPLY}])
    return payload, None


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD and NUL characters dropped.

    JSON may carry ``"\\ud800"`` escapes that no database, tokenizer or log file can
    encode. Rasa's SQL tracker store turns the ``ValueError`` that SQLite or
    PostgreSQL raises for them into an exit of the whole server (found by
    ``tests/fuzz``), so they are replaced before Rasa sees the text.
    """
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\x00", "")


def sender_problem(sender: Any) -> str | None:
    """What is wrong with a conversation id (``sender`` or socket.io ``session_id``).

    Returns:
        None when it may name a conversation, else the end of a sentence that
        starts with the field's name ("must be a non-empty string").
    """
    if not isinstance(sender, str) or not sender.strip():
        return "must be a non-empty string"
    if len(sender) > MAX_SENDER_CHARS:
        return f"must be at most {MAX_SENDER_CHARS} characters"
    if clean_text(sender) != sender or not sender.isprintable():
        return "must be printable text (no control characters or lone surrogates)"
    return None


def flagged_window(message: str) -> str | None:
    """The first stretch of a long message in which the crisis patterns fire.

    Windows overlap by a quarter so a phrase cut by one window is whole in the next.
    """
    step = WINDOW_CHARS * 3 // 4
    for start in range(0, max(len(message) - WINDOW_CHARS, 0) + step, step):
        window = message[start : start + WINDOW_CHARS]
        if check_patterns(window, topic=True).flagged:
            return window
    return None


class SafeRestInput(RestInput):
    """The REST channel, answering bad requests before Rasa handles them."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        limit_action_time()
        validate_action_responses_once()
        # current_app is bound just below, before any message can arrive.
        webhook = super().blueprint(never_silent(on_new_message, lambda: current_app()))
        current_app = remember_app(webhook)

        @webhook.middleware("request")
        async def check(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            payload, reply = check_request(request.body)
            if payload is not None:
                # Rasa reads this parsed copy: for an oversized crisis message it
                # holds only the flagged part.
                request.parsed_json = payload  # type: ignore[assignment]  # Sanic declares None
            return reply

        return webhook
