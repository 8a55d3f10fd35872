"""deploy/compose.yml, its nginx configuration and docs/production.md agree with the code.

Docker is not run here (the development machine has none), so these checks read the
files: the compose file parses, names the services the docs name, sets only settings
that ``bot/settings.py`` reads, polls the health URLs that ``bot/stack/services.py`` polls, and
nginx balances over services that exist.
"""

import dataclasses
import re
from urllib.parse import urlsplit

import pytest
import yaml

from bot.settings import REPO_ROOT, get_settings
from bot.stack.services import Stack

DEPLOY = REPO_ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yml"
NGINX = DEPLOY / "nginx.compose.conf"
PRODUCTION = REPO_ROOT / "docs" / "production.md"
# The services of `make run-scaled` (bot/stack/scaled.py) that compose must have.
REQUIRED = {"postgres", "redis", "actions1", "actions2", "rasa1", "rasa2", "nginx", "widget"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def kind(name: str) -> str:
    """``rasa2`` -> ``rasa``: the bot/stack/services.py service a compose service runs."""
    return name.rstrip("0123456789")


def settings_variables() -> set[str]:
    return set(re.findall(r'"(SENBOT_[A-Z_]+)"', (REPO_ROOT / "bot" / "settings.py").read_text()))


def command_text(service: dict) -> str:
    command = service.get("command", [])
    return command if isinstance(command, str) else " ".join(command)


def health_url(service: dict) -> str:
    test = service["healthcheck"]["test"]
    found = re.findall(r"http://[^\s'\"]+", test if isinstance(test, str) else " ".join(test))
    assert len(found) == 1, f"one URL expected in {test}"
    return found[0]


def test_compose_has_every_service_of_the_scaled_setup(services):
    assert set(services) >= REQUIRED, f"missing: {sorted(REQUIRED - set(services))}"


def test_the_services_docs_production_names_are_the_compose_services(services):
    text = PRODUCTION.read_text(encoding="utf-8")
    section = text.split("## The compose file", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.MULTILINE))
    assert named >= REQUIRED  # guards against the table's format drifting
    assert named == set(services), (
        f"in docs/production.md only: {sorted(named - set(services))}; "
        f"in compose.yml only: {sorted(set(services) - named)}"
    )


def test_every_senbot_variable_is_a_setting():
    known = settings_variables()
    assert {"SENBOT_TRACKER_URL", "SENBOT_LOCK_STORE_URL"} <= known  # the regex sees them
    for path in (COMPOSE, DEPLOY / "Dockerfile"):
        used = set(re.findall(r"SENBOT_[A-Z_]+", path.read_text(encoding="utf-8")))
        assert used, path
        assert used <= known, f"{path.name} sets what bot/settings.py never reads: {used - known}"


def test_rasa_gets_every_variable_endpoints_yml_names(services):
    # Rasa refuses to start on an unset ${...} in endpoints.yml.
    needed = set(re.findall(r"\$\{(\w+)\}", (REPO_ROOT / "endpoints.yml").read_text()))
    assert "SENBOT_TRACKER_URL" in needed
    for name in ("rasa1", "rasa2"):
        service = services[name]
        given = set(service["environment"]) | set(
            re.findall(r"export (\w+)=", command_text(service))
        )
        assert needed <= given, f"{name} lacks {needed - given}"


def test_shared_stores_come_from_the_compose_services(services):
    env = services["rasa1"]["environment"]
    assert urlsplit(env["SENBOT_LOCK_STORE_URL"]).hostname == "redis"
    assert "@postgres:5432/" in command_text(services["rasa1"])
    assert urlsplit(env["SENBOT_ACTIONS_URL"]).hostname == "nginx"
    assert urlsplit(services["widget"]["environment"]["SENBOT_RASA_URL"]).hostname == "nginx"


def test_health_checks_poll_what_bot_stack_polls(services):
    # Non-loopback host: Stack then makes no API token file, so building it has no effects.
    env = services["rasa1"]["environment"]
    settings = dataclasses.replace(
        get_settings(),
        host="192.0.2.1",
        rasa_port=int(env["SENBOT_RASA_PORT"]),
        actions_port=int(env["SENBOT_ACTIONS_PORT"]),
        widget_port=int(env["SENBOT_WIDGET_PORT"]),
    )
    polled = {name: urlsplit(s.health_url) for name, s in Stack(settings).services.items()}
    assert set(polled) == {"actions", "rasa", "widget"}
    checked = set()
    for name, service in services.items():
        if kind(name) not in polled:
            continue
        url, expected = urlsplit(health_url(service)), polled[kind(name)]
        assert (url.path, url.port) == (expected.path, expected.port), name
        checked.add(kind(name))
    assert checked == set(polled)
    # nginx's check passes through to a Rasa server's "/" on the balancer's port.
    url = urlsplit(health_url(services["nginx"]))
    assert (url.path, url.port) == (polled["rasa"].path, polled["rasa"].port)


def test_every_service_has_a_health_check_or_is_the_purge(services):
    without = {name for name, s in services.items() if "healthcheck" not in s}
    assert without == {"retention"}  # a loop with nothing to poll; restart covers it


def test_depends_on_volumes_and_secrets_exist(compose, services):
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert condition["condition"] in ("service_healthy", "service_started"), name
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no health check"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith("."):
                assert source in compose["volumes"], f"{name}: volume {source}"
            else:
                assert (DEPLOY / source).exists(), f"{name}: file {source}"
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"], f"{name}: secret {secret}"
    assert {"postgres-data", "redis-data"} <= set(compose["volumes"])


def test_only_nginx_and_the_widget_are_published_and_only_on_loopback(services):
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert set(published) == {"nginx", "widget"}
    assert all(port.startswith("127.0.0.1:") for ports in published.values() for port in ports)


def test_nginx_upstreams_are_compose_services():
    text = NGINX.read_text(encoding="utf-8")
    upstreams = dict(re.findall(r"upstream (\w+) \{(.*?)\}", text, flags=re.DOTALL))
    assert set(upstreams) == {"rasa", "rasa_sticky", "actions"}
    ports = {"rasa": 5005, "actions": 5055}
    for upstream, body in upstreams.items():
        servers = re.findall(r"server ([\w.-]+):(\d+)", body)
        group = "actions" if upstream == "actions" else "rasa"
        assert sorted(name for name, _ in servers) == [f"{group}1", f"{group}2"], upstream
        assert {int(port) for _, port in servers} == {ports[group]}, upstream


def test_nginx_keeps_socketio_sticky_with_websocket_upgrade():
    text = NGINX.read_text(encoding="utf-8")
    socketio = text.split("location /socket.io/", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://rasa_sticky;" in socketio
    assert "proxy_set_header Upgrade $http_upgrade;" in socketio
    assert "proxy_set_header Connection $connection_upgrade;" in socketio
    assert "hash $remote_addr consistent;" in text
    directives = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    # The nginx image's command passes `daemon off;`; a second one stops nginx starting.
    assert not any(d.startswith("daemon") for d in directives)
