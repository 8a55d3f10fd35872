"""Several Rasa servers on PostgreSQL and Redis behind nginx: ``make run-scaled``.

Rasa's own way to grow past one process: every Rasa server keeps conversations in
one SQL tracker store (PostgreSQL) and takes its conversation locks in one Redis
(``channels/lock_store.py``), so any server can take any message; the action
servers keep no state; a load balancer spreads the messages. Here that is:

- PostgreSQL and Redis from Debian, their data and configuration in ``var/scaled/``;
- ``--actions`` action servers (default 2) and ``--rasa`` Rasa servers (default 2) on
  free loopback ports, and the widget;
- nginx on the usual address (127.0.0.1:5005, REST and socket.io), so clients and
  the widget change nothing, and on a second port in front of the action servers,
  which the Rasa servers call.

The generated files come from ``deploy/*.template``. Everything is supervised as
``make run`` supervises its three services (:class:`bot.stack.Stack`): a process
that exits is started again; Ctrl-C or SIGTERM stops all of them, last started
first. docs/scaling.md explains the design and its figures.

This module starts processes and writes files; like :mod:`bot.stack` it imports
neither Rasa nor Flask. It is one of the longer files (about 480 lines) because
it is one deployment: the generated configuration of PostgreSQL, Redis and nginx
and the order they start in are read together.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.settings import REPO_ROOT, Settings
from bot.stack.prepare import RASA_CLI, free_port, model_path, prepare, rasa_api_args
from bot.stack.services import Service, Stack, supervise_until_stopped

DEPLOY_DIR = REPO_ROOT / "deploy"
DATABASE = "senbot"
INSTALL_HINT = "run `make scaled-tools` (apt-get install postgresql redis-server nginx)"


@dataclass(frozen=True)
class Layout:
    """Where each process of the scaled stack listens and keeps its files.

    Attributes:
        state_dir: PostgreSQL's cluster, Redis's folder, nginx's files and the
            generated configuration (``var/scaled`` for ``make run-scaled``).
        port: The balancer's address for clients (REST, socket.io).
        actions_port: The balancer's address for the Rasa servers' action calls.
        postgres_port: PostgreSQL, on the host.
        redis_port: Redis, on the host.
        rasa_ports: One per Rasa server.
        actions_ports: One per action server.
        widget_port: The widget.
    """

    state_dir: Path
    port: int
    actions_port: int
    postgres_port: int
    redis_port: int
    rasa_ports: tuple[int, ...]
    actions_ports: tuple[int, ...]
    widget_port: int

    @classmethod
    def free(
        cls,
        state_dir: Path,
        rasa: int = 2,
        actions: int = 2,
        port: int | None = None,
        widget_port: int | None = None,
    ) -> Layout:
        """A layout on free loopback ports (the balancer on ``port`` when given)."""
        if rasa < 1 or actions < 1:
            raise ValueError("At least one Rasa server and one action server are needed")
        return cls(
            state_dir=state_dir,
            port=port or free_port(),
            actions_port=free_port(),
            postgres_port=free_port(),
            redis_port=free_port(),
            rasa_ports=tuple(free_port() for _ in range(rasa)),
            actions_ports=tuple(free_port() for _ in range(actions)),
            widget_port=widget_port or free_port(),
        )

    @property
    def tracker_url(self) -> str:
        """The SQL tracker store every Rasa server shares."""
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/{DATABASE}"

    @property
    def lock_store_url(self) -> str:
        """The Redis lock store every Rasa server shares."""
        return f"redis://127.0.0.1:{self.redis_port}/0"


def scaled_settings(base: Settings, layout: Layout) -> Settings:
    """``base`` with the balancer as the Rasa address and the shared stores set.

    Every child reads these: the widget sends to the balancer, Rasa calls the action
    servers through it, and ``endpoints.yml`` takes PostgreSQL and Redis.
    """
    host = "127.0.0.1"
    return dataclasses.replace(
        base,
        host=host,
        rasa_port=layout.port,
        actions_port=layout.actions_port,
        widget_port=layout.widget_port,
        rasa_url=f"http://{host}:{layout.port}",
        actions_url=f"http://{host}:{layout.actions_port}/webhook",
        tracker_url=layout.tracker_url,
        lock_store_url=layout.lock_store_url,
        allowed_origins=base.allowed_origins
        or (f"http://{host}:{layout.widget_port}", f"http://localhost:{layout.widget_port}"),
    )


# --- the tools from Debian ----------------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb``, if any."""

    def version(path: str) -> int:
        name = Path(path).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    return Path(found[-1]).parent if found else None


def missing_tools() -> list[str]:
    """Debian packages the scaled stack needs and this machine lacks."""
    missing = [] if postgres_bin() else ["postgresql"]
    missing += [
        name
        for name, exe in (("redis-server", "redis-server"), ("nginx", "nginx"))
        if not (shutil.which(exe) or Path(f"/usr/sbin/{exe}").exists())
    ]
    return missing


def _exe(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then.

    ``setpriv`` changes user and then becomes the command (``runuser`` would stay
    as its parent and kill it 2 s after a SIGTERM, before a clean shutdown).
    """
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *command]


# --- generated configuration --------------------------------------------------------

_FIELD = re.compile(r"\{\{(\w+)\}\}")


def render(template: Path, dest: Path, **values: object) -> Path:
    """Write ``template`` to ``dest`` with its ``{{name}}`` fields filled in.

    Raises:
        KeyError: The template names a field that was not given.
    """
    text = template.read_text(encoding="utf-8")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(_FIELD.sub(lambda m: str(values[m.group(1)]), text), encoding="utf-8")
    return dest


def write_configs(layout: Layout) -> dict[str, Path]:
    """Write nginx's and Redis's configuration into the state folder."""
    state = layout.state_dir
    for sub in ("nginx/tmp", "redis"):
        (state / sub).mkdir(parents=True, exist_ok=True)

    def servers(ports: tuple[int, ...]) -> str:
        return "\n".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports
        )

    return {
        "nginx": render(
            DEPLOY_DIR / "nginx.conf.template",
            state / "nginx.conf",
            user="user root;" if os.geteuid() == 0 else "",
            state=state,
            host="127.0.0.1",
            port=layout.port,
            actions_port=layout.actions_port,
            rasa_servers=servers(layout.rasa_ports),
            actions_servers=servers(layout.actions_ports),
        ),
        "redis": render(
            DEPLOY_DIR / "redis.conf.template",
            state / "redis.conf",
            host="127.0.0.1",
            port=layout.redis_port,
            state=state,
        ),
    }


def init_postgres(layout: Layout, fast: bool = False) -> Path:
    """Create the PostgreSQL cluster in ``<state>/postgres`` unless it exists.

    Args:
        layout: Where the cluster lives.
        fast: No fsync (for throwaway test clusters only).

    Returns:
        The cluster's data folder.
    """
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError(f"PostgreSQL is not installed: {INSTALL_HINT}")
    data = layout.state_dir / "postgres"
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    layout.state_dir.chmod(0o755)  # the postgres user must reach its folder
    if (data / "PG_VERSION").exists():
        return data
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    command = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
    ]
    subprocess.run(
        _as_postgres(command + (["--no-sync"] if fast else [])),
        check=True,
        capture_output=True,
        timeout=180,
    )
    return data


def ensure_database(layout: Layout) -> None:
    """Create the ``senbot`` database unless it exists (PostgreSQL must be up)."""
    bindir = postgres_bin()
    assert bindir is not None
    done = subprocess.run(
        [
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(layout.postgres_port),
            "-U",
            "postgres",
            DATABASE,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode and "already exists" not in done.stderr:
        raise RuntimeError(f"Could not create the {DATABASE} database: {done.stderr}")


# --- the services -------------------------------------------------------------------


def _tcp(port: int) -> str:
    return f"tcp://127.0.0.1:{port}"


def scaled_services(settings: Settings, layout: Layout, fast: bool = False) -> dict[str, Service]:
    """Every process of the scaled stack, in the order they start.

    PostgreSQL and Redis first, then the action servers, the balancer, the Rasa
    servers and the widget; :meth:`bot.stack.Stack.stop` stops them in reverse.
    """
    bindir = postgres_bin()
    if bindir is None or missing_tools():
        raise RuntimeError(f"Missing {', '.join(missing_tools())}: {INSTALL_HINT}")
    state, host, py = layout.state_dir, settings.host, sys.executable
    configs = write_configs(layout)
    postgres_options = [
        "-D",
        str(state / "postgres"),
        "-p",
        str(layout.postgres_port),
        "-k",
        str(state / "postgres"),
        "-c",
        f"listen_addresses={host}",
        "-c",
        "max_connections=200",
    ] + (["-c", "fsync=off", "-c", "synchronous_commit=off"] if fast else [])
    services = {
        "postgres": Service(
            "postgres",
            _as_postgres([str(bindir / "postgres"), *postgres_options]),
            _tcp(layout.postgres_port),
            layout.tracker_url,
            "PostgreSQL server",
            stop_signal=signal.SIGINT,  # "fast" shutdown: SIGTERM waits for every client
        ),
        "redis": Service(
            "redis",
            [_exe("redis-server"), str(configs["redis"])],
            _tcp(layout.redis_port),
            layout.lock_store_url,
            "Redis server",
        ),
    }
    for i, port in enumerate(layout.actions_ports, 1):
        services[f"actions{i}"] = Service(
            f"actions{i}",
            [
                py,
                "-m",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(port),
                "--cors",
                settings.rasa_url,
            ],
            f"http://{host}:{port}/health",
            f"http://{host}:{port}/webhook",
            f"action server {i}",
        )
    services["balancer"] = Service(
        "balancer",
        [
            _exe("nginx"),
            "-p",
            str(state / "nginx"),
            "-c",
            str(configs["nginx"]),
            "-e",
            str(state / "nginx" / "error.log"),
        ],
        _tcp(layout.port),
        settings.rasa_url,
        "load balancer (nginx)",
    )
    for i, port in enumerate(layout.rasa_ports, 1):
        services[f"rasa{i}"] = Service(
            f"rasa{i}",
            [
                py,
                str(RASA_CLI),
                "run",
                "--model",
                str(model_path(settings)),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--interface",
                host,
                "--port",
                str(port),
                *rasa_api_args(settings),
                "--cors",
                *settings.allowed_origins,
            ],
            f"http://{host}:{port}/",
            f"http://{host}:{port}/webhooks/rest/webhook",
            f"Rasa server {i}",
        )
    services["widget"] = Service(
        "widget",
        [py, "-m", "web_widget"],
        f"http://{host}:{layout.widget_port}/healthz",
        f"http://{host}:{layout.widget_port}/demo",
        "widget",
    )
    return services


def start_scaled(stack: Stack, layout: Layout, timeout: float = 300.0) -> float:
    """Start the stores, make the database, then everything else; wait for all.

    Returns:
        Seconds until the last service answered.
    """
    seconds = stack.start(["postgres", "redis"], timeout=120)
    ensure_database(layout)
    rest = [name for name in stack.services if name not in ("postgres", "redis")]
    return seconds + stack.start(rest, timeout=timeout)


def build(
    settings: Settings, layout: Layout, fast: bool = False, extra_env: dict[str, str] | None = None
) -> tuple[Stack, Settings]:
    """The scaled stack (not started) and the settings its children get."""
    init_postgres(layout, fast=fast)
    scaled = scaled_settings(settings, layout)
    stack = Stack(
        scaled, extra_env=dict(extra_env or {}), services=scaled_services(scaled, layout, fast=fast)
    )
    return stack, scaled


def run_scaled(settings: Settings, rasa: int = 2, actions: int = 2) -> int:
    """Prepare, start the scaled stack, and keep it up until Ctrl-C or SIGTERM.

    Returns:
        0 after Ctrl-C or SIGTERM; 1 when a service could not start or stay up.
    """
    from bot.records.privacy import enforce_retention

    missing = missing_tools()
    if missing:
        print(f"Missing {', '.join(missing)}: {INSTALL_HINT}", file=sys.stderr)
        return 1
    prepare(settings)
    layout = Layout.free(
        settings.var_dir / "scaled",
        rasa=rasa,
        actions=actions,
        port=settings.rasa_port,
        widget_port=settings.widget_port,
    )
    stack, scaled = build(settings, layout)
    stopping = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(
        f"Starting PostgreSQL, Redis, {actions} action servers, nginx, "
        f"{rasa} Rasa servers and the widget...",
        flush=True,
    )
    try:
        seconds = start_scaled(stack, layout)
    except (RuntimeError, subprocess.SubprocessError) as err:
        print(err, file=sys.stderr)
        stack.stop()
        return 1
    enforce_retention(scaled)  # old conversations go at start, then daily
    rasa_list = ", ".join(str(p) for p in layout.rasa_ports)
    actions_list = ", ".join(str(p) for p in layout.actions_ports)
    print(
        f"\nReady in {seconds:.1f} s.\n"
        f"  Rasa REST channel : {scaled.rasa_url}/webhooks/rest/webhook (nginx)\n"
        f"  Rasa socket.io    : {scaled.rasa_url}/socket.io (nginx, sticky)\n"
        f"  Rasa servers      : 127.0.0.1 ports {rasa_list}\n"
        f"  Action servers    : {scaled.actions_url} (nginx) -> ports {actions_list}\n"
        f"  PostgreSQL        : {layout.tracker_url}\n"
        f"  Redis (locks)     : {layout.lock_store_url}\n"
        f"  Widget demo page  : {stack.services['widget'].public_url}\n"
        f"  Data and config   : {layout.state_dir}\n"
        f"  Logs              : {settings.var_dir / 'logs'}\n"
        "A process that exits is restarted.\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    return supervise_until_stopped(stack, stopping)
