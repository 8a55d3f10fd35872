"""The knowledge action records what it answered and declined for the review report."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import ActionAnswerFromKnowledge
from bot.knowledge.search import Retriever
from bot.records.review import ReviewLog


def tracker_saying(text: str, intent: str = "nlu_fallback") -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "intent_ranking": []}
    return Tracker("parent-42", {}, message, [], False, None, {}, "")


@pytest.fixture
def review(tmp_path):
    return ReviewLog(tmp_path / "feedback.sqlite")


@pytest.fixture
def action(knowledge_index, review):
    return ActionAnswerFromKnowledge(retriever=Retriever(knowledge_index), review=review)


def test_a_declined_question_is_kept_redacted_with_a_hashed_conversation(action, review):
    action.run(
        CollectingDispatcher(),
        tracker_saying("my name is Jo Bloggs, email jo@example.com: when is the football on"),
        {},
    )
    (event,) = review.events()
    assert event.kind == "declined"
    assert "when is the football on" in event.question
    assert "Jo" not in event.question and "jo@example.com" not in event.question
    assert "[name]" in event.question and "[email]" in event.question
    with review._connect() as conn:
        (conversation,) = conn.execute("SELECT conversation FROM answer_events").fetchone()
    assert conversation != "parent-42" and len(conversation) == 16


def test_an_answer_is_counted_with_its_article_and_without_the_question(action, review):
    dispatcher = CollectingDispatcher()
    action.run(
        dispatcher,
        tracker_saying("how do we ask for an EHC needs assessment?", "request_ehc_assessment"),
        {},
    )
    (event,) = review.events()
    assert event.kind == "answered"
    assert event.article == dispatcher.messages[1]["custom"]["source"]["article"]
    assert event.question == ""


@pytest.mark.parametrize(
    ("question", "response", "reason"),
    [
        (
            "what will the weather be like in the lake district",
            "utter_out_of_scope",
            "out of scope",
        ),
        # car tax is a subject of knowledge/not_covered.yml: the reply names it
        ("how do i renew my car tax online", "utter_not_covered", "not covered"),
    ],
)
def test_an_out_of_scope_question_gets_the_decline_and_is_counted_once(
    action, review, question, response, reason
):
    # The staff report reads out-of-scope questions from the conversation store, so
    # the action does not record them a second time.
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker_saying(question, "out_of_scope"), {})
    (message,) = dispatcher.messages
    assert message["response"] == response
    assert message["custom"]["explanation"]["reason"] == reason
    assert review.events() == []


def test_an_out_of_scope_guess_on_a_question_the_knowledge_answers_closely_is_answered(
    action, review
):
    # The classifier put a misspelt SEN question out of scope; one section is close.
    dispatcher = CollectingDispatcher()
    question = "does my child need a diagnosis to get sen suport at school"
    action.run(dispatcher, tracker_saying(question, "out_of_scope"), {})
    answer, source, _ = dispatcher.messages
    assert "diagnosis" in answer["text"].lower()
    assert source["text"].startswith("Source: ")
    (event,) = review.events()
    assert event.kind == "answered"


def test_a_question_on_an_uncovered_subject_names_it_and_is_counted_as_declined(action, review):
    dispatcher = CollectingDispatcher()
    question = "will the council pay for a taxi to take my son to his special school"
    action.run(dispatcher, tracker_saying(question, "funding"), {})
    (message,) = dispatcher.messages
    assert message["response"] == "utter_not_covered"
    assert message["subject"] == "home-to-school transport"
    (event,) = review.events()
    assert event.kind == "declined" and "taxi" in event.question


def test_a_request_for_a_person_the_articles_cannot_answer_gets_sendias_not_unsure(action, review):
    dispatcher = CollectingDispatcher()
    question = (
        "i can't make sense of the paperwork school sends home, "
        "is there somebody who could go through it with me"
    )
    events = action.run(dispatcher, tracker_saying(question), {})
    texts = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert "SENDIAS" in texts
    assert all(
        m.get("response") not in ("utter_unsure", "utter_did_you_mean") for m in dispatcher.messages
    )
    # No area yet: it asks which, and remembers the request for the contact.
    assert {
        "event": "slot",
        "name": "handoff_kind",
        "value": "sendias",
        "timestamp": None,
    } in events
    (event,) = review.events()
    assert event.kind == "declined"
