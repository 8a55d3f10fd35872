"""The learned decline: questions unlike any the articles answer are declined, and the
stored model belongs to the search model that scores them."""

from __future__ import annotations

import pytest
import yaml

from bot.knowledge import adapted, decline
from bot.knowledge.answers import answer
from bot.knowledge.search import Retriever


@pytest.fixture(scope="module")
def retriever(knowledge_index):
    return Retriever(knowledge_index)


def test_the_stored_model_was_trained_on_this_search_models_scores():
    data = yaml.safe_load(decline.MODEL_FILE.read_text(encoding="utf-8"))
    assert list(data["coefficients"]) == list(decline.FEATURES)
    # A new search model (changed articles, written questions or recipe) scores on
    # another scale: `python -m bot.knowledge.decline` trains the rule again.
    assert data["search_model"] == (adapted.fingerprint() if adapted.wanted() else "base")
    assert 0.5 <= data["threshold"] < 1.0


def test_a_question_the_articles_only_touch_is_declined_and_says_why(retriever):
    question = "how big can a class be in year 2"
    reply = answer(retriever, question, None, 0.0, None)
    assert reply.declined, reply.evidence
    assert reply.evidence["reason"] == decline.REASON
    assert reply.evidence["learned"]["probability"] >= decline.model().threshold
    # The hand-set rules alone answer it, from a section about something else.
    with decline.disabled():
        assert not answer(retriever, question, None, 0.0, None).declined


@pytest.mark.parametrize(
    "question",
    [
        "does my son need a diagnosis to get help",
        "who pays for the extra help at school?",
        "how long does the council have to decide whether to do an EHC needs assessment",
    ],
)
def test_questions_the_articles_answer_are_still_answered(retriever, question):
    reply = answer(retriever, question, None, 0.0, None)
    assert reply.kind == "knowledge", reply.evidence
    assert reply.evidence["learned"]["probability"] < decline.model().threshold


def test_features_of_a_question_with_no_candidates_are_all_defined():
    values = decline.features([], 0.0, 0.2, False, "", 0.5)
    assert set(values) == set(decline.FEATURES)
    assert decline.model().probability(values) > 0.5  # nothing found: unrelated


def test_the_meaning_of_a_question_alone_tells_sen_support_from_other_subjects(retriever):
    # Not the scores against the articles: the question's vector alone, so a subject
    # no list names still reads as unrelated.
    on, off = retriever.embed_texts(
        [
            "can the school refuse to ask for an ehc needs assessment",
            "what time does the big tesco in truro shut on a sunday",
        ]
    )
    assert decline.meaning(on) < 0.5 < decline.meaning(off)
    with decline.disabled():  # training: the stored model has no say
        assert decline.meaning(off) == 0.5
