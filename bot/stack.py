"""Start, watch and stop the three services: action server, Rasa server, widget.

``python -m bot.stack run`` is what ``make run`` calls: it trains the Rasa model
only when the training data changed, builds the knowledge index only when the
articles changed, starts the three services on loopback, waits until each one
answers, prints where they are, and keeps them up: a service that exits is
started again after a pause that doubles each time (1 s, 2 s, 4 s ... up to 30 s)
while the others keep serving. Everything stops on Ctrl-C or SIGTERM, or when one
service cannot stay up (it exited more than 5 times in 60 s).

This module only starts processes and speaks HTTP to them; it imports neither
Rasa nor Flask, so the integration tests use the same code to run the real stack.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.privacy import enforce_retention
from bot.safety import TUNING_FILES
from bot.settings import REPO_ROOT, Settings, get_settings

RASA_CLI = REPO_ROOT / "scripts" / "rasa_cli.py"
MODEL_NAME = "senbot"
# What the trained model depends on: a change to any of these retrains it.
# The crisis check's learned layer is fitted at training time on the safety tuning
# half (bot/safety.py's TUNING_FILES), so those are inputs too.
TRAINING_INPUTS = (
    "data",
    "domain.yml",
    "config.yml",
    "nlu_components",
    "safety",
    "bot/safety.py",
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
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONPATH": os.pathsep.join(pythonpath),
            "PYTHONUNBUFFERED": "1",
            "SANIC_HOST": settings.host,  # rasa-sdk binds here (it has no --host flag)
            "SENBOT_HOST": settings.host,
            "SENBOT_RASA_PORT": str(settings.rasa_port),
            "SENBOT_ACTIONS_PORT": str(settings.actions_port),
            "SENBOT_WIDGET_PORT": str(settings.widget_port),
            "SENBOT_RASA_URL": settings.rasa_url,
            "SENBOT_ACTIONS_URL": settings.actions_url,
            "SENBOT_VAR_DIR": str(settings.var_dir),
            "SENBOT_INDEX_DIR": str(settings.index_dir),
            "SENBOT_KNOWLEDGE_DIR": str(settings.knowledge_dir),
            "SENBOT_EXTRA_SOURCES": ":".join(str(p) for p in settings.extra_sources),
            "SENBOT_TRACKER_DB": str(settings.tracker_db),
            "SENBOT_TRACKER_URL": settings.tracker_url,
            "SENBOT_LOCK_STORE_URL": settings.lock_store_url,
            "SENBOT_FEEDBACK_DB": str(settings.feedback_db),
            "SENBOT_RETENTION_DAYS": str(settings.retention_days),
            "SENBOT_EMBEDDING_MODEL": settings.embedding_model,
            "SENBOT_ALLOWED_ORIGINS": ",".join(settings.allowed_origins),
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
    env = child_env(settings)
    check = subprocess.run([sys.executable, "-m", "bot.ingest", "--check"], cwd=REPO_ROOT, env=env)
    if check.returncode == 0:
        print(f"Knowledge index is up to date ({settings.index_dir})", flush=True)
        return
    print("Building the knowledge index (the sources changed)...", flush=True)
    build = subprocess.run([sys.executable, "-m", "bot.ingest"], cwd=REPO_ROOT, env=env)
    if build.returncode == 0:
        return
    # bot.ingest has named the bad file; its swap is atomic, so an older index
    # is still whole and the assistant can keep answering from it.
    if (settings.index_dir / "manifest.json").is_file():
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


@dataclass(frozen=True)
class RestartPolicy:
    """How the supervisor restarts a service that exits.

    Attributes:
        first_delay: Seconds before the first restart; each further exit within
            ``window`` doubles it.
        max_delay: The longest pause between restarts.
        max_exits: A service that exits more than this many times within
            ``window`` seconds cannot stay up, and everything stops.
        window: Seconds over which exits are counted.
    """

    first_delay: float = 1.0
    max_delay: float = 30.0
    max_exits: int = 5
    window: float = 60.0

    def delay(self, exits_in_window: int) -> float:
        """Pause before the next restart after ``exits_in_window`` recent exits."""
        return min(self.first_delay * 2 ** max(exits_in_window - 1, 0), self.max_delay)


@dataclass
class Service:
    """One child process and the URL that answers when it is ready."""

    name: str
    command: list[str]
    health_url: str
    public_url: str
    label: str = ""  # how log lines name it: "action server"
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    ready_after: float | None = None  # seconds from start to first answer
    exits: deque = field(default_factory=deque)  # monotonic times of unexpected exits
    restart_at: float | None = None  # when a restart is due
    restarted_at: float | None = None  # set until the restarted service answers
    restarts: int = 0
    stop_signal: int = signal.SIGTERM  # PostgreSQL shuts down fast on SIGINT

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class ServiceCannotStayUp(RuntimeError):  # noqa: N818 - reads as what happened
    """A supervised service exited too often; the message says which, why and its log."""


def describe_exit(code: int) -> str:
    """``'exited with code 1'`` or ``'was killed by signal 9 (SIGKILL)'``."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown"
        return f"was killed by signal {-code} ({name})"
    return f"exited with code {code}"


def _answers(url: str) -> bool:
    if url.startswith("tcp://"):  # a database or a balancer: listening is answering
        import socket

        host, _, port = url[len("tcp://") :].rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=2):
                return True
        except OSError:
            return False
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return 200 <= response.status < 500
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@dataclass
class Stack:
    """The action server, the Rasa server and the widget, as child processes."""

    settings: Settings
    extra_env: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    log: Callable[[str], None] = field(
        default=lambda line: print(line, file=sys.stderr, flush=True)
    )

    def __post_init__(self) -> None:
        if not self.services:  # tests pass their own small services
            self.services = self._default_services()

    def _default_services(self) -> dict[str, Service]:
        s = self.settings
        base = f"http://{s.host}"
        py = sys.executable
        return {
            "actions": Service(
                "actions",
                [
                    py,
                    "-m",
                    "actions",
                    "--actions",
                    "actions",
                    "--port",
                    str(s.actions_port),
                    "--cors",
                    s.rasa_url,
                ],
                f"{base}:{s.actions_port}/health",
                f"{base}:{s.actions_port}/webhook",
                "action server",
            ),
            "rasa": Service(
                "rasa",
                [
                    py,
                    str(RASA_CLI),
                    "run",
                    "--model",
                    str(model_path(s)),
                    "--endpoints",
                    "endpoints.yml",
                    "--credentials",
                    "credentials.yml",
                    "--interface",
                    s.host,
                    "--port",
                    str(s.rasa_port),
                    *rasa_api_args(s),
                    "--cors",
                    *s.allowed_origins,
                ],
                f"{base}:{s.rasa_port}/",
                f"{base}:{s.rasa_port}/webhooks/rest/webhook",
                "Rasa server",
            ),
            "widget": Service(
                "widget",
                [py, "-m", "web_widget"],
                f"{base}:{s.widget_port}/healthz",
                f"{base}:{s.widget_port}/demo",
                "widget",
            ),
        }

    def start(self, names: Sequence[str] | None = None, timeout: float = 240.0) -> float:
        """Start the named services (all by default) and wait until each answers.

        Returns:
            Seconds from the first start to the last service answering.

        Raises:
            RuntimeError: A service exited or did not answer in time; its log
                tail is in the message.
        """
        names = list(self.services) if names is None else names
        started = time.monotonic()
        for name in names:
            if not self.services[name].running():
                self.spawn(name)
        pending = [self.services[n] for n in names]
        while pending:
            for service in list(pending):
                if not service.running():
                    raise RuntimeError(
                        f"The {service.name} service stopped while starting.\n"
                        + self.log_tail(service.name)
                    )
                if _answers(service.health_url):
                    service.ready_after = time.monotonic() - started
                    pending.remove(service)
            if pending and time.monotonic() - started > timeout:
                names_left = ", ".join(s.name for s in pending)
                raise RuntimeError(
                    f"Not ready after {timeout:.0f} s: {names_left}\n"
                    + "\n".join(self.log_tail(s.name) for s in pending)
                )
            if pending:
                time.sleep(0.25)
        return time.monotonic() - started

    def spawn(self, name: str) -> None:
        """Start one service's process without waiting for it to answer.

        Its output is appended to ``var/logs/<name>.log``.
        """
        service = self.services[name]
        log_dir = self.settings.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        service.log_path = log_dir / f"{name}.log"
        log = open(service.log_path, "ab")  # noqa: SIM115 - owned by the child
        service.process = subprocess.Popen(
            service.command,
            cwd=REPO_ROOT,
            env=child_env(self.settings, self.extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us, and we stop them in order
        )
        log.close()
        service.restart_at = None

    def stop(self, names: Sequence[str] | None = None, grace: float = 15.0) -> None:
        """Stop the named services (all, last started first): SIGTERM (or the service's
        ``stop_signal``), then SIGKILL after ``grace`` seconds."""
        names = list(reversed(self.services)) if names is None else names
        for name in names:
            service = self.services[name]
            if service.process is not None and service.running():
                os.killpg(service.process.pid, service.stop_signal)
        deadline = time.monotonic() + grace
        for name in names:
            service = self.services[name]
            if service.process is None:
                continue
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait()
            service.process = None
            service.restart_at = service.restarted_at = None  # stopped on purpose

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The last lines a service wrote, for error messages."""
        path = self.services[name].log_path
        if not path or not path.exists():
            return f"({name}: no log)"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- last lines of {path} ---\n" + "\n".join(text)

    def check(self, now: float | None = None) -> None:
        """One round of supervision: restart the services that exited, when due.

        A service that exits is started again after ``restart.delay`` seconds, and
        each step is logged ("The action server exited with code 1; restarting in
        2 s."). Services stopped with :meth:`stop` are left alone.

        Raises:
            ServiceCannotStayUp: A service exited more than ``restart.max_exits``
                times within ``restart.window`` seconds; the message ends with the
                tail of its log.
        """
        now = time.monotonic() if now is None else now
        policy = self.restart
        for service in list(self.services.values()):
            process = service.process
            if process is None:
                continue
            code = process.poll()
            if code is None:
                if service.restarted_at is not None and _answers(service.health_url):
                    self.log(
                        f"The {service.label} is back: answering "
                        f"{time.monotonic() - service.restarted_at:.1f} s "
                        "after its restart."
                    )
                    service.restarted_at = None
                continue
            if service.restart_at is None:  # a new exit
                service.exits.append(now)
                while service.exits and now - service.exits[0] > policy.window:
                    service.exits.popleft()
                if len(service.exits) > policy.max_exits:
                    raise ServiceCannotStayUp(
                        f"The {service.label} cannot stay up: it {describe_exit(code)} "
                        f"and has exited {len(service.exits)} times in the last "
                        f"{policy.window:.0f} s, so the assistant is stopping. "
                        "Its log says why:\n" + self.log_tail(service.name)
                    )
                delay = policy.delay(len(service.exits))
                service.restart_at = now + delay
                service.restarted_at = None
                self.log(f"The {service.label} {describe_exit(code)}; restarting in {delay:g} s.")
            elif now >= service.restart_at:
                self.spawn(service.name)
                service.restarts += 1
                service.restarted_at = time.monotonic()
                pid = service.process.pid if service.process is not None else "?"
                self.log(f"Restarted the {service.label} (restart {service.restarts}, pid {pid}).")

    def supervise(self, stop: threading.Event, interval: float = 0.25) -> None:
        """Keep the started services up until ``stop`` is set.

        Args:
            stop: Set it (from a signal handler or another thread) to return.
            interval: Seconds between checks.

        Raises:
            ServiceCannotStayUp: see :meth:`check`.
        """
        while not stop.is_set():
            self.check()
            stop.wait(interval)

    def dead(self) -> list[str]:
        """Names of services that were started and have since exited."""
        return [
            s.name
            for s in self.services.values()
            if s.process is not None and s.process.poll() is not None
        ]


def prepare(settings: Settings) -> None:
    """Everything the services need before they start."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    # MiniLM as ONNX (bot.embeddings), built in its own process: it needs torch.
    subprocess.run(
        [sys.executable, "-m", "bot.embeddings"], cwd=REPO_ROOT, env=child_env(settings), check=True
    )
    index_if_needed(settings)
    train_if_needed(settings)


def run(settings: Settings) -> int:
    """Prepare, start the three services, and keep them up until Ctrl-C or SIGTERM.

    Returns:
        0 after Ctrl-C or SIGTERM; 1 when a service could not start or could not
        stay up (the reason and its log tail are printed).
    """
    prepare(settings)
    enforce_retention(settings)  # old conversations go at start, then daily
    stack = Stack(settings)
    stopping = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("Starting the action server, the Rasa server and the widget...", flush=True)
    try:
        seconds = stack.start()
    except RuntimeError as err:
        print(err, file=sys.stderr)
        stack.stop()
        return 1
    s = stack.services
    print(
        f"\nReady in {seconds:.1f} s.\n"
        f"  Rasa REST channel : {s['rasa'].public_url}\n"
        f"  Rasa socket.io    : http://{settings.host}:{settings.rasa_port}/socket.io\n"
        f"  Action server     : {s['actions'].public_url}\n"
        f"  Widget demo page  : {s['widget'].public_url}\n"
        f"  Logs              : {settings.var_dir / 'logs'}\n"
        "A service that exits is restarted.\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    return supervise_until_stopped(stack, stopping)


def supervise_until_stopped(stack: Stack, stopping: threading.Event) -> int:
    """Keep ``stack`` up until ``stopping`` is set, then stop it; the exit code.

    Returns:
        0 after Ctrl-C (or SIGTERM), 1 when a service could not stay up (its log
        tail is printed).
    """
    code = 0
    try:
        stack.supervise(stopping)
    except ServiceCannotStayUp as err:
        print(err, file=sys.stderr, flush=True)
        code = 1
    print("\nStopping...", flush=True)
    stack.stop()
    print("Stopped.", flush=True)
    return code


def shell(argv: Sequence[str] = ()) -> int:
    """The staff console (:mod:`bot.console`), talking to the assistant ``run`` started."""
    from bot.console import main as console

    return console(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m bot.stack {run,shell,train,prepare,run-scaled}``."""
    parser = argparse.ArgumentParser(prog="python -m bot.stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="prepare and run all three services until Ctrl-C")
    shell_args = sub.add_parser("shell", help="the staff console (python -m bot.console)")
    shell_args.add_argument("--explain", action="store_true", help="show why, per reply")
    train = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if up to date")
    sub.add_parser("prepare", help="build the index and train the model if needed")
    scaled = sub.add_parser(
        "run-scaled",
        help="N Rasa servers on PostgreSQL and Redis behind nginx (bot/scaled.py, docs/scaling.md)",
    )
    scaled.add_argument("--rasa", type=int, default=2, help="Rasa servers (default 2)")
    scaled.add_argument("--actions", type=int, default=2, help="action servers (default 2)")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "run":
            return run(settings)
        if args.command == "run-scaled":
            from bot.scaled import run_scaled

            return run_scaled(settings, rasa=args.rasa, actions=args.actions)
        if args.command == "shell":
            return shell(["--explain"] if args.explain else [])
        if args.command == "train":
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            train_if_needed(settings, force=args.force)
            return 0
        prepare(settings)
        return 0
    except subprocess.CalledProcessError as err:
        print(f"Failed: {' '.join(map(str, err.cmd))} (exit {err.returncode})", file=sys.stderr)
        return err.returncode or 1


if __name__ == "__main__":
    sys.exit(main())


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
