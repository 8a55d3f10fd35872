"""The Rasa model is retrained only when what it is trained from changes."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from bot.settings import Settings
from bot.stack import prepare as prep
from bot.stack import services as stack


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A tiny project tree standing in for the repository."""
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "basics.yml").write_text("nlu: []\n")
    (tmp_path / "domain.yml").write_text("intents: [greet]\n")
    (tmp_path / "config.yml").write_text("pipeline: []\n")
    monkeypatch.setattr(prep, "REPO_ROOT", tmp_path)
    return tmp_path


@pytest.fixture
def trainings(monkeypatch):
    """Record training runs instead of running Rasa; write the model file."""
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        out = command[command.index("--out") + 1]
        name = command[command.index("--fixed-model-name") + 1]
        (prep.Path(out) / f"{name}.tar.gz").write_bytes(b"model")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(stack.subprocess, "run", fake_run)
    return calls


@pytest.fixture
def settings(tmp_path):
    base = Settings.from_env()
    return dataclasses.replace(base, var_dir=tmp_path / "var")


def test_first_run_trains_and_second_run_does_not(project, trainings, settings):
    assert prep.train_if_needed(settings) is True
    assert prep.train_if_needed(settings) is False
    assert len(trainings) == 1


@pytest.mark.parametrize("changed", ["data/nlu/basics.yml", "domain.yml", "config.yml"])
def test_a_change_to_training_inputs_retrains(project, trainings, settings, changed):
    prep.train_if_needed(settings)
    (project / changed).write_text((project / changed).read_text() + "# changed\n")
    assert prep.train_if_needed(settings) is True
    assert len(trainings) == 2


def test_a_new_training_file_retrains(project, trainings, settings):
    prep.train_if_needed(settings)
    (project / "data" / "rules.yml").write_text("rules: []\n")
    assert prep.train_if_needed(settings) is True


def test_a_missing_model_file_retrains_even_with_a_stamp(project, trainings, settings):
    prep.train_if_needed(settings)
    prep.model_path(settings).unlink()
    assert prep.train_if_needed(settings) is True


def test_children_get_telemetry_off_and_offline_models(settings):
    env = prep.child_env(settings, {"PYTHONPATH": "/extra"})
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["SANIC_HOST"] == settings.host
    paths = env["PYTHONPATH"].split(":")
    assert str(prep.REPO_ROOT) in paths and "/extra" in paths


@pytest.fixture
def one_article(tmp_path):
    """A knowledge folder with one real article, so a real ingest is quick."""
    articles = tmp_path / "knowledge" / "articles"
    articles.mkdir(parents=True)
    source = prep.REPO_ROOT / "knowledge" / "articles" / "funding-elements.md"
    (articles / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path / "knowledge"


def test_a_bad_page_keeps_the_previous_index_in_use(tmp_path, one_article, capsys):
    base = Settings.from_env()
    settings = dataclasses.replace(
        base,
        var_dir=tmp_path / "var",
        index_dir=tmp_path / "var" / "index",
        knowledge_dir=one_article,
        extra_sources=(),
    )
    prep.index_if_needed(settings)
    manifest = (settings.index_dir / "manifest.json").read_bytes()

    bad = tmp_path / "broken.html"
    bad.write_bytes(b"\x00\xff\xfe binary, not a page")
    prep.index_if_needed(dataclasses.replace(settings, extra_sources=(bad,)))

    assert "previous index stays in use" in capsys.readouterr().err
    assert (settings.index_dir / "manifest.json").read_bytes() == manifest


def test_a_bad_page_with_no_index_yet_stops_with_a_clear_message(tmp_path, one_article):
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    settings = dataclasses.replace(
        Settings.from_env(),
        var_dir=tmp_path / "var",
        index_dir=tmp_path / "var" / "index",
        knowledge_dir=one_article,
        extra_sources=(bad,),
    )
    with pytest.raises(SystemExit, match="could not be built"):
        prep.index_if_needed(settings)


# --- Supervision: a service that exits is restarted, the others keep serving ------

FAKE_SERVER = (
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "print('fake service listening', flush=True)\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n"
)


def fake_server(name: str) -> stack.Service:
    """A tiny HTTP service standing in for the action server, Rasa or the widget."""
    port = prep.free_port()
    url = f"http://127.0.0.1:{port}/"
    return stack.Service(
        name, [stack.sys.executable, "-c", FAKE_SERVER, str(port)], url, url, f"{name} service"
    )


def fake_crasher(name: str) -> stack.Service:
    """A service that cannot stay up: it says why in its log and exits with code 3."""
    command = [
        stack.sys.executable,
        "-c",
        "import sys; print('cannot read config.yml: bad indentation'); sys.exit(3)",
    ]
    return stack.Service(name, command, "http://127.0.0.1:9/", "", f"{name} service")


@pytest.fixture
def supervised(tmp_path):
    """A Stack of fake services with quick restarts; collects what it logs."""
    made = []

    def make(*services, **policy):
        lines: list[str] = []
        fake = stack.Stack(
            dataclasses.replace(Settings.from_env(), var_dir=tmp_path / "var"),
            services={s.name: s for s in services},
            restart=stack.RestartPolicy(**{"first_delay": 0.05, "max_delay": 0.2, **policy}),
            log=lines.append,
        )
        made.append(fake)
        return fake, lines

    yield make
    for fake in made:
        fake.stop(grace=2)


def supervise_until(fake: stack.Stack, done, seconds: float = 10.0) -> None:
    deadline = stack.time.monotonic() + seconds
    while not done():
        assert stack.time.monotonic() < deadline, "supervision did not get there in time"
        fake.check()
        stack.time.sleep(0.02)


def test_restart_pause_doubles_and_is_capped():
    policy = stack.RestartPolicy()
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_killed_service_comes_back_while_the_other_keeps_serving(supervised):
    fake, lines = supervised(fake_server("actions"), fake_server("rasa"))
    fake.start(timeout=20)
    other_pid = fake.services["rasa"].process.pid
    stack.os.killpg(fake.services["actions"].process.pid, stack.signal.SIGKILL)

    supervise_until(fake, lambda: any("is back" in line for line in lines))

    assert lines[0] == (
        "The actions service was killed by signal 9 (SIGKILL); restarting in 0.05 s."
    )
    assert lines[1].startswith("Restarted the actions service (restart 1, pid ")
    assert stack._answers(fake.services["actions"].health_url)
    assert fake.services["rasa"].process.pid == other_pid  # never touched
    assert stack._answers(fake.services["rasa"].health_url)


def test_a_service_that_keeps_exiting_stops_everything_and_says_why(supervised):
    fake, lines = supervised(fake_server("rasa"), fake_crasher("actions"), max_exits=3)
    fake.start(("rasa",), timeout=20)
    fake.spawn("actions")

    with pytest.raises(stack.ServiceCannotStayUp) as stopped:
        supervise_until(fake, lambda: False)

    message = str(stopped.value)
    assert "The actions service cannot stay up: it exited with code 3" in message
    assert "exited 4 times in the last 60 s" in message
    assert "cannot read config.yml: bad indentation" in message  # the log's tail
    pauses = [line.split("restarting in ")[1] for line in lines if "restarting in" in line]
    assert pauses == ["0.05 s.", "0.1 s.", "0.2 s."]  # doubling, capped at 0.2


def test_a_service_stopped_on_purpose_is_not_restarted(supervised):
    fake, lines = supervised(fake_server("widget"))
    fake.start(timeout=20)
    fake.stop(("widget",), grace=2)
    for _ in range(5):
        fake.check()
    assert lines == []
    assert not fake.services["widget"].running()


def test_supervise_returns_when_asked_to_stop(supervised):
    fake, _lines = supervised(fake_server("widget"))
    fake.start(timeout=20)
    stop = stack.threading.Event()
    stop.set()
    fake.supervise(stop)  # returns at once instead of looping
    assert fake.services["widget"].running()


def test_an_api_token_starting_with_a_dash_still_reaches_rasa(settings):
    # Rasa's own option: `rasa run` refused "--auth-token -xi..." and never started.
    import argparse

    token_file = settings.var_dir / prep.API_TOKEN_FILE
    token_file.parent.mkdir(parents=True)
    token_file.write_text("-xi3_dash-first")
    parser = argparse.ArgumentParser()
    parser.add_argument("--enable-api", action="store_true")
    parser.add_argument("-t", "--auth-token", type=str)
    args = parser.parse_args(prep.rasa_api_args(settings))
    assert args.enable_api and args.auth_token == "-xi3_dash-first"
