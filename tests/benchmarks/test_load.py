"""The pure parts of benchmarks/load.py: the seeded mix, /proc parsing, the table."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.load import (
    LEVELS,
    build_mix,
    classify,
    group_usage,
    level_figures,
    message_sets,
    parse_stat,
    side_by_side,
    turn_window,
)

MARK = "Sorry, I can't look that up right now"


def test_the_mix_is_seeded_and_drawn_from_the_test_sets() -> None:
    sets = message_sets()
    first, again = build_mix(50, sets), build_mix(50, sets)
    assert first == again
    assert build_mix(50, sets, seed=1) != first
    every = {text for texts in sets.values() for text in texts}
    kinds = {kind for conversation in first for kind, _ in conversation}
    assert {"greeting", "knowledge", "handoff", "area", "out_of_scope", "crisis", "thanks"} <= kinds
    for conversation in first:
        assert 4 <= len(conversation) <= 12
        assert conversation[0][0] == "greeting" and conversation[-1][0] == "thanks"
        assert all(text in every for _, text in conversation)
        for i, (kind, _) in enumerate(conversation):
            if kind == "handoff":
                assert conversation[i + 1][0] == "area"


def test_stat_parsing_counts_from_the_last_bracket() -> None:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime ...; a command name may hold ") ".
    fields = [
        "S",
        "1",
        "4242",
        "4242",
        "0",
        "-1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "150",
        "50",
        "7",
        "3",
        "20",
        "0",
    ]
    assert parse_stat("4243 (python) x (2) " + " ".join(fields)) == (4242, 210)


def test_group_usage_sums_each_process_group(tmp_path: Path) -> None:
    def proc(pid: int, pgrp: int, ticks: int, rss_kb: int) -> None:
        folder = tmp_path / str(pid)
        folder.mkdir()
        fields = ["S", "1", str(pgrp), str(pgrp)] + ["0"] * 7 + [str(ticks), "0", "0", "0"]
        (folder / "stat").write_text(f"{pid} (p) " + " ".join(fields))
        (folder / "status").write_text(f"Name:\tp\nVmRSS:\t{rss_kb} kB\n")

    proc(10, 10, 100, 2048)
    proc(11, 10, 50, 1024)
    proc(20, 20, 30, 512)
    proc(30, 30, 999, 999)  # another group: not counted
    (tmp_path / "self").mkdir()
    usage = group_usage({"rasa": 10, "widget": 20}, proc=tmp_path)
    ticks = __import__("os").sysconf("SC_CLK_TCK")
    assert usage["rasa"] == {"cpu_s": 150 / ticks, "rss_mb": 3.0, "procs": 2}
    assert usage["widget"]["procs"] == 1 and usage["widget"]["rss_mb"] == 0.5


def test_classify_counts_the_fixed_reply_apart_from_errors() -> None:
    def body(text: str) -> str:
        return json.dumps([{"recipient_id": "x", "text": text}])

    assert classify(200, body("SEN Support is ..."), "knowledge", MARK) == "ok"
    assert classify(200, body(MARK + ". Call 999"), "knowledge", MARK) == "unavailable"
    assert classify(200, "[]", "greeting", MARK) == "empty"
    assert classify(500, "oops", "greeting", MARK) == "http_500"
    assert classify(0, "", "greeting", MARK, "TimeoutError timed out") == "timeout"
    assert classify(0, "", "greeting", MARK, "ConnectionRefusedError") == "connection"
    assert classify(200, body("Please talk to someone"), "crisis", MARK) == "crisis_without_999"


def test_figures_and_the_side_by_side_table() -> None:
    records = [
        {"ms": float(ms), "kind": "knowledge", "turn": 1, "outcome": "ok"} for ms in range(1, 101)
    ]
    records.append({"ms": 30000.0, "kind": "crisis", "turn": 2, "outcome": "timeout"})
    before = {s: {"cpu_s": 1.0, "rss_mb": 100.0} for s in ("rasa", "actions", "widget")}
    after = {s: {"cpu_s": 2.01, "rss_mb": 200.0} for s in ("rasa", "actions", "widget")}
    figures = level_figures(records, 10.0, before, after)
    assert figures["messages"] == 101 and figures["timeouts"] == 1
    # every reply counts, a timeout with its wait: nearest rank over 101 values
    assert figures["p50"] == 51.0 and figures["p99"] == 100.0
    assert figures["crisis_p95"] == 30000.0
    assert round(figures["cpu_ms_all"]) == 30  # 3 x 1.01 s over 101 messages
    result = {
        "levels": {str(n): figures for n in LEVELS},
        "long": {"turns": {"1": {"ms": 120.0, "from": 1, "to": 3}}},
    }
    table = side_by_side([("baseline abc", result), ("def", result)]).splitlines()
    assert "baseline abc" in table[0] and table[0].rstrip().endswith("def")
    msg_s = next(line for line in table if line.strip().startswith("msg/s"))
    assert msg_s.split()[1:] == ["10.10", "10.10"]
    real = next(line for line in table if "not counting fixed" in line)
    assert real.split()[-2:] == ["10.00", "10.00"]  # the timeout is not a real reply
    assert any("turn 200" in line and "not reached" in line for line in table)
    assert turn_window(1, 200) == (1, 3) and turn_window(200, 200) == (198, 200)
