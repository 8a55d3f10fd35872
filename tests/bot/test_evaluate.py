"""python -m bot.knowledge.evaluate compares dense, BM25 and hybrid search per area."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.knowledge import evaluate
from bot.knowledge.search import MODES, Retriever
from bot.settings import REPO_ROOT

CASES = yaml.safe_load((REPO_ROOT / "evaluation" / "retrieval_cases.yml").read_text())
AREAS = evaluate.article_areas(REPO_ROOT / "knowledge" / "articles")


@pytest.fixture(scope="module")
def report(knowledge_index):
    return evaluate.evaluate(Retriever(knowledge_index), CASES, AREAS)


def test_hybrid_finds_the_right_article_in_the_top_three_for_nine_in_ten(report):
    hybrid = report.scores["hybrid"][evaluate.OVERALL]
    assert hybrid.n == len(CASES["cases"]) >= 80
    assert hybrid.recall_at_3 >= 0.90, report.misses["hybrid"]
    assert 0 < hybrid.mrr_at_10 <= 1


def test_report_has_all_three_modes_and_every_area(report):
    text = evaluate.format_report(report)
    for mode in ("hybrid", "dense", "bm25"):
        assert mode in text
    expected_areas = {AREAS[c["expect"]] for c in CASES["cases"]}
    assert expected_areas == {"England", "Oxfordshire", "Buckinghamshire", "Cornwall"}
    for area in expected_areas:
        assert any(line.startswith(area) for line in text.splitlines()), area
        for mode in MODES:
            assert report.scores[mode][area].n > 0


def test_modes_really_differ_and_unrelated_questions_are_declined(report):
    overall = {mode: report.scores[mode][evaluate.OVERALL] for mode in MODES}
    assert len({(s.found_in_3, round(s.reciprocal, 6)) for s in overall.values()}) > 1
    assert report.unrelated == len(CASES["unrelated"])
    assert report.decline_rate >= 0.85
    assert "unrelated questions declined" in evaluate.format_report(report)


def test_every_expected_article_exists():
    missing = {c["expect"] for c in CASES["cases"]} - set(AREAS)
    assert not missing


def test_command_line_without_an_index_says_how_to_build_one(tmp_path, capsys):
    assert evaluate.main(["--index-dir", str(tmp_path / "none")]) == 2
    assert "python -m bot.knowledge.ingest" in capsys.readouterr().err


def test_an_unknown_mode_is_a_clear_error(knowledge_index):
    with pytest.raises(ValueError, match="hybrid"):
        Retriever(knowledge_index).search("funding", mode="fuzzy")


def test_the_answer_evaluation_counts_safety_replies_to_ordinary_questions():
    import re

    from bot.knowledge.answer_eval import Case, Outcome, Scores

    def outcome(kind: str, article: str | None, text: str) -> Outcome:
        gold = {"article": article, "heading": "h"} if article else None
        case = Case("c", "q", "parent", None, kind, gold, re.compile("x"), None)
        return Outcome(case, text, declined=False)

    scores = Scores(
        [
            outcome("answer", "funding-elements", "You deserve help right now. Call 999."),
            outcome(
                "answer", "funding-elements", "Before anything else, I want to check you're OK."
            ),
            outcome("unrelated", None, "[check_in] "),
            outcome("answer", "funding-elements", "Extra help is paid for in three parts."),
            # A question about urgent help may rightly get the routes: not a false alarm.
            outcome("answer", "mental-health-urgent-help", "You deserve help right now."),
            outcome("routing", None, "You deserve help right now."),
        ]
    )
    assert scores.alarms() == (1, 2, 4)


def test_every_answer_case_names_a_section_the_articles_have_and_its_fact_is_there():
    # A heading renamed in an article (a knowledge-currency pass added "in 2018")
    # left 24 golds pointing at nothing: their passage recall could never count.
    from collections import defaultdict

    from bot.knowledge.answer_eval import EXTRA_SETS, HALVES, load_cases
    from bot.knowledge.articles import passages_of, sources

    sections: dict[tuple[str, str], str] = defaultdict(str)
    for path in sources([REPO_ROOT / "knowledge" / "articles"]):
        for passage in passages_of(path):
            sections[(path.stem, passage.heading)] += " " + passage.text
    wrong = []
    for half in (*HALVES, *EXTRA_SETS):
        for case in load_cases(half):
            if case.gold is None or not case.fact:
                continue
            text = sections.get((case.gold["article"], case.gold["heading"]))
            if text is None or not re.search(case.fact, text):
                wrong.append(case.id)
    assert wrong == []
