"""The Rasa model is retrained only when what it is trained from changes."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from bot import stack
from bot.settings import Settings


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A tiny project tree standing in for the repository."""
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "basics.yml").write_text("nlu: []\n")
    (tmp_path / "domain.yml").write_text("intents: [greet]\n")
    (tmp_path / "config.yml").write_text("pipeline: []\n")
    monkeypatch.setattr(stack, "REPO_ROOT", tmp_path)
    return tmp_path


@pytest.fixture
def trainings(monkeypatch):
    """Record training runs instead of running Rasa; write the model file."""
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        out = command[command.index("--out") + 1]
        name = command[command.index("--fixed-model-name") + 1]
        (stack.Path(out) / f"{name}.tar.gz").write_bytes(b"model")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(stack.subprocess, "run", fake_run)
    return calls


@pytest.fixture
def settings(tmp_path):
    base = Settings.from_env()
    return dataclasses.replace(base, var_dir=tmp_path / "var")


def test_first_run_trains_and_second_run_does_not(project, trainings, settings):
    assert stack.train_if_needed(settings) is True
    assert stack.train_if_needed(settings) is False
    assert len(trainings) == 1


@pytest.mark.parametrize("changed", ["data/nlu/basics.yml", "domain.yml", "config.yml"])
def test_a_change_to_training_inputs_retrains(project, trainings, settings, changed):
    stack.train_if_needed(settings)
    (project / changed).write_text((project / changed).read_text() + "# changed\n")
    assert stack.train_if_needed(settings) is True
    assert len(trainings) == 2


def test_a_new_training_file_retrains(project, trainings, settings):
    stack.train_if_needed(settings)
    (project / "data" / "rules.yml").write_text("rules: []\n")
    assert stack.train_if_needed(settings) is True


def test_a_missing_model_file_retrains_even_with_a_stamp(project, trainings, settings):
    stack.train_if_needed(settings)
    stack.model_path(settings).unlink()
    assert stack.train_if_needed(settings) is True


def test_children_get_telemetry_off_and_offline_models(settings):
    env = stack.child_env(settings, {"PYTHONPATH": "/extra"})
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["SANIC_HOST"] == settings.host
    paths = env["PYTHONPATH"].split(":")
    assert str(stack.REPO_ROOT) in paths and "/extra" in paths


@pytest.fixture
def one_article(tmp_path):
    """A knowledge folder with one real article, so a real ingest is quick."""
    articles = tmp_path / "knowledge" / "articles"
    articles.mkdir(parents=True)
    source = stack.REPO_ROOT / "knowledge" / "articles" / "funding-elements.md"
    (articles / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path / "knowledge"


def test_a_bad_page_keeps_the_previous_index_in_use(tmp_path, one_article, capsys):
    base = Settings.from_env()
    settings = dataclasses.replace(
        base, var_dir=tmp_path / "var", index_dir=tmp_path / "var" / "index",
        knowledge_dir=one_article, extra_sources=(),
    )
    stack.index_if_needed(settings)
    manifest = (settings.index_dir / "manifest.json").read_bytes()

    bad = tmp_path / "broken.html"
    bad.write_bytes(b"\x00\xff\xfe binary, not a page")
    stack.index_if_needed(dataclasses.replace(settings, extra_sources=(bad,)))

    assert "previous index stays in use" in capsys.readouterr().err
    assert (settings.index_dir / "manifest.json").read_bytes() == manifest


def test_a_bad_page_with_no_index_yet_stops_with_a_clear_message(tmp_path, one_article):
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    settings = dataclasses.replace(
        Settings.from_env(), var_dir=tmp_path / "var", index_dir=tmp_path / "var" / "index",
        knowledge_dir=one_article, extra_sources=(bad,),
    )
    with pytest.raises(SystemExit, match="could not be built"):
        stack.index_if_needed(settings)
