"""The knowledge action answers with a source, or says honestly it is unsure."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import UNSURE_REPLY, ActionAnswerFromKnowledge
from bot.retrieval import Retriever


def tracker_saying(text: str) -> Tracker:
    return Tracker("parent", {}, {"text": text, "intent": {"name": "ask_question"}},
                   [], False, None, {}, "")


@pytest.fixture(scope="module")
def action(knowledge_index):
    return ActionAnswerFromKnowledge(retriever=Retriever(knowledge_index))


def test_answer_then_source(action):
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker_saying("how do we ask for an EHC needs assessment?"), {})
    answer, source = dispatcher.messages
    assert answer["text"]
    assert source["text"].startswith("Source: ")
    assert source["custom"]["source"]["title"] in source["text"]


def test_unrelated_question_gets_the_unsure_reply(action):
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker_saying("what time does the football kick off tonight"), {})
    assert [m["text"] for m in dispatcher.messages] == [UNSURE_REPLY]
