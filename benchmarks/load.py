"""Load: the real stack under 1, 10 and 50 concurrent conversations, side by side.

Run: ``make load`` (60 s a level) or ``make load ARGS=--quick`` (15 s a level, the
long conversation to turn 50); ``--baseline REV`` (e.g. ``--baseline 6671525``)
measures that revision too, in the same run, and prints the two columns.

For each version it starts the action server, Rasa and the widget on free loopback
ports with a fresh tracker store (``bot.stack.prepare.loopback_settings``), sends a few
warm-up messages, then drives ``/webhooks/rest/webhook`` with locust at 1, 10 and
50 concurrent conversations for a fixed time each. Every simulated person sends
the turns of one conversation (4 to 12 messages) without think time, then starts
the next with a new sender id. The conversations come from a seeded mix of
messages written in ``evaluation/``: knowledge questions (``evaluation/answers/heldout.yml``),
"talk to someone" then an area, greetings, thanks and out-of-scope questions
(``evaluation/nlu_holdout.yml``), and crisis messages (``evaluation/safety/crisis.yml``).

Per level it prints messages a second, latency p50/p95/p99, errors (timeouts,
connection errors, non-200, empty replies ``[]``, and a crisis reply without 999),
the fixed "can't look that up right now" replies (``bot/people/unavailable.py``) counted
apart, CPU milliseconds per message of each service's process group (utime + stime
from ``/proc/PID/stat`` of every process in the group, before and after the level)
and their sum, and each group's resident memory at the end of the level. Then the
latency at turns 1, 50 and 200 of one long conversation that asks one question
again and again (the median of the turns either side of each, the window shown).

``--baseline REV`` checks that revision out as a git worktree under
``var/tools/load-baseline-REV`` and runs the same measurement there with this
checkout's ``.venv``, trained model (``var/models``) and index (``var/index``).
It never trains: when the revision's ``bot.stack.prepare.training_fingerprint`` differs
from the model's, or the index does not match its articles, it says so and
prints this checkout's column alone. This checkout is measured on ``var/``'s model
and index in any case (what ``make run`` serves until someone retrains), with a
line saying so when its training inputs have changed since.

The load comes from locust as a library, as in ``benchmarks/soak.py``: locust needs
gevent and newer libraries than Rasa's pins allow, so it lives in
``var/tools/soak-venv`` (``make load`` creates it), and this file starts itself
under that environment with ``--drive`` for each level. A third role,
``--measure``, is the part that starts one version's stack; it runs with that
version's code first on ``sys.path``. A benchmark that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
TOOL_PYTHON = ROOT / "var" / "tools" / "soak-venv" / "bin" / "python"
WEBHOOK = "/webhooks/rest/webhook"
SEED = 15
LEVELS = (1, 10, 50)
TIMEOUT = 30.0  # seconds; issue 15 saw replies of 27 s at 50 conversations
LONG_TURNS = (1, 50, 200)
SERVICES = ("rasa", "actions", "widget")
OK_OUTCOMES = ("ok", "unavailable")  # answered; "unavailable" is counted apart


# --- the mix: seeded conversations from the test sets (pure) -----------------------


def _examples(nlu_file: Path, intent: str) -> list[str]:
    import yaml

    data = yaml.safe_load(nlu_file.read_text("utf-8"))
    for block in data["nlu"]:
        if block.get("intent") == intent:
            return [
                line[2:].strip()
                for line in block["examples"].splitlines()
                if line.strip().startswith("- ")
            ]
    raise ValueError(f"{nlu_file} has no intent {intent!r}")


def message_sets(sets: Path = ROOT / "evaluation") -> dict[str, list[str]]:
    """The messages of each kind, from the project's own test and evaluation files."""
    import yaml

    holdout = sets / "nlu_holdout.yml"
    answers = yaml.safe_load((sets / "answers" / "heldout.yml").read_text("utf-8"))
    crisis = yaml.safe_load((sets / "safety" / "crisis.yml").read_text("utf-8"))
    return {
        "knowledge": [c["question"] for c in answers["cases"] if c.get("kind") == "answer"],
        "greeting": _examples(holdout, "greet"),
        "handoff": _examples(holdout, "talk_to_someone"),
        "area": _examples(holdout, "inform_area"),
        "out_of_scope": _examples(holdout, "out_of_scope"),
        "thanks": _examples(holdout, "thanks"),
        "crisis": [str(m) for group in crisis.values() for m in group],
    }


def build_mix(
    conversations: int, sets: dict[str, list[str]], seed: int = SEED
) -> list[list[list[str]]]:
    """``conversations`` conversations of 4 to 12 ``[kind, message]`` turns.

    Each starts with a greeting and ends with thanks; between them about 65%
    knowledge questions, 12% "talk to someone" followed by an area, 15% out of
    scope and 5% crisis (one conversation in five or so carries one). The same
    seed and sets always give the same conversations, so two versions get the
    same messages in the same order.
    """
    rng = random.Random(seed)
    plan: list[list[list[str]]] = []
    for _ in range(conversations):
        length = rng.randint(4, 12)
        turns = [["greeting", rng.choice(sets["greeting"])]]
        while len(turns) < length - 1:
            roll = rng.random()
            if roll < 0.65:
                turns.append(["knowledge", rng.choice(sets["knowledge"])])
            elif roll < 0.77 and len(turns) < length - 2:
                turns.append(["handoff", rng.choice(sets["handoff"])])
                turns.append(["area", rng.choice(sets["area"])])
            elif roll < 0.92:
                turns.append(["out_of_scope", rng.choice(sets["out_of_scope"])])
            elif roll < 0.97:
                turns.append(["crisis", rng.choice(sets["crisis"])])
            else:
                turns.append(["thanks", rng.choice(sets["thanks"])])
        turns.append(["thanks", rng.choice(sets["thanks"])])
        plan.append(turns)
    return plan


def classify(status: int, body: str, kind: str, fallback_mark: str, error: str = "") -> str:
    """One reply's outcome: ok, unavailable, timeout, connection, http_N, bad_json,
    empty or crisis_without_999 (pure, so the drive and the tests agree)."""
    if status == 0:
        return (
            "timeout"
            if "timed out" in error.lower() or "timeout" in error.lower()
            else "connection"
        )
    if status != 200:
        return f"http_{status}"
    try:
        replies = json.loads(body)
    except ValueError:
        return "bad_json"
    if not isinstance(replies, list):
        return "bad_json"
    if not replies:
        return "empty"
    text = "\n".join(str(r.get("text", "")) for r in replies if isinstance(r, dict))
    if fallback_mark in text:
        return "unavailable"
    if kind == "crisis" and "999" not in text:
        return "crisis_without_999"
    return "ok"


# --- /proc: CPU and memory of process groups (pure parsing, then reads) ------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> tuple[int, int]:
    """``(process group, CPU ticks)`` from the text of ``/proc/PID/stat``.

    The ticks are utime + stime + cutime + cstime: the process's own time and that
    of children it has waited for, so a worker that exited inside the group still
    counts. The command name (field 2) may hold spaces and brackets, so fields are
    counted from the last ``)``.
    """
    fields = text.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): pgrp is field 5, utime..cstime are 14..17
    return int(fields[2]), sum(int(f) for f in fields[11:15])


def group_usage(pgids: dict[str, int], proc: Path = Path("/proc")) -> dict[str, dict]:
    """``{name: {"cpu_s", "rss_mb", "procs"}}`` summed over each process group."""
    by_group = {pgid: name for name, pgid in pgids.items()}
    usage = {name: {"cpu_s": 0.0, "rss_mb": 0.0, "procs": 0} for name in pgids}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            pgid, ticks = parse_stat((entry / "stat").read_text())
            name = by_group.get(pgid)
            if name is None:
                continue
            rss_kb = 0
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss_kb = int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue  # exited between the listing and the read
        usage[name]["cpu_s"] += ticks / CLOCK_TICKS
        usage[name]["rss_mb"] += rss_kb / 1024
        usage[name]["procs"] += 1
    return usage


# --- figures and the table (pure) ---------------------------------------------------


def pct(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; nan when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def level_figures(records: list[dict], seconds: float, before: dict, after: dict) -> dict:
    """The figures of one level from its replies and the two /proc samples."""
    counts: dict[str, int] = {}
    for r in records:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    sent = len(records)
    waited = [r["ms"] for r in records]  # a timeout is a wait the person had too
    cpu = {
        name: (after[name]["cpu_s"] - before[name]["cpu_s"]) * 1000 / max(sent, 1) for name in after
    }
    return {
        "messages": sent,
        "seconds": seconds,
        "msg_s": sent / seconds if seconds else 0.0,
        "real_s": counts.get("ok", 0) / seconds if seconds else 0.0,
        "p50": pct(waited, 0.50),
        "p95": pct(waited, 0.95),
        "p99": pct(waited, 0.99),
        "timeouts": counts.get("timeout", 0),
        "non_200": sum(n for k, n in counts.items() if k.startswith("http_")),
        "empty": counts.get("empty", 0),
        "other_errors": sum(
            n for k, n in counts.items() if k in ("connection", "bad_json", "crisis_without_999")
        ),
        "unavailable": counts.get("unavailable", 0),
        "cpu_ms": cpu,
        "cpu_ms_all": sum(cpu.values()),
        "rss_mb": {name: after[name]["rss_mb"] for name in after},
        "knowledge_p50": pct([r["ms"] for r in records if r["kind"] == "knowledge"], 0.5),
        "crisis_p95": pct([r["ms"] for r in records if r["kind"] == "crisis"], 0.95),
    }


def turn_window(turn: int, total: int, half: int = 2) -> tuple[int, int]:
    """The turns (1-based, inclusive) whose median stands for ``turn``."""
    return max(1, turn - half), min(total, turn + half)


nan = float("nan")


def _num(value: float, digits: int = 0) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # nan -> "-"


def rows_for(result: dict | None) -> list[tuple[str, str]]:
    """``(label, cell)`` rows of one version's result; cells empty when skipped."""
    rows: list[tuple[str, str]] = []
    levels = result.get("levels", {}) if result else {}
    for users in LEVELS:
        f = levels.get(str(users))
        head = f"{users} concurrent conversation{'s' if users > 1 else ''}"
        if f is None:
            rows.append((head, ""))
            continue
        rows += [
            (head, f"{f['messages']} msgs in {f['seconds']:.0f} s"),
            ("  msg/s", _num(f["msg_s"], 2)),
            ("  msg/s not counting fixed replies", _num(f.get("real_s", nan), 2)),
            ("  p50 / p95 / p99 ms", " / ".join(_num(f[k]) for k in ("p50", "p95", "p99"))),
            (
                "  knowledge p50, crisis p95 ms",
                f"{_num(f['knowledge_p50'])}, {_num(f['crisis_p95'])}",
            ),
            (
                "  errors: timeout/non-200/empty/other",
                f"{f['timeouts']}/{f['non_200']}/{f['empty']}/{f['other_errors']}",
            ),
            ("  fixed 'unavailable' replies", str(f["unavailable"])),
            ("  CPU ms/msg rasa/actions/widget", "/".join(_num(f["cpu_ms"][s]) for s in SERVICES)),
            ("  CPU ms/msg, all three", _num(f["cpu_ms_all"])),
            ("  RSS MB rasa/actions/widget", "/".join(_num(f["rss_mb"][s]) for s in SERVICES)),
            ("  RSS MB, all three", _num(sum(f["rss_mb"].values()))),
        ]
    long = result.get("long") if result else None
    rows.append(("one conversation, one question", ""))
    for turn in LONG_TURNS:
        cell = ""
        if long and str(turn) in long["turns"]:
            t = long["turns"][str(turn)]
            cell = f"{t['ms']:.0f} ms (turns {t['from']}-{t['to']})"
        elif long:
            cell = "- (not reached)"
        rows.append((f"  turn {turn}", cell))
    if long and "outcomes" in long:
        rows.append(
            ("  replies", ", ".join(f"{k} {v}" for k, v in sorted(long["outcomes"].items())))
        )
    return rows


def side_by_side(columns: list[tuple[str, dict | None]]) -> str:
    """A text table: one row per figure, one column per version."""
    all_rows = [rows_for(result) for _, result in columns]
    labels = [label for label, _ in all_rows[0]]
    width = max(len(label) for label in labels) + 2
    cell_w = [
        max([len(title)] + [len(c) for _, c in rows]) + 2
        for (title, _), rows in zip(columns, all_rows)
    ]
    lines = [" " * width + "".join(t.rjust(w) for (t, _), w in zip(columns, cell_w))]
    for i, label in enumerate(labels):
        lines.append(
            label.ljust(width) + "".join(rows[i][1].rjust(w) for rows, w in zip(all_rows, cell_w))
        )
    return "\n".join(lines)


# --- the drive (runs in the tool environment, under gevent) ------------------------


def drive(job_file: str) -> int:
    """Run one level: ``users`` people, each sending conversations until the end.

    After ``seconds`` no one starts a new message; the level ends when the replies
    in flight are back, so every message counted was answered or failed, and the
    CPU measured around the level belongs to the messages counted.
    """
    import gevent
    from locust import FastHttpUser, constant, events, task
    from locust.env import Environment
    from locust.exception import StopUser

    job = json.loads(Path(job_file).read_text("utf-8"))
    plan, users, seconds = job["plan"], job["users"], job["seconds"]
    out = open(job["results"], "w", encoding="utf-8", buffering=1)  # noqa: SIM115
    started = time.monotonic()
    state = {"next": 0, "in_flight": 0}

    class Person(FastHttpUser):
        host = job["host"]
        wait_time = constant(0)
        network_timeout = job["timeout"]
        connection_timeout = job["timeout"]

        def on_start(self) -> None:
            self.turns: list[list[str]] = []
            self.sender = ""
            self.turn = 0

        @task
        def say(self) -> None:
            if time.monotonic() - started >= seconds:
                raise StopUser()
            if not self.turns:
                n = state["next"]
                state["next"] += 1
                self.turns = list(plan[n % len(plan)])
                self.sender = f"{job['prefix']}-{n}"
                self.turn = 0
            kind, message = self.turns.pop(0)
            self.turn += 1
            state["in_flight"] += 1
            sent = time.monotonic()
            try:
                with self.client.post(
                    WEBHOOK,
                    json={"sender": self.sender, "message": message},
                    name=kind,
                    catch_response=True,
                ) as reply:
                    ms = (time.monotonic() - sent) * 1000
                    failed = getattr(reply, "error", None)  # absent on success
                    error = f"{type(failed).__name__} {failed}" if failed else ""
                    outcome = classify(
                        reply.status_code, reply.text or "", kind, job["fallback_mark"], error
                    )
                    if outcome in OK_OUTCOMES:
                        reply.success()
                    else:
                        reply.failure(outcome)
            finally:
                state["in_flight"] -= 1
            out.write(
                json.dumps(
                    {
                        "t": round(sent - started, 3),
                        "ms": round(ms, 1),
                        "kind": kind,
                        "turn": self.turn,
                        "outcome": outcome,
                    }
                )
                + "\n"
            )

    env = Environment(user_classes=[Person], events=events)
    runner = env.create_local_runner()

    def finish() -> None:
        gevent.sleep(seconds)
        while state["in_flight"]:
            gevent.sleep(0.05)
        Path(job["results"] + ".end").write_text(str(time.monotonic() - started))
        runner.quit()

    runner.start(users, spawn_rate=users)  # everyone at once: no ramp to wait for
    gevent.spawn(finish)
    runner.greenlet.join()
    out.close()
    return 0


# --- one version's stack (runs in .venv with that version's code first) ------------


def _post(url: str, sender: str, message: str, fallback_mark: str = "\0") -> tuple[float, str]:
    """One message through the REST channel: (milliseconds, outcome as in classify)."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        url,
        data=body,  # noqa: S310 - our own http URL
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:  # noqa: S310
            status, text, error = reply.status, reply.read().decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as err:
        status, text, error = err.code, "", ""
    except (urllib.error.URLError, OSError) as err:
        status, text, error = 0, "", f"{type(err).__name__} {err}"
    ms = (time.perf_counter() - started) * 1000
    return ms, classify(status, text, "knowledge", fallback_mark, error)


def _this_version() -> dict:
    """The measured version's own stack API, in the package layout or the older flat one.

    ``--measure`` runs inside the measured checkout, so a baseline from before
    ``bot/`` became packages (3838f47 and older) has ``bot.stack`` as one module.
    """
    try:
        from bot.people.unavailable import cannot_look_up
        from bot.stack.prepare import MODEL_NAME, loopback_settings, training_fingerprint
        from bot.stack.services import Stack

        ingest = "bot.knowledge.ingest"
    except ModuleNotFoundError:
        from bot.unavailable import cannot_look_up  # type: ignore[no-redef]

        from bot.stack import (  # type: ignore[attr-defined,no-redef]
            MODEL_NAME,
            Stack,
            loopback_settings,
            training_fingerprint,
        )

        ingest = "bot.ingest"
    return {
        "cannot_look_up": cannot_look_up,
        "MODEL_NAME": MODEL_NAME,
        "loopback_settings": loopback_settings,
        "training_fingerprint": training_fingerprint,
        "Stack": Stack,
        "ingest": ingest,
    }


def _unprepared(var_dir: Path, index_dir: Path) -> str:
    """Why this version cannot run on the given model and index, or ''."""
    api = _this_version()
    MODEL_NAME, training_fingerprint = api["MODEL_NAME"], api["training_fingerprint"]  # noqa: N806

    stamp = var_dir / "models" / f"{MODEL_NAME}.tar.fingerprint"
    if not stamp.exists():
        return f"no trained model with a fingerprint in {stamp.parent}"
    if stamp.read_text().strip() != training_fingerprint():
        return (
            "its training inputs differ from the trained model's "
            "(bot.stack.training_fingerprint); not training, so not measured"
        )
    env = dict(os.environ, SENBOT_INDEX_DIR=str(index_dir))
    check = subprocess.run(
        [sys.executable, "-m", api["ingest"], "--check"],
        cwd=os.getcwd(),
        env=env,
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        return (
            f"the index does not match its articles (python -m {api['ingest']} "
            "--check); not rebuilding, so not measured"
        )
    return ""


def measure(args: argparse.Namespace) -> int:
    """Start this version's stack, run the levels and the long conversation, write JSON."""
    from bot.settings import get_settings

    api = _this_version()
    cannot_look_up, loopback_settings, Stack = (  # noqa: N806
        api["cannot_look_up"],
        api["loopback_settings"],
        api["Stack"],
    )

    out = Path(args.out)
    base = get_settings()
    why = _unprepared(base.var_dir, base.index_dir)
    if why and not args.anyway:
        out.write_text(json.dumps({"skipped": why}))
        return 0
    if why:
        print(f"  measured anyway, with the model and index in var/: {why}", flush=True)
    settings = loopback_settings("senbot-load-")
    work = Path(tempfile.mkdtemp(prefix="senbot-load-run-"))
    fallback_mark = cannot_look_up().split(".")[0]
    sets = message_sets(ROOT / "evaluation")  # this checkout's sets, for both versions
    plan = build_mix(600, sets)
    url = f"{settings.rasa_url}{WEBHOOK}"
    stack = Stack(settings)
    result: dict = {"levels": {}}
    try:
        result["ready_s"] = stack.start()
        pgids = {name: os.getpgid(stack.services[name].process.pid) for name in SERVICES}
        for n, conversation in enumerate(plan[:3]):  # first-use loads, not counted
            for _, message in conversation:
                _post(url, f"warm-{n}", message)
        for users in LEVELS:
            job = {
                "host": settings.rasa_url,
                "users": users,
                "seconds": args.seconds,
                "timeout": TIMEOUT,
                "plan": plan,
                "prefix": f"load{users}",
                "fallback_mark": fallback_mark,
                "results": str(work / f"level-{users}.jsonl"),
            }
            (work / f"level-{users}.json").write_text(json.dumps(job), encoding="utf-8")
            before = group_usage(pgids)
            drive_run = subprocess.run(
                [
                    str(TOOL_PYTHON),
                    str(Path(__file__).resolve()),
                    "--drive",
                    str(work / f"level-{users}.json"),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            after = group_usage(pgids)
            if drive_run.returncode != 0 or not Path(job["results"]).stat().st_size:
                sys.stderr.write(drive_run.stdout.decode(errors="replace")[-3000:])
                raise SystemExit(f"locust failed at {users} users (its output above)")
            records = [
                json.loads(line)
                for line in Path(job["results"]).read_text("utf-8").splitlines()
                if line.strip()
            ]
            seconds = float(Path(job["results"] + ".end").read_text())
            figures = level_figures(records, seconds, before, after)
            result["levels"][str(users)] = figures
            print(
                f"  {users:>2} conversations: {figures['messages']} msgs, "
                f"{figures['msg_s']:.2f} msg/s, p50 {_num(figures['p50'])} ms",
                flush=True,
            )
            if stack.dead():
                raise SystemExit(f"service(s) exited: {', '.join(stack.dead())}")
        question = sets["knowledge"][0]
        replies = [_post(url, "load-long", question, fallback_mark) for _ in range(args.turns)]
        latencies = [ms for ms, _ in replies]
        outcomes: dict[str, int] = {}
        for _, outcome in replies:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        result["long"] = {"question": question, "turns": {}, "outcomes": outcomes}
        for turn in LONG_TURNS:
            if turn > args.turns:
                continue
            lo, hi = turn_window(turn, args.turns)
            result["long"]["turns"][str(turn)] = {
                "ms": pct(latencies[lo - 1 : hi], 0.5),
                "from": lo,
                "to": hi,
            }
        print(f"  long conversation: {args.turns} turns", flush=True)
    finally:
        stack.stop()
    out.write_text(json.dumps(result))
    return 0


# --- the two versions (runs in .venv, this checkout) --------------------------------


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def baseline_tree(rev: str) -> Path:
    """A git worktree of ``rev`` under var/tools, sharing this checkout's model files."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    tree = ROOT / "var" / "tools" / f"load-baseline-{sha[:7]}"
    if not (tree / ".git").exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        _git("worktree", "add", "--detach", str(tree), sha)
    var = tree / "var"
    var.mkdir(exist_ok=True)
    for shared in ("models", "cache"):  # read-only use: the model and the safety cache
        link = var / shared
        if not link.exists():
            link.symlink_to(ROOT / "var" / shared)
    # bot.stack passes the API token as "--auth-token TOKEN", which Rasa's argparse
    # rejects when the token starts with "-" (token_urlsafe can): give this private
    # copy a hex token instead.
    token = var / "rasa-api.token"
    if not token.exists() or token.read_text().startswith("-"):
        import secrets

        token.write_text(secrets.token_hex(24))
        token.chmod(0o600)
    return tree


def run_version(
    root: Path,
    label: str,
    args: argparse.Namespace,
    seconds: float,
    turns: int,
    anyway: bool = False,
) -> dict:
    """Measure one checkout in a child process whose imports come from ``root``."""
    if str(ROOT) not in sys.path:  # the parent process: this checkout's settings
        sys.path.insert(0, str(ROOT))
    from bot.settings import OFFLINE_ENV

    out = Path(tempfile.mkdtemp(prefix="senbot-load-")) / "result.json"
    env = dict(
        os.environ,
        **OFFLINE_ENV,
        PYTHONPATH=str(root),
        SENBOT_VAR_DIR=str(root / "var"),
        SENBOT_INDEX_DIR=str(ROOT / "var" / "index"),
    )
    print(f"{label}: {root}", flush=True)
    subprocess.run(
        [
            str(VENV_PYTHON),
            str(Path(__file__).resolve()),
            "--measure",
            "--out",
            str(out),
            "--seconds",
            str(seconds),
            "--turns",
            str(turns),
            *(["--anyway"] if anyway else []),
        ],
        cwd=root,
        env=env,
        check=True,
    )
    result = json.loads(out.read_text())
    if "skipped" in result:
        print(f"{label}: skipped: {result['skipped']}", flush=True)
    return result


def compare(args: argparse.Namespace) -> int:
    if not TOOL_PYTHON.exists():
        raise SystemExit(f"{TOOL_PYTHON} is missing: run `make load` (it creates it).")
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    turns = args.turns or (50 if args.quick else 200)
    head = _git("rev-parse", "--short", "HEAD")
    dirty = " + changes" if _git("status", "--porcelain", "--untracked-files=no") else ""
    columns: list[tuple[str, dict | None]] = []
    print(
        f"load: levels {', '.join(map(str, LEVELS))} for {seconds:g} s each, "
        f"one conversation of {turns} turns; seed {SEED}; {os.cpu_count()} cores; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    if args.baseline:
        tree = baseline_tree(args.baseline)
        sha = _git("rev-parse", "--short", "HEAD", cwd=tree)
        result = run_version(tree, f"baseline {sha}", args, seconds, turns, args.baseline_anyway)
        if "skipped" not in result:
            columns.append((f"baseline {sha}", result))
    # This checkout runs on var/'s model even when its training inputs have changed
    # since (the line above the table says so): it is what `make run` would serve
    # until someone retrains, and this benchmark never trains.
    result = run_version(ROOT, f"this checkout {head}{dirty}", args, seconds, turns, anyway=True)
    columns.append((f"{head}{dirty}", result))
    print()
    print(side_by_side(columns))
    print(
        f"(CPU of the load generator, on the same cores, is not counted; "
        f"load average at the end {os.getloadavg()[0]:.2f})"
    )
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="15 s a level and 50 turns (default 60 s and 200)"
    )
    parser.add_argument("--baseline", metavar="REV", help="also measure this revision")
    parser.add_argument(
        "--baseline-anyway",
        action="store_true",
        help="measure the baseline on this checkout's model and index even when its "
        "training inputs differ (e.g. files moved, behaviour the same)",
    )
    parser.add_argument("--seconds", type=float, default=0.0, help="seconds a level")
    parser.add_argument("--turns", type=int, default=0, help="turns of the long one")
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # the locust part
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--anyway", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.drive:
        return drive(args.drive)
    if args.measure:
        sys.path.insert(0, os.getcwd())  # this version's bot/, not ROOT's
        return measure(args)
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
