"""What the services need before they start: the ONNX models, the index, the Rasa model.

Also what every child process is given (:func:`child_env`, the API token) and the
throwaway settings the tests and benchmarks run a stack on (:func:`loopback_settings`).
The model is trained only when its inputs changed (:func:`training_fingerprint`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from bot.safety.data import TUNING_FILES
from bot.settings import OFFLINE_ENV, REPO_ROOT, Settings, get_settings

RASA_CLI = REPO_ROOT / "scripts" / "rasa_cli.py"
MODEL_NAME = "senbot"
# What the trained model depends on: a change to any of these retrains it.
# The crisis check's learned layer is fitted at training time on the safety tuning
# half (bot.safety.detector's TUNING_FILES), so those are inputs too.
TRAINING_INPUTS = (
    "data",
    "domain.yml",
    "config.yml",
    "nlu_components",
    "safety",
    "bot/safety",
    *TUNING_FILES,
)


def child_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for every child process: offline, no telemetry, our settings.

    Args:
        settings: Where the services listen and keep their data.
        extra: Variables to add or override (tests use it for the network audit).

    Returns:
        A copy of ``os.environ`` with the project's variables filled in.
    """
    env = dict(os.environ)
    pythonpath = [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env.update(OFFLINE_ENV)
    env.update(settings.to_env())
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(pythonpath),
            "PYTHONUNBUFFERED": "1",
            "SANIC_HOST": settings.host,  # rasa-sdk binds here (it has no --host flag)
        }
    )
    if extra:
        extra = dict(extra)
        if "PYTHONPATH" in extra:  # add to the project's path, never replace it
            env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], extra.pop("PYTHONPATH")])
        env.update(extra)
    return env


def _files(inputs: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in inputs:
        path = REPO_ROOT / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(found)


def training_fingerprint() -> str:
    """Content hash of everything the Rasa model is trained from."""
    digest = hashlib.sha256()
    for path in _files(TRAINING_INPUTS):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


API_TOKEN_FILE = "rasa-api.token"


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def api_token(settings: Settings) -> str:
    """The token for Rasa's HTTP API, created once in ``var/`` (readable by us only).

    ``make run`` turns Rasa's HTTP API on (the staff console reads each message's
    intent ranking and crisis check from ``GET /conversations/{id}/tracker``), and
    only with this token, so other local users cannot read conversations or
    replace the model. It is created with ``O_EXCL``, so stacks started at the same
    time agree on one token.
    """
    import secrets

    path = settings.var_dir / API_TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    for _ in range(20):  # another process may have created it and not written yet
        token = path.read_text().strip()
        if token:
            return token
        time.sleep(0.05)
    raise RuntimeError(f"{path} is empty: delete it and start again")


def read_api_token(settings: Settings) -> str | None:
    """The HTTP API token if one was made (the console reads it), else None."""
    try:
        return (settings.var_dir / API_TOKEN_FILE).read_text().strip() or None
    except OSError:
        return None


def rasa_api_args(settings: Settings) -> list[str]:
    """``--enable-api --auth-token=...`` when Rasa listens on loopback, else nothing.

    On any other address the API stays off: the console then shows replies and
    the knowledge evidence but not the intent ranking.
    """
    if not _is_loopback(settings.host):
        return []
    # One argument with "=": a token may start with "-" (token_urlsafe draws from
    # A-Z a-z 0-9 - _), which argparse would take for an option and Rasa would
    # refuse to start ("--auth-token: expected one argument").
    return ["--enable-api", f"--auth-token={api_token(settings)}"]


def model_path(settings: Settings) -> Path:
    """Where the trained Rasa model lives."""
    return settings.var_dir / "models" / f"{MODEL_NAME}.tar.gz"


def train_if_needed(settings: Settings, force: bool = False) -> bool:
    """Train the Rasa model unless one from the same inputs exists.

    Returns:
        True when a model was trained, False when the existing one was kept.
    """
    model = model_path(settings)
    stamp = model.with_suffix(".fingerprint")
    fingerprint = training_fingerprint()
    if not force and model.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
        print(f"Rasa model is up to date ({model})", flush=True)
        return False
    model.parent.mkdir(parents=True, exist_ok=True)
    print("Training the Rasa model (the training data changed)...", flush=True)
    started = time.monotonic()
    # Train into a folder beside the model and rename at the end, so a Rasa server
    # that loads the model meanwhile reads the old file whole, never a half-written one.
    scratch = Path(tempfile.mkdtemp(prefix=".training-", dir=model.parent))
    subprocess.run(
        [
            sys.executable,
            str(RASA_CLI),
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            str(scratch),
            "--fixed-model-name",
            MODEL_NAME,
        ],
        cwd=REPO_ROOT,
        env=child_env(settings),
        check=True,
    )
    os.replace(scratch / model.name, model)
    shutil.rmtree(scratch, ignore_errors=True)
    stamp.write_text(fingerprint + "\n")
    print(f"Trained in {time.monotonic() - started:.0f} s", flush=True)
    return True


def index_if_needed(settings: Settings) -> None:
    """Rebuild the knowledge index when the articles changed."""
    from bot.knowledge import index  # the index's format (numpy; not the model or torch)

    env = child_env(settings)
    check = subprocess.run(
        [sys.executable, "-m", "bot.knowledge.ingest", "--check"], cwd=REPO_ROOT, env=env
    )
    if check.returncode == 0:
        print(f"Knowledge index is up to date ({settings.index_dir})", flush=True)
        return
    print("Building the knowledge index (the sources changed)...", flush=True)
    build = subprocess.run([sys.executable, "-m", "bot.knowledge.ingest"], cwd=REPO_ROOT, env=env)
    if build.returncode == 0:
        return
    # bot.knowledge.ingest has named the bad file; its swap is atomic, so an older index
    # is still whole and the assistant can keep answering from it.
    if index.exists(settings.index_dir):
        print(
            "The knowledge index could not be rebuilt (see above); "
            "the previous index stays in use.",
            file=sys.stderr,
            flush=True,
        )
        return
    raise SystemExit(
        "The knowledge index could not be built (see above); fix or remove that file and try again."
    )


def prepare(settings: Settings) -> None:
    """Everything the services need before they start."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    # MiniLM as ONNX (bot.knowledge.embeddings), built in its own process: it needs torch.
    subprocess.run(
        [sys.executable, "-m", "bot.knowledge.embeddings"],
        cwd=REPO_ROOT,
        env=child_env(settings),
        check=True,
    )
    # The search model: MiniLM adapted to the articles' written questions
    # (bot.knowledge.adapted), trained once for these articles, then as ONNX.
    subprocess.run(
        [sys.executable, "-m", "bot.knowledge.adapted"],
        cwd=REPO_ROOT,
        env=child_env(settings),
        check=True,
    )
    index_if_needed(settings)
    train_if_needed(settings)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing is listening on right now, on ``host``."""
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def loopback_settings(prefix: str) -> Settings:
    """Settings for a private copy of the stack on free loopback ports.

    It uses the model and index in ``var/`` and a fresh tracker store and feedback
    database in a new temporary folder, so a benchmark or an evaluation never
    touches a running assistant or the repository's own ``var/`` data.
    """
    import dataclasses

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    host = "127.0.0.1"
    rasa, actions, widget = free_port(), free_port(), free_port()
    base = get_settings()
    return dataclasses.replace(
        base,
        host=host,
        rasa_port=rasa,
        actions_port=actions,
        widget_port=widget,
        rasa_url=f"http://{host}:{rasa}",
        actions_url=f"http://{host}:{actions}/webhook",
        tracker_db=tmp / "tracker.db",
        tracker_url="",
        feedback_db=tmp / "feedback.sqlite",
        allowed_origins=(f"http://{host}:{widget}",),
    )
