"""The search model: MiniLM adapted to the articles by the questions written under them."""

from __future__ import annotations

import shutil

import pytest

from bot.knowledge import adapted
from bot.knowledge.answer_eval import load_cases
from bot.settings import REPO_ROOT

KNOWLEDGE = REPO_ROOT / "knowledge"


def test_every_written_question_trains_it_spelled_out_beside_its_section():
    pairs = adapted.training_pairs(KNOWLEDGE)
    questions = [q for q, _ in pairs]
    assert len(pairs) > 800
    # "LA" and "EHCP" are written out as search embeds them
    assert not any(" LA " in f" {q} " for q in questions)
    texts = {text for _, text in pairs}
    diagnosis = [
        t for q, t in pairs if q == "Does my child need a diagnosis to get help at school?"
    ]
    assert diagnosis and "No diagnosis is needed for SEN Support" in diagnosis[0]
    assert len(texts) > 150  # most sections have questions of their own


def test_a_changed_question_retrains_it(tmp_path):
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    before = adapted.fingerprint(copy)
    questions = copy / "questions" / "diagnosis-not-needed.yml"
    questions.write_text(
        questions.read_text().replace(
            '  - "Does my child need a diagnosis to get help at school?"',
            '  - "Does my child need a diagnosis to get help at school?"\n'
            '  - "does he need to be diagnosed first"',
        )
    )
    adapted.fingerprint.cache_clear()  # read once per process, as the services do
    assert adapted.fingerprint(copy) != before


def test_the_setting_picks_the_bundled_model_or_refuses_a_typo(monkeypatch):
    monkeypatch.setenv(adapted.SETTING, "base")
    assert adapted.built_folder() is None
    monkeypatch.setenv(adapted.SETTING, "adapteed")
    with pytest.raises(ValueError, match="adapted"):
        adapted.wanted()


def test_it_finds_the_right_section_for_questions_it_never_saw():
    # tuning_more.yml was written from the articles alone, without reading the
    # written questions; none of its questions trains the model.
    from bot.knowledge.embeddings import get_model, get_search_model

    if adapted.built_folder() is None:
        pytest.skip("the adapted model is not built (python -m bot.stack prepare)")
    cases = [c for c in load_cases("tuning_more") if c.gold and c.fact]
    (_, bundled), (_, tuned) = (
        adapted.dense_recall(get_model(), cases),
        adapted.dense_recall(get_search_model(), cases),
    )
    # 2026-12-07: 121 and 149 of 157
    assert tuned >= 0.9 * len(cases)
    assert tuned > bundled + 15


def test_a_process_that_only_searches_loads_one_model(knowledge_index):
    # The action server answers from the index: with the adapted model built, it
    # must not hold the bundled MiniLM in memory beside it.
    import subprocess
    import sys

    if adapted.built_folder() is None:
        pytest.skip("the adapted model is not built (python -m bot.stack prepare)")
    script = (
        "from pathlib import Path\n"
        "from bot.knowledge import embeddings\n"
        "from bot.knowledge.search import Retriever\n"
        f"Retriever(Path({str(knowledge_index)!r})).search('who pays for sen support')\n"
        "print(embeddings.get_model.cache_info().currsize,"
        " embeddings.get_search_model.cache_info().currsize)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert done.stdout.split()[-2:] == ["0", "1"]
