"""The scaled stack, started once for tests/scaled: PostgreSQL, Redis, nginx, 2 + 2 servers.

It is ``make run-scaled`` (``bot.stack.scaled``) on free loopback ports, with its
PostgreSQL cluster, Redis and nginx files in a temporary folder (fsync off: a
throwaway cluster) and the model and index from ``var/``. Without Debian's
postgresql, redis-server and nginx (``make scaled-tools``) the tests are skipped,
saying so.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import index
from bot.settings import Settings, get_settings
from bot.stack.prepare import model_path
from bot.stack.scaled import Layout, build, missing_tools, start_scaled
from bot.stack.services import Stack

WEBHOOK = "/webhooks/rest/webhook"


@dataclasses.dataclass
class ScaledStack:
    """The running scaled stack and what the tests need to reach into it."""

    stack: Stack
    settings: Settings
    layout: Layout

    @property
    def balancer(self) -> str:
        return self.settings.rasa_url

    def server(self, i: int) -> str:
        """Rasa server ``i`` (1-based), bypassing the balancer."""
        return f"http://127.0.0.1:{self.layout.rasa_ports[i - 1]}"

    def say(
        self, sender: str, message: str, base: str | None = None, timeout: float = 60
    ) -> tuple[int, Any]:
        """POST one message to the REST channel; (status, parsed body)."""
        request = urllib.request.Request(  # noqa: S310 - http only
            (base or self.balancer) + WEBHOOK,
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                return err.code, json.loads(body or b"null")
            except ValueError:
                return err.code, body.decode(errors="replace")

    def events(self, sender: str) -> list[tuple[int, str, str | None]]:
        """The conversation's stored events in order: (id, type_name, action_name)."""
        import psycopg2

        with psycopg2.connect(self.layout.tracker_url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT id, type_name, action_name FROM events WHERE sender_id = %s ORDER BY id",
                (sender,),
            )
            rows = cur.fetchall()
        conn.close()
        return rows

    def kill(self, name: str) -> None:
        """SIGKILL a service's whole process group, as a crash would end it."""
        process = self.stack.services[name].process
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def scaled() -> Iterator[ScaledStack]:
    """PostgreSQL, Redis, 2 action servers, nginx, 2 Rasa servers and the widget.

    It uses the model and index ``make test`` prepared in ``var/`` and never trains.
    """
    missing = missing_tools()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: run `make scaled-tools`")
    base = get_settings()
    if not model_path(base).exists() or not index.exists(base.index_dir):
        pytest.skip("no trained model or index in var/: run `make prepare`")
    # Not pytest's tmp_path: PostgreSQL runs as the postgres user, who must reach it.
    tmp = Path(tempfile.mkdtemp(prefix="senbot-scaled-"))
    tmp.chmod(0o755)
    base = dataclasses.replace(base, feedback_db=tmp / "feedback.sqlite", allowed_origins=())
    layout = Layout.free(tmp / "state", rasa=2, actions=2)
    stack, settings = build(base, layout, fast=True)
    try:
        start_scaled(stack, layout)
        yield ScaledStack(stack=stack, settings=settings, layout=layout)
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
