"""Benchmark scripts: each prints its figures; none is a timed test."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.settings import REPO_ROOT, Settings
from tests.conftest import free_port


def loopback_settings(prefix: str) -> Settings:
    """Settings for a private copy of the stack on free loopback ports.

    It uses the model and index in ``var/`` and a fresh tracker store in a new
    temporary folder, so a benchmark never touches a running assistant.
    """
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    host = "127.0.0.1"
    rasa, actions, widget = free_port(), free_port(), free_port()
    var_dir = REPO_ROOT / "var"
    return Settings(
        host=host, rasa_port=rasa, actions_port=actions, widget_port=widget,
        rasa_url=f"http://{host}:{rasa}", actions_url=f"http://{host}:{actions}/webhook",
        var_dir=var_dir, index_dir=var_dir / "index",
        knowledge_dir=REPO_ROOT / "knowledge", tracker_db=tmp / "tracker.db",
        tracker_url="", allowed_origins=(f"http://{host}:{widget}",),
    )
