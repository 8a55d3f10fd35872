"""The action server and `rasa run` use one OpenBLAS thread; training keeps the default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from bot.settings import REPO_ROOT, SERVING_ENV, use_serving_env


def run_python(script: str, **env: str) -> list:
    base = {k: v for k, v in os.environ.items() if k not in SERVING_ENV}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        env={**base, "PYTHONPATH": str(REPO_ROOT), **env},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_operators_own_value_is_kept(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    use_serving_env()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    use_serving_env()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"


def test_the_action_server_loads_numpy_with_one_blas_thread():
    threads = run_python(
        """
        import json
        import actions.__main__
        import numpy
        from threadpoolctl import threadpool_info
        print(json.dumps([d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]))
        """
    )
    assert threads and set(threads) == {1}


@pytest.mark.parametrize(("command", "expected"), [("run", "1"), ("train", None)])
def test_only_rasa_run_sets_it(command, expected):
    # Rasa itself stands in: only the wrapper's own start-up is under test.
    value = run_python(
        f"""
        import json, os, runpy, sys, types
        fake = types.ModuleType("rasa")
        fake.telemetry = types.ModuleType("rasa.telemetry")
        fake.__path__ = []
        main = types.ModuleType("rasa.__main__")
        main.main = lambda: 0
        sys.modules.update({{"rasa": fake, "rasa.telemetry": fake.telemetry,
                             "rasa.__main__": main}})
        sys.argv = ["rasa_cli.py", "{command}"]
        runpy.run_path("scripts/rasa_cli.py")
        print(json.dumps([os.environ.get("OPENBLAS_NUM_THREADS")]))
        """
    )
    assert value == [expected]
