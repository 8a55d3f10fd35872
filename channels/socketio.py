"""Rasa's socket.io channel, with session persistence that works on python-socketio 5.

Rasa 3.6 calls ``sio.enter_room(...)`` without ``await``. In the python-socketio
version in our lock (5.18) that method of ``AsyncServer`` is a coroutine, so the
client never joins the room of its session and, with ``session_persistence: true``,
receives no answers at all (Rasa only logs "coroutine ... was never awaited").
This channel replaces that one handler; everything else is Rasa's own. Clients such
as Rasa Webchat connect exactly as to Rasa's ``socketio`` channel.
"""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint


class PersistentSocketIOInput(SocketIOInput):
    """socket.io input channel whose ``session_request`` joins the session's room."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio

        async def session_request(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, str(session_id), namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        # Replaces Rasa's handler for the same event.
        sio.on("session_request", namespace=self.namespace)(session_request)
        return webhook
