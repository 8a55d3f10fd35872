"""Rasa's socket.io channel, with session persistence and websocket transport working.

Two faults of the libraries in our lock are worked around here; everything else is
Rasa's own, so clients such as Rasa Webchat connect exactly as to Rasa's ``socketio``
channel.

* **Session persistence.** Rasa 3.6 calls ``sio.enter_room(...)`` without ``await``.
  In python-socketio 5.18 that method of ``AsyncServer`` is a coroutine, so the client
  never joins the room of its session and, with ``session_persistence: true``,
  receives no answers at all (Rasa only logs "coroutine ... was never awaited").
* **The websocket transport.** Rasa pins Sanic 21.12, whose websocket ``recv()``
  passes a coroutine to ``asyncio.wait``; Python 3.11 refuses that with a
  ``TypeError`` (sanic-org/sanic#2377, fixed only in Sanic 22.9, outside Rasa's
  pin). python-engineio swallows the error and closes every websocket right after
  its open packet, and Sanic then writes engine.io's HTTP ``200 OK`` onto the
  upgraded connection: browsers report "Invalid frame header" and socket.io clients
  never connect over websocket (polling still worked). ``SanicWebSocket`` replaces
  engine.io's Sanic websocket wrapper for our server only: it receives with the
  upstream fix and closes the connection before that stray response is written.

Two more of Rasa 3.6's faults are fixed here: ``SocketIOOutput.send_custom_json``
passes the custom data as keyword arguments to ``emit`` (a knowledge answer's
``{"source": ...}`` raised ``TypeError: emit() got an unexpected keyword argument
'source'`` and ended the turn before "Was this helpful?"), and ``user_uttered``
trusted its payload (a list, a number or a non-text message logged a traceback and
got no reply). Now custom data goes out as ``{"custom": ...}`` in the session's
room, as the REST channel sends it, and a malformed event gets a kind reply.

A turn that sends nothing, because the action server is down, slow or failing,
gets a fixed reply with SENDIAS and the crisis lines within 2 s
(``channels/never_silent.py``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels.never_silent import (
    limit_action_time,
    never_silent,
    remember_app,
    validate_action_responses_once,
)
from channels.safe_rest import (
    EMPTY_MESSAGE_REPLY,
    MAX_MESSAGE_CHARS,
    clean_text,
    flagged_window,
    sender_problem,
)

# How long a closing websocket waits for the client's close frame before the
# connection is dropped.
CLOSE_TIMEOUT_S = 5.0


async def receive(ws: Any) -> str | bytes | None:
    """Next message from a Sanic 21.12 websocket, or None once it is closed.

    Sanic's own ``WebsocketImplProtocol.recv`` with its Python 3.11 fault fixed as
    upstream did: the frame assembler's ``get()`` is wrapped in a task before
    ``asyncio.wait``. A closing connection cancels ``recv_cancel``; that ends the
    wait here too, so the caller sees None instead of waiting for a ping timeout.
    """
    from websockets.connection import CLOSED

    async with ws.recv_lock:
        if ws.connection.state is CLOSED:
            return None
        ws.recv_cancel = asyncio.Future()
        getter = asyncio.ensure_future(ws.assembler.get())
        try:
            await asyncio.wait((ws.recv_cancel, getter), return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                return None
            return getter.result()
        finally:
            if not getter.done():
                getter.cancel()
            if not ws.recv_cancel.done():
                ws.recv_cancel.cancel()
            ws.recv_cancel = None


class SanicWebSocket:
    """engine.io's Sanic websocket wrapper (``engineio.async_drivers.sanic``), fixed.

    The interface engine.io's ``AsyncSocket`` expects: called with the WSGI-like
    environ, it upgrades the request and runs ``handler(self)``; ``wait``,
    ``send`` and ``close`` move engine.io packets.
    """

    def __init__(self, handler: Callable[[Any], Awaitable[Any]], server: Any) -> None:
        self.handler = handler
        self.server = server
        self.environ: dict = {}
        self._sock: Any = None

    async def __call__(self, environ: dict) -> Any:
        request = environ["sanic.request"]
        protocol = request.transport.get_protocol()
        self._sock = await protocol.websocket_handshake(request)
        self.environ = environ
        try:
            await self.handler(self)
        finally:
            await self._finish()
        # Sanic sends what the route returns; on the closed connection it is dropped
        # instead of reaching the client as a bad websocket frame.
        return self.server._ok()  # noqa: SLF001 - engine.io's own empty reply

    async def _finish(self) -> None:
        """Close the websocket and its TCP connection."""
        await self._sock.close()
        if not await self._sock.wait_for_connection_lost(timeout=CLOSE_TIMEOUT_S):
            self._sock.fail_connection(1000)

    async def close(self) -> None:
        await self._sock.close()

    async def send(self, message: str | bytes) -> None:
        await self._sock.send(message)

    async def wait(self) -> str | bytes:
        data = await receive(self._sock)
        if not isinstance(data, (bytes, str)):
            # engine.io's signal that the connection has closed.
            raise OSError("websocket closed")
        return data


UNREADABLE_REPLY = (
    "Sorry, I couldn't read that message. Please type your question again, for "
    'example: "What is an EHC needs assessment?"'
)


class CustomDataSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, with custom data sent as ``{"custom": ...}``."""

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


def check_event(data: Any) -> tuple[str | None, str]:
    """The text to pass on from a ``user_uttered`` payload, or a reply instead.

    Returns:
        ``(text, "")`` when the message may go on to Rasa, else ``(None, reply)``.
    """
    if not isinstance(data, dict):
        return None, UNREADABLE_REPLY
    message = data.get("message")
    if message is None:
        message = ""
    if not isinstance(message, str):
        return None, UNREADABLE_REPLY
    message = clean_text(message)
    if len(message) > MAX_MESSAGE_CHARS:
        window = flagged_window(message)
        if window is None:
            return None, (
                f"That message is {len(message):,} characters long; the limit "
                f"is {MAX_MESSAGE_CHARS:,}. Please send it in shorter parts."
            )
        message = window
    if not message.strip():
        return None, EMPTY_MESSAGE_REPLY
    return message, ""


class PersistentSocketIOInput(SocketIOInput):
    """socket.io input channel whose ``session_request`` joins the session's room
    and whose websocket transport works on Python 3.11."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        limit_action_time()
        validate_action_responses_once()
        # current_app is bound just below, before any message can arrive.
        answer = never_silent(on_new_message, lambda: current_app())
        webhook = super().blueprint(answer)
        current_app = remember_app(webhook)
        sio = self.sio
        # A copy: engine.io's driver table is shared by every server in the process.
        drivers = sio.eio._async  # noqa: SLF001 - engine.io has no API for a driver
        sio.eio._async = {**drivers, "websocket": SanicWebSocket}  # noqa: SLF001

        async def session_request(sid: str, data: Any = None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, str(session_id), namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        async def handle_message(sid: str, data: Any = None) -> None:
            output = CustomDataSocketIOOutput(sio, self.bot_message_evt)
            session = data.get("session_id") if isinstance(data, dict) else None
            if self.session_persistence:
                if sender_problem(session):
                    # No room to answer in: tell this connection how to start one.
                    await sio.emit(
                        self.bot_message_evt,
                        {"text": "Please reload the page to start a new conversation."},
                        room=sid,
                        namespace=self.namespace,
                    )
                    return
                sender = session
            else:
                sender = sid
            text, reply = check_event(data)
            if text is None:
                await output.send_text_message(sender, reply)
                return
            metadata = data.get(self.metadata_key) or {}
            if not isinstance(metadata, dict):
                metadata = {}
            await answer(
                UserMessage(text, output, sender, input_channel=self.name(), metadata=metadata)
            )

        # Replace Rasa's handlers for the same events.
        sio.on("session_request", namespace=self.namespace)(session_request)
        sio.on(self.user_message_evt, namespace=self.namespace)(handle_message)
        return webhook
