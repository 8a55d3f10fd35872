"""The socket.io channel over the websocket transport, on Rasa's Sanic, without a model.

A small Sanic app serves ``channels.socketio.PersistentSocketIOInput`` with an echo in
place of Rasa's agent, so the transport is checked in seconds. Before the fix every
websocket closed right after engine.io's open packet and was followed by a stray HTTP
response ("Invalid frame header" in Chromium).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import websockets

from bot.settings import REPO_ROOT
from tests.conftest import free_port

SERVER = """
import sys
from sanic import Sanic
from channels.socketio import PersistentSocketIOInput

async def echo(message):
    reply = "echo " + message.text
    await message.output_channel.send_text_message(message.sender_id, reply)
    if message.text == "with a source":  # as the knowledge action sends its source
        await message.output_channel.send_response(message.sender_id, {
            "text": "Source: a page", "custom": {"source": {"title": "a page"}}})
        await message.output_channel.send_text_message(message.sender_id, "after")

app = Sanic("socketio_channel_test")
channel = PersistentSocketIOInput(
    user_message_evt="user_uttered", bot_message_evt="bot_uttered",
    session_persistence=True)
app.blueprint(channel.blueprint(echo))
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False, motd=False)
"""


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "the test server did not start: "
                        + server.stderr.read().decode("utf-8", "replace")
                    )
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


async def next_event(ws) -> list:
    """The next socket.io event (engine.io message ``4`` + socket.io event ``2``)."""
    while True:
        frame = await ws.recv()
        if frame.startswith("42"):
            return json.loads(frame[2:])


@contextlib.asynccontextmanager
async def session(port: int, session_id: str):
    """A websocket that has joined the socket.io session ``session_id``."""
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    ws = await websockets.connect(url, origin="http://127.0.0.1:1")
    opened = await ws.recv()
    assert opened.startswith("0") and json.loads(opened[1:])["sid"]
    await ws.send("40")  # join the default namespace
    assert (await ws.recv()).startswith("40")
    await ws.send(f'42["session_request",{{"session_id":"{session_id}"}}]')
    assert await next_event(ws) == ["session_confirm", session_id]
    try:
        yield ws
    finally:
        await ws.close()


async def test_a_socketio_session_over_websocket_gets_its_answer(port):
    async with session(port, "s1") as ws:
        await ws.send('42["user_uttered",{"message":"hello there","session_id":"s1"}]')
        assert await next_event(ws) == ["bot_uttered", {"text": "echo hello there"}]


async def test_custom_data_arrives_and_the_turn_goes_on(port):
    # Rasa 3.6 passed custom data to emit() as keyword arguments: TypeError, and
    # nothing after the source line was sent.
    async with session(port, "s2") as ws:
        await ws.send('42["user_uttered",{"message":"with a source","session_id":"s2"}]')
        events = [await next_event(ws) for _ in range(4)]
    assert events[1:] == [
        ["bot_uttered", {"text": "Source: a page"}],
        ["bot_uttered", {"custom": {"source": {"title": "a page"}}}],
        ["bot_uttered", {"text": "after"}],
    ]


@pytest.mark.parametrize(
    "payload, expected",
    [
        ('{"message":["a","list"],"session_id":"s3"}', "couldn't read that message"),
        ('{"message":12345,"session_id":"s3"}', "couldn't read that message"),
        ('{"message":"   ","session_id":"s3"}', "didn't catch a question"),
        ('{"message":"' + "x" * 20_001 + '","session_id":"s3"}', "20,001 characters"),
    ],
)
async def test_a_malformed_message_gets_a_kind_reply(port, payload, expected):
    async with session(port, "s3") as ws:
        await ws.send(f'42["user_uttered",{payload}]')
        event, body = await next_event(ws)
        assert event == "bot_uttered" and expected in body["text"]
        # ... and the session still answers afterwards.
        await ws.send('42["user_uttered",{"message":"still there?","session_id":"s3"}]')
        assert await next_event(ws) == ["bot_uttered", {"text": "echo still there?"}]


async def test_a_lone_surrogate_in_the_message_is_replaced_not_passed_on(port):
    async with session(port, "s5") as ws:
        await ws.send('42["user_uttered",{"message":"help \\ud800 me","session_id":"s5"}]')
        assert await next_event(ws) == ["bot_uttered", {"text": "echo help \ufffd me"}]


@pytest.mark.parametrize("session_id", ['"\\ud800abc"', '"a\\u0000b"', '"' + "s" * 129 + '"'])
async def test_a_session_id_no_database_can_store_is_told_to_reload(port, session_id):
    async with session(port, "s6") as ws:
        await ws.send(f'42["user_uttered",{{"message":"hi","session_id":{session_id}}}]')
        event, body = await next_event(ws)
    assert event == "bot_uttered" and "reload the page" in body["text"]


async def test_a_session_request_without_data_is_confirmed(port):
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, origin="http://127.0.0.1:1") as ws:
        await ws.recv()
        await ws.send("40")
        await ws.recv()
        await ws.send('42["session_request"]')
        event, session_id = await next_event(ws)
    assert event == "session_confirm" and len(session_id) == 32


async def test_an_event_without_a_session_is_told_to_reload(port):
    async with session(port, "s4") as ws:
        await ws.send('42["user_uttered",["not","an","object"]]')
        event, body = await next_event(ws)
    assert event == "bot_uttered" and "reload the page" in body["text"]


def test_nothing_follows_the_close_frame_on_the_upgraded_connection(port):
    # Sanic sends what engine.io's route returns; it must not reach the client.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        received = sock.recv(4096)
        while b'"sid"' not in received:
            received += sock.recv(4096)
        mask = os.urandom(4)
        code = struct.pack("!H", 1000)
        sock.sendall(
            bytes([0x88, 0x80 | len(code)])
            + mask
            + bytes(b ^ mask[i % 4] for i, b in enumerate(code))
        )
        while chunk := sock.recv(4096):
            received += chunk
    assert received.startswith(b"HTTP/1.1 101 ")
    # The close frame (code 1000) comes last.
    assert received.endswith(b"\x88\x02\x03\xe8"), received[-80:]
    assert received.count(b"HTTP/1.1") == 1
