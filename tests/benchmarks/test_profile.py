"""The pure parts of benchmarks/profile.py: naming stages, the rest, the docs block."""

from __future__ import annotations

from pathlib import Path

from benchmarks.profile import (
    ACTION,
    END,
    IN_TOTAL,
    OTHER,
    OTHER_CORE,
    OTHER_NLU,
    START,
    STORE_READ,
    TOTAL,
    growth_table,
    node_label,
    summarise,
    with_other,
    write_docs,
)


def test_graph_nodes_are_named_by_their_component() -> None:
    assert node_label("run_nlu_components.crisis.CrisisCheck11") == "crisis check"
    assert (
        node_label("run_nlu_components.minilm_featurizer.MiniLMFeaturizer5") == "MiniLM featurizer"
    )
    assert node_label("run_DIETClassifier6") == "intent classifier"
    assert (
        node_label("run_nlu_components.linear_intent.LinearIntentClassifier6")
        == "intent classifier"
    )
    assert node_label("run_FallbackClassifier9") == "FallbackClassifier"
    assert node_label("run_TEDPolicy2") == "policy: TEDPolicy"
    assert node_label("run_CountVectorsFeaturizer3") == OTHER_NLU
    assert node_label("domain_provider") == OTHER_CORE


def test_other_is_what_the_stages_leave_of_the_total() -> None:
    stages = with_other({"intent classifier": 10.0, ACTION: 50.0, STORE_READ: 5.0}, 80.0)
    assert stages[TOTAL] == 80.0 and stages[OTHER] == 15.0
    assert OTHER not in IN_TOTAL and TOTAL not in IN_TOTAL
    rows = {r["stage"]: r for r in summarise([stages, with_other({ACTION: 20.0}, 20.0)])}
    assert rows[ACTION]["runs"] == 2 and rows[ACTION]["share"] == 70 / 100
    assert rows["intent classifier"]["mean"] == 5.0  # over every message


def test_growth_table_shows_the_turns_reached() -> None:
    turns = [with_other({STORE_READ: float(n)}, 10.0 + n) for n in range(1, 61)]
    table = growth_table(turns, [float(n) for n in range(1, 61)])
    assert "turn 50 (turns 48-52)" in table and "turn 200" not in table
    read = next(line for line in table.splitlines() if line.startswith(f"| {STORE_READ}"))
    assert read.split("|")[-2].strip() == "+48.0"  # median of 48-52 minus that of 1-3


def test_write_docs_replaces_only_the_marked_block(tmp_path: Path) -> None:
    page = tmp_path / "speed.md"
    page.write_text(f"# Speed\n\nbefore\n\n{START}\nold\n{END}\n\nafter\n")
    write_docs("new table", page)
    assert page.read_text() == f"# Speed\n\nbefore\n\n{START}\nnew table\n{END}\n\nafter\n"
