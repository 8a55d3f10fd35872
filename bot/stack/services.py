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
At about 400 lines it is over the house's 300 because starting, watching,
restarting and stopping share one state (the running services) and one lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.records.privacy import enforce_retention
from bot.settings import REPO_ROOT, Settings
from bot.stack.prepare import RASA_CLI, child_env, model_path, prepare, rasa_api_args


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
