"""`python -m bot.stack run` (what `make run` calls): up, answering, and a clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.settings import REPO_ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_run_starts_three_services_and_stops_them_all_on_ctrl_c(tmp_path):
    ports = {
        "SENBOT_RASA_PORT": free_port(),
        "SENBOT_ACTIONS_PORT": free_port(),
        "SENBOT_WIDGET_PORT": free_port(),
    }
    env = dict(
        os.environ,
        **{k: str(v) for k, v in ports.items()},
        SENBOT_TRACKER_DB=str(tmp_path / "tracker.db"),
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "bot.stack", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = runner.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        printed = "".join(output)
        assert "Ready in" in printed, printed
        for port in ports.values():
            assert f":{port}" in printed  # every address is printed
        request = urllib.request.Request(
            f"http://127.0.0.1:{ports['SENBOT_RASA_PORT']}/webhooks/rest/webhook",
            data=json.dumps({"sender": "run-test", "message": "hello"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
            assert "SEN Support helper" in reply.read().decode()

        runner.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rest, _ = runner.communicate(timeout=60)
        assert runner.returncode == 0, rest
        assert "Stopped." in rest
        assert not any(_port_open(port) for port in ports.values())
    finally:
        if runner.poll() is None:
            runner.kill()
