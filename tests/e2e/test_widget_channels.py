"""The site's area reaches Rasa through the widget app, and socket.io clients get answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid

import pytest

from bot.people.handoff import AREA_QUESTION
from bot.settings import REPO_ROOT

pytestmark = pytest.mark.integration


def chat(live_stack, **body) -> list[str]:
    status, reply = live_stack.post(
        "/api/chat", json.dumps(body).encode("utf-8"), base=live_stack.widget_url
    )
    assert status == 200, reply
    return [m.get("text", "") for m in reply["messages"]]


def test_the_sites_data_area_is_used_without_asking(live_stack):
    # Without an area the assistant has to ask where the person lives...
    said = chat(live_stack, session=uuid.uuid4().hex, message="I want to talk to someone")
    assert AREA_QUESTION in said
    # ...with the site's data-area it answers for that county straight away.
    said = chat(
        live_stack, session=uuid.uuid4().hex, message="I want to talk to someone", area="cornwall"
    )
    assert AREA_QUESTION not in said
    assert "Cornwall" in "\n".join(said)
    # The acknowledgement of the area is not shown to the person.
    assert not any(t.startswith("Thanks. I'll use") for t in said)


def test_a_socketio_client_gets_an_answer(live_stack):
    import socketio

    answers: list[dict] = []
    got = threading.Event()
    client = socketio.Client(reconnection=False)

    @client.on("bot_uttered")
    def on_bot(data):
        answers.append(data)
        got.set()

    confirmed = threading.Event()
    client.on("session_confirm", lambda _session: confirmed.set())
    session_id = uuid.uuid4().hex
    client.connect(live_stack.rasa_url, transports=["polling"], wait_timeout=20)
    try:
        # What Rasa Webchat does with session_persistence: ask for the session first.
        client.emit("session_request", {"session_id": session_id})
        assert confirmed.wait(20), "no session_confirm over socket.io"
        client.emit("user_uttered", {"message": "hello", "session_id": session_id})
        assert got.wait(60), "no answer over socket.io"
    finally:
        client.disconnect()
    assert "SEN Support helper" in answers[0].get("text", "")


# socket.io-client 3.1.3 (the major version Rasa Webchat 1.0.1 is built on) in Node,
# installed by `make browser`. Prints the transport it ended on and the bot's text.
SOCKETIO_CLIENT = REPO_ROOT / "var" / "node" / "node_modules" / "socket.io-client"
NODE_CLIENT = """
const io = require(process.env.SOCKETIO_CLIENT);
const session = process.env.SESSION;
const socket = io(process.env.RASA_URL, {
  transports: process.env.TRANSPORTS.split(","), reconnection: false, timeout: 20000 });
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("no answer within 60 s"), 60000);
socket.on("connect_error", (err) => fail("connect_error: " + err.message));
const start = () => socket.emit("session_request", { session_id: session });
// Polling first: ask once the engine has upgraded to websocket.
socket.on("connect", () => socket.io.engine.transport.name === "websocket"
  ? start() : socket.io.engine.once("upgrade", start));
socket.on("session_confirm",
  () => socket.emit("user_uttered", { message: "hello", session_id: session }));
socket.on("bot_uttered", (data) => {
  const transport = socket.io.engine.transport.name;
  console.log(JSON.stringify({ transport, text: data.text }));
  socket.close();
  process.exit(0);
});
"""


@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]])
def test_a_node_socketio_client_gets_an_answer_over_websocket(live_stack, transports):
    # ["websocket"] connects over websocket straight away; ["polling", "websocket"]
    # (Rasa Webchat's way) connects by polling, then upgrades.
    node = shutil.which("node")
    if not node or not (SOCKETIO_CLIENT / "package.json").exists():
        pytest.fail("node or socket.io-client is missing: run `make browser`")
    env = {
        **os.environ,
        "SOCKETIO_CLIENT": str(SOCKETIO_CLIENT),
        "SESSION": uuid.uuid4().hex,
        "RASA_URL": live_stack.rasa_url,
        "TRANSPORTS": ",".join(transports),
    }
    done = subprocess.run(
        [node, "-e", NODE_CLIENT], env=env, capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    assert reply["transport"] == "websocket"
    assert "SEN Support helper" in reply["text"]


def test_the_widget_does_not_log_visitors_addresses(live_stack):
    log = live_stack.stack.services["widget"].log_path
    start = log.stat().st_size
    chat(live_stack, session=uuid.uuid4().hex, message="hello")
    written = log.read_bytes()[start:].decode("utf-8", "replace")
    assert "127.0.0.1" not in written and "/api/chat" not in written
