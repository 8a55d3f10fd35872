"""channels/lock_store.py: Redis when SENBOT_LOCK_STORE_URL is set, memory otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.settings import REPO_ROOT, Settings
from channels.lock_store import EnvLockStore, redis_lock_store


def test_no_url_is_rasas_in_memory_store_and_locks_in_order() -> None:
    for config in (None, EndpointConfig(url="", type="channels.lock_store.EnvLockStore")):
        store = LockStore.create(config) if config else EnvLockStore()
        assert isinstance(store, EnvLockStore)
        assert isinstance(store.store, InMemoryLockStore)
    first = store.issue_ticket("c1")
    second = store.issue_ticket("c1")
    lock = store.get_lock("c1")
    assert lock is not None
    assert not lock.is_locked(first) and lock.is_locked(second)
    store.cleanup("c1", first)
    assert not store.get_lock("c1").is_locked(second)
    store.cleanup("c1", second)
    assert store.get_lock("c1") is None


def test_redis_url_gives_rasas_redis_store_on_that_server() -> None:
    config = EndpointConfig(
        url="redis://:s%40cret@10.0.0.7:6390/3", type="channels.lock_store.EnvLockStore"
    )
    store = LockStore.create(config)  # as Rasa creates it from endpoints.yml
    assert isinstance(store, EnvLockStore)
    assert isinstance(store.store, RedisLockStore)
    kwargs = store.store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("10.0.0.7", 6390, 3)
    assert kwargs["password"] == "s@cret"
    assert store.store.key_prefix == "senbot:lock:"


def test_redis_url_defaults_port_and_database() -> None:
    kwargs = redis_lock_store("redis://cache").red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache", 6379, 0)


@pytest.mark.parametrize("url", ["http://x:6379", "redis://", "redis://h/zero"])
def test_a_wrong_url_is_refused_with_the_expected_shape(url: str) -> None:
    with pytest.raises(ValueError, match="redis"):
        redis_lock_store(url)


def test_endpoints_names_the_store_and_settings_default_to_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoints = yaml.safe_load((REPO_ROOT / "endpoints.yml").read_text())
    assert endpoints["lock_store"] == {
        "type": "channels.lock_store.EnvLockStore",
        "url": "${SENBOT_LOCK_STORE_URL}",
    }
    monkeypatch.delenv("SENBOT_LOCK_STORE_URL", raising=False)
    assert Settings.from_env().lock_store_url == ""
    monkeypatch.setenv("SENBOT_LOCK_STORE_URL", "redis://127.0.0.1:6379/0")
    assert Settings.from_env().lock_store_url == "redis://127.0.0.1:6379/0"


async def test_a_waiting_message_gets_the_lock_soon_after_it_is_freed() -> None:
    import asyncio
    import time

    store = EnvLockStore()
    order: list[str] = []

    async def turn(name: str, seconds: float) -> float:
        async with store.lock("c2"):
            order.append(f"{name} start")
            await asyncio.sleep(seconds)
            order.append(f"{name} end")
        return time.monotonic()

    first = asyncio.create_task(turn("first", 0.2))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    second_done = await turn("second", 0.0)
    await first
    assert order == ["first start", "first end", "second start", "second end"]
    assert second_done - started < 0.5  # Rasa's own wait would be a whole second


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (make test installs it)."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make scaled-tools installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no redis"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


def test_two_servers_sharing_redis_never_hold_one_conversation_at_once(redis_url) -> None:
    # Two lock stores, as two Rasa servers would have, each in its own thread and
    # event loop, take turns on three conversations. Before the mutex, a waiting
    # server's clean-up wrote back a stale copy of the lock and brought a finished
    # ticket back, so a message waited for it to expire (60 s) instead of ~0.01 s.
    import asyncio
    import threading
    import time

    servers = [EnvLockStore(EndpointConfig(url=redis_url)) for _ in range(2)]
    holders: dict[str, int] = {}
    overlaps: list[str] = []
    waits: list[float] = []

    async def turns(store: EnvLockStore, conversation: str) -> None:
        for _ in range(15):
            asked = time.monotonic()
            async with store.lock(conversation, lock_lifetime=30):
                waits.append(time.monotonic() - asked)
                holders[conversation] = holders.get(conversation, 0) + 1
                if holders[conversation] > 1:
                    overlaps.append(conversation)
                await asyncio.sleep(0.01)
                holders[conversation] -= 1

    def server(store: EnvLockStore) -> None:
        async def run() -> None:
            await asyncio.gather(*(turns(store, f"c{i}") for i in range(3)))

        asyncio.run(run())

    threads = [threading.Thread(target=server, args=(store,)) for store in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(waits) == 2 * 3 * 15, "a turn never got its lock"
    assert overlaps == []
    # Each turn waits for at most the other server's turn on that conversation.
    assert max(waits) < 5, sorted(waits)[-5:]
