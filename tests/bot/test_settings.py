"""Settings come from the environment, with safe loopback defaults."""

import dataclasses

import pytest

from bot.settings import REPO_ROOT, Settings


def test_defaults_bind_to_loopback_and_keep_data_in_var(monkeypatch):
    for name in ("SENBOT_HOST", "SENBOT_RASA_PORT", "SENBOT_VAR_DIR", "SENBOT_TRACKER_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.host == "127.0.0.1"
    assert (settings.rasa_port, settings.actions_port, settings.widget_port) == (5005, 5055, 8000)
    assert settings.var_dir == REPO_ROOT / "var"
    assert settings.tracker_db == REPO_ROOT / "var" / "tracker.db"
    assert settings.tracker_url == ""
    assert settings.actions_url == "http://127.0.0.1:5055/webhook"


def test_environment_overrides_ports_and_derived_urls(monkeypatch):
    monkeypatch.setenv("SENBOT_RASA_PORT", "6005")
    monkeypatch.setenv("SENBOT_ACTIONS_PORT", "6055")
    settings = Settings.from_env()
    assert settings.rasa_url == "http://127.0.0.1:6005"
    assert settings.actions_url == "http://127.0.0.1:6055/webhook"


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_bad_port_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("SENBOT_RASA_PORT", value)
    with pytest.raises(ValueError, match="SENBOT_RASA_PORT"):
        Settings.from_env()


def test_widget_rate_limits_default_and_can_be_changed(monkeypatch):
    monkeypatch.delenv("SENBOT_RATE_LIMIT_SESSION", raising=False)
    monkeypatch.setenv("SENBOT_RATE_LIMIT_ADDRESS", "100/hour")
    settings = Settings.from_env()
    assert settings.rate_limit_session == "20/minute"
    assert settings.rate_limit_address == "100/hour"


def test_a_bad_rate_limit_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SENBOT_RATE_LIMIT_SESSION", "lots")
    with pytest.raises(ValueError, match="SENBOT_RATE_LIMIT_SESSION"):
        Settings.from_env()


def test_extra_sources_are_colon_separated_paths_from_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("SENBOT_EXTRA_SOURCES", raising=False)
    assert Settings.from_env().extra_sources == ()
    monkeypatch.setenv("SENBOT_EXTRA_SOURCES", f"pages/local : {tmp_path}/a.html::")
    assert Settings.from_env().extra_sources == (REPO_ROOT / "pages" / "local", tmp_path / "a.html")


def test_retention_defaults_to_30_days_and_can_be_changed(monkeypatch):
    monkeypatch.delenv("SENBOT_RETENTION_DAYS", raising=False)
    assert Settings.from_env().retention_days == 30
    monkeypatch.setenv("SENBOT_RETENTION_DAYS", "7")
    assert Settings.from_env().retention_days == 7


@pytest.mark.parametrize("value", ["thirty", "0", "-1", "3651", "1.5"])
def test_a_bad_retention_period_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("SENBOT_RETENTION_DAYS", value)
    with pytest.raises(ValueError, match="SENBOT_RETENTION_DAYS"):
        Settings.from_env()


def test_to_env_reads_back_as_the_same_settings_every_field_included(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("SENBOT_"):
            monkeypatch.delenv(name)
    odd = Settings.from_env()
    odd = dataclasses.replace(
        odd,
        host="10.0.0.7",
        rasa_port=6100,
        var_dir=tmp_path,
        feedback_db=tmp_path / "fb.sqlite",
        embedding_model=str(tmp_path / "model"),
        rate_limit_session="5/minute",
        rate_limit_address="7 per hour",
        retention_days=9,
        allowed_origins=("https://school.example", "https://council.example"),
        extra_sources=(tmp_path / "a.md", tmp_path / "b"),
        lock_store_url="redis://127.0.0.1:6390/0",
        tracker_url="postgresql://u@h/db",
    )
    names = {f.name for f in dataclasses.fields(Settings)}
    env = odd.to_env()
    assert len(env) == len(names)  # one variable for every field, none left out
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == odd
