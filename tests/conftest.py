"""Fixtures shared by the whole suite, including the real running stack."""

from __future__ import annotations

import dataclasses
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import REPO_ROOT, Settings
from bot.stack.prepare import prepare
from bot.stack.services import Stack

NETAUDIT_DIR = Path(__file__).parent / "netaudit"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class LiveStack:
    """The real action server, Rasa server and widget, started for the tests."""

    stack: Stack
    settings: Settings
    audit_log: Path
    # Another site allowed to embed a chat client (SENBOT_ALLOWED_ORIGINS): nothing
    # listens here until a test serves its page on this port.
    other_site_port: int

    @property
    def other_site_origin(self) -> str:
        return f"http://{self.settings.host}:{self.other_site_port}"

    @property
    def rasa_url(self) -> str:
        return self.settings.rasa_url

    @property
    def widget_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.widget_port}"

    def post(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/json",
        base: str | None = None,
    ) -> tuple[int, Any]:
        """POST raw bytes; returns (status, parsed JSON body)."""
        request = urllib.request.Request(  # noqa: S310 - http on loopback only
            (base or self.rasa_url) + path,
            data=body,
            headers={"Content-Type": content_type},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:  # noqa: S310
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def say(self, sender: str, message: str, **extra: Any) -> list[dict[str, Any]]:
        """Send one message through the REST channel and return the bot's replies."""
        payload = {"sender": sender, "message": message, **extra}
        status, replies = self.post("/webhooks/rest/webhook", json.dumps(payload).encode("utf-8"))
        assert status == 200, replies
        return replies


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Start the real three services once for the session, on free loopback ports.

    The model and the index are the ones ``make test`` prepared in ``var/`` (built
    here if missing); the conversation store is a fresh SQLite file. Every child
    process records its network calls through ``tests/netaudit``.
    """
    tmp = tmp_path_factory.mktemp("stack")
    host = "127.0.0.1"
    rasa_port, actions_port, widget_port = free_port(), free_port(), free_port()
    other_site_port = free_port()
    var_dir = REPO_ROOT / "var"
    settings = Settings(
        host=host,
        rasa_port=rasa_port,
        actions_port=actions_port,
        widget_port=widget_port,
        rasa_url=f"http://{host}:{rasa_port}",
        actions_url=f"http://{host}:{actions_port}/webhook",
        var_dir=var_dir,
        index_dir=var_dir / "index",
        knowledge_dir=REPO_ROOT / "knowledge",
        tracker_db=tmp / "tracker.db",
        tracker_url="",
        feedback_db=tmp / "feedback.sqlite",  # not the repository's var/
        allowed_origins=(f"http://{host}:{widget_port}", f"http://{host}:{other_site_port}"),
    )
    prepare(settings)
    audit_log = tmp / "network.jsonl"
    stack = Stack(
        settings,
        extra_env={
            "PYTHONPATH": str(NETAUDIT_DIR),
            "SENBOT_NET_AUDIT_LOG": str(audit_log),
        },
    )
    try:
        stack.start()
        yield LiveStack(
            stack=stack, settings=settings, audit_log=audit_log, other_site_port=other_site_port
        )
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def _live_services_survive(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test after which a live service has exited fails, with that service's log.

    The service is started again, so one crash (which a family would meet as a
    refused connection) is reported once, by the test that caused it, rather than as
    a refused connection in every test after it.
    """
    live = request.getfixturevalue("live_stack") if "live_stack" in request.fixturenames else None
    yield
    if live is None:
        return
    dead = live.stack.dead()
    if dead:
        tails = "\n".join(live.stack.log_tail(name, 80) for name in dead)
        live.stack.start(dead)
        pytest.fail(f"{', '.join(dead)} exited during this test:\n{tails}")


@pytest.fixture(scope="session")
def knowledge_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge index built from the real articles, once per test session."""
    from bot.knowledge.ingest import build

    index_dir = tmp_path_factory.mktemp("knowledge") / "index"
    build([REPO_ROOT / "knowledge" / "articles"], index_dir)
    return index_dir
