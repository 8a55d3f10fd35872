"""Every environment variable the project reads, with safe defaults, in one place.

Nothing else in the project reads ``os.environ`` for configuration; it asks
:func:`get_settings` instead.

| variable | default | meaning |
| --- | --- | --- |
| ``SENBOT_HOST`` | ``127.0.0.1`` | address all three services bind to |
| ``SENBOT_RASA_PORT`` | ``5005`` | Rasa server (REST and socket.io channels) |
| ``SENBOT_ACTIONS_PORT`` | ``5055`` | Rasa action server |
| ``SENBOT_WIDGET_PORT`` | ``8000`` | Flask widget app |
| ``SENBOT_RASA_URL`` | ``http://{host}:{rasa_port}`` | where the widget sends messages |
| ``SENBOT_ACTIONS_URL`` | ``http://{host}:{actions_port}/webhook`` | where Rasa calls actions |
| ``SENBOT_VAR_DIR`` | ``<repo>/var`` | git-ignored run-time data: tracker store, index, logs |
| ``SENBOT_INDEX_DIR`` | ``<var>/index`` | knowledge index written by ``python -m bot.knowledge.ingest`` |
| ``SENBOT_KNOWLEDGE_DIR`` | ``<repo>/knowledge`` | the articles the index is built from |
| ``SENBOT_TRACKER_DB`` | ``<var>/tracker.db`` | SQLite tracker store (when ``SENBOT_TRACKER_URL`` is unset) |
| ``SENBOT_TRACKER_URL`` | empty | full database URL for the tracker store, e.g. ``postgresql://user:pw@host/db`` |
| ``SENBOT_LOCK_STORE_URL`` | empty | Redis for Rasa's conversation locks, e.g. ``redis://127.0.0.1:6379/0``; empty keeps them in the one Rasa process's memory |
| ``SENBOT_ALLOWED_ORIGINS`` | ``http://127.0.0.1:8000,http://localhost:8000`` | sites allowed to embed the widget |
| ``SENBOT_EMBEDDING_MODEL`` | the bundled all-MiniLM-L6-v2 | folder of a sentence-transformers model |
| ``SENBOT_SEARCH_MODEL`` | ``adapted`` | ``adapted``: dense search embeds with MiniLM adapted to the articles' written questions (``bot/knowledge/adapted.py``; ``prepare`` trains it); ``base``: with the bundled model |
| ``SENBOT_FEEDBACK_DB`` | ``<var>/feedback.sqlite`` | SQLite file of "Was this helpful?" answers |
| ``SENBOT_RATE_LIMIT_SESSION`` | ``20/minute`` | widget chat messages allowed per conversation |
| ``SENBOT_RATE_LIMIT_ADDRESS`` | ``60/minute`` | widget chat messages allowed per client address |
| ``SENBOT_RETENTION_DAYS`` | ``30`` | conversations (tracker store) and feedback older than this many days are deleted, at start and daily; 1 to 3650 |
| ``SENBOT_EXTRA_SOURCES`` | empty | ``:``-separated raw pages or folders (.txt, .md, .html) indexed beside the articles; relative paths are from the repository |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# The one definition of "offline, nothing leaves the machine": every process that
# may load Rasa, transformers or the MiniLM model sets these first
# (:func:`use_offline_env`, and :func:`bot.stack.prepare.child_env` for children).
OFFLINE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TOKENIZERS_PARALLELISM": "false",
}


def use_offline_env() -> None:
    """Put :data:`OFFLINE_ENV` into this process's environment, before heavy imports.

    Telemetry is forced off; the other variables are only defaults, so a caller
    can still set, say, ``TF_CPP_MIN_LOG_LEVEL`` for debugging.
    """
    for name, value in OFFLINE_ENV.items():
        if name == "RASA_TELEMETRY_ENABLED":
            os.environ[name] = value
        else:
            os.environ.setdefault(name, value)


# What the two serving processes (the action server and `rasa run`) set for themselves
# before numpy loads. They handle one message at a time on 2 shared cores, where
# OpenBLAS's second thread mostly spins: with one, a knowledge answer cost the action
# server 5.8-7.2 ms of CPU instead of 9.8-14.7, and a message cost the Rasa server
# 25.6-27.2 ms instead of 33.0-44.4, with wall time no worse and parse results, replies
# and action responses identical (2026-12-06, load.py's mix). Training and ingestion,
# which do large batches, keep OpenBLAS's default.
SERVING_ENV = {"OPENBLAS_NUM_THREADS": "1"}


def use_serving_env() -> None:
    """Put :data:`SERVING_ENV` into this process's environment, before numpy is imported.

    Defaults only: an operator's own ``OPENBLAS_NUM_THREADS`` is kept.
    """
    for name, value in SERVING_ENV.items():
        os.environ.setdefault(name, value)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _port(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        port = int(raw)
    except ValueError as err:
        raise ValueError(f"{name} must be a port number, not {raw!r}") from err
    if not 0 < port < 65536:
        raise ValueError(f"{name} must be between 1 and 65535, not {port}")
    return port


_RATE = re.compile(r"^\d+\s*(/|per)\s*(second|minute|hour|day)$")


def _days(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        days = int(raw)
    except ValueError as err:
        raise ValueError(f"{name} must be a whole number of days, not {raw!r}") from err
    if not 1 <= days <= 3650:
        raise ValueError(f"{name} must be between 1 and 3650 days, not {days}")
    return days


def _rate(name: str, default: str) -> str:
    value = _env(name, default)
    if not _RATE.match(value):
        raise ValueError(f"{name} must look like '20/minute', not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Run-time configuration, read once from the environment."""

    host: str
    rasa_port: int
    actions_port: int
    widget_port: int
    rasa_url: str
    actions_url: str
    var_dir: Path
    index_dir: Path
    knowledge_dir: Path
    tracker_db: Path
    tracker_url: str
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    embedding_model: str = ""
    feedback_db: Path = Path("var/feedback.sqlite")
    rate_limit_session: str = "20/minute"
    rate_limit_address: str = "60/minute"
    extra_sources: tuple[Path, ...] = field(default_factory=tuple)
    retention_days: int = 30
    lock_store_url: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from environment variables, falling back to defaults."""
        host = _env("SENBOT_HOST", "127.0.0.1")
        rasa_port = _port("SENBOT_RASA_PORT", 5005)
        actions_port = _port("SENBOT_ACTIONS_PORT", 5055)
        widget_port = _port("SENBOT_WIDGET_PORT", 8000)
        var_dir = Path(_env("SENBOT_VAR_DIR", str(REPO_ROOT / "var")))
        origins = _env(
            "SENBOT_ALLOWED_ORIGINS",
            f"http://127.0.0.1:{widget_port},http://localhost:{widget_port}",
        )
        return cls(
            host=host,
            rasa_port=rasa_port,
            actions_port=actions_port,
            widget_port=widget_port,
            rasa_url=_env("SENBOT_RASA_URL", f"http://{host}:{rasa_port}"),
            actions_url=_env("SENBOT_ACTIONS_URL", f"http://{host}:{actions_port}/webhook"),
            var_dir=var_dir,
            index_dir=Path(_env("SENBOT_INDEX_DIR", str(var_dir / "index"))),
            knowledge_dir=Path(_env("SENBOT_KNOWLEDGE_DIR", str(REPO_ROOT / "knowledge"))),
            tracker_db=Path(_env("SENBOT_TRACKER_DB", str(var_dir / "tracker.db"))),
            tracker_url=_env("SENBOT_TRACKER_URL", ""),
            lock_store_url=_env("SENBOT_LOCK_STORE_URL", ""),
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            embedding_model=_env("SENBOT_EMBEDDING_MODEL", ""),
            feedback_db=Path(_env("SENBOT_FEEDBACK_DB", str(var_dir / "feedback.sqlite"))),
            rate_limit_session=_rate("SENBOT_RATE_LIMIT_SESSION", "20/minute"),
            rate_limit_address=_rate("SENBOT_RATE_LIMIT_ADDRESS", "60/minute"),
            retention_days=_days("SENBOT_RETENTION_DAYS", 30),
            extra_sources=tuple(
                REPO_ROOT / part.strip()  # an absolute path stays as it is
                for part in _env("SENBOT_EXTRA_SOURCES", "").split(":")
                if part.strip()
            ),
        )

    def to_env(self) -> dict[str, str]:
        """The environment variables that :meth:`from_env` reads back as these settings.

        Child processes get them all (:func:`bot.stack.prepare.child_env`), so a test or
        benchmark that moves ``var_dir`` moves every file a service writes, feedback too.
        """
        return {
            "SENBOT_HOST": self.host,
            "SENBOT_RASA_PORT": str(self.rasa_port),
            "SENBOT_ACTIONS_PORT": str(self.actions_port),
            "SENBOT_WIDGET_PORT": str(self.widget_port),
            "SENBOT_RASA_URL": self.rasa_url,
            "SENBOT_ACTIONS_URL": self.actions_url,
            "SENBOT_VAR_DIR": str(self.var_dir),
            "SENBOT_INDEX_DIR": str(self.index_dir),
            "SENBOT_KNOWLEDGE_DIR": str(self.knowledge_dir),
            "SENBOT_TRACKER_DB": str(self.tracker_db),
            "SENBOT_TRACKER_URL": self.tracker_url,
            "SENBOT_LOCK_STORE_URL": self.lock_store_url,
            "SENBOT_ALLOWED_ORIGINS": ",".join(self.allowed_origins),
            "SENBOT_EMBEDDING_MODEL": self.embedding_model,
            "SENBOT_FEEDBACK_DB": str(self.feedback_db),
            "SENBOT_RATE_LIMIT_SESSION": self.rate_limit_session,
            "SENBOT_RATE_LIMIT_ADDRESS": self.rate_limit_address,
            "SENBOT_RETENTION_DAYS": str(self.retention_days),
            "SENBOT_EXTRA_SOURCES": ":".join(str(p) for p in self.extra_sources),
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read from the environment once)."""
    return Settings.from_env()
