"""Topic intents map to real articles, and a confident topic keeps the answer on it."""

from __future__ import annotations

import pytest
import yaml

from bot.knowledge.search import Retriever
from bot.knowledge.topics import TOPICS, answer_for, question_for
from bot.settings import REPO_ROOT

DOMAIN = yaml.safe_load((REPO_ROOT / "domain.yml").read_text())


def test_every_topic_is_an_intent_and_its_articles_exist():
    for topic in TOPICS.values():
        assert topic.intent in DOMAIN["intents"]
        assert topic.articles
        for slug in topic.articles:
            assert (REPO_ROOT / "knowledge" / "articles" / f"{slug}.md").exists(), slug


def test_a_button_press_searches_the_topic_question():
    assert question_for("funding", "/funding") == TOPICS["funding"].question
    assert question_for("funding", "who pays?") == "who pays?"


@pytest.fixture(scope="module")
def retriever(knowledge_index):
    return Retriever(knowledge_index)


def test_a_confident_topic_keeps_the_answer_on_its_articles(retriever):
    question = "my son is refusing to go to school and is so low"
    answer = answer_for(retriever, question, "mental_health_help", 0.95, None)
    assert not answer.abstained
    assert answer.hit.slug in TOPICS["mental_health_help"].articles


def test_an_unsure_classifier_leaves_retrieval_alone(retriever):
    question = "what time does the football kick off tonight"
    assert answer_for(retriever, question, "funding", 0.3, None) == retriever.answer(question)
