"""The knowledge action answers with a source, or says honestly it is unsure."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import DID_YOU_MEAN, UNSURE_REPLY, ActionAnswerFromKnowledge
from bot.knowledge.search import Retriever
from bot.records.review import ReviewLog


def tracker_saying(text: str, intent: str = "nlu_fallback", ranking=(), slots=None) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }
    return Tracker("parent", slots or {}, message, [], False, None, {}, "")


@pytest.fixture(scope="module")
def action(knowledge_index, tmp_path_factory):
    review = ReviewLog(tmp_path_factory.mktemp("review") / "feedback.sqlite")
    return ActionAnswerFromKnowledge(retriever=Retriever(knowledge_index), review=review)


def test_answer_then_source_then_was_it_helpful(action):
    dispatcher = CollectingDispatcher()
    events = action.run(
        dispatcher,
        tracker_saying("how do we ask for an EHC needs assessment?", "request_ehc_assessment"),
        {},
    )
    answer, source, helpful = dispatcher.messages
    assert answer["text"]
    assert source["text"].startswith("Source: ")
    assert source["custom"]["source"]["title"] in source["text"]
    assert helpful["response"] == "utter_ask_helpful"
    article = {e["name"]: e["value"] for e in events}["last_article"]
    assert article == source["custom"]["source"]["article"]


def test_a_topic_button_searches_the_topic_question_not_the_payload(action):
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker_saying("/funding", "funding"), {})
    assert dispatcher.messages[1]["custom"]["source"]["article"] == "funding-elements"


def test_unrelated_question_gets_the_unsure_reply_and_a_person(action):
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker_saying("what time does the football kick off tonight"), {})
    (message,) = dispatcher.messages
    assert message["response"] == UNSURE_REPLY
    assert [b["payload"] for b in message["buttons"]] == ["/talk_to_someone"]


def test_unsure_with_guesses_asks_did_you_mean(action):
    dispatcher = CollectingDispatcher()
    tracker = tracker_saying(
        "kick off tonight",
        ranking=[
            ("nlu_fallback", 0.4),
            ("funding", 0.3),
            ("out_of_scope", 0.2),
            ("senco_role", 0.1),
        ],
    )
    action.run(dispatcher, tracker, {})
    (message,) = dispatcher.messages
    assert message["response"] == DID_YOU_MEAN
    assert [b["payload"] for b in message["buttons"]] == [
        "/funding",
        "/senco_role",
        "/talk_to_someone",
    ]


def test_an_unsure_message_far_from_everything_says_what_the_assistant_is_for(action):
    # No topic in the classifier's mind and nothing near it in the articles: "I can
    # only help with SEN ...", not "Could you put it another way?".
    dispatcher = CollectingDispatcher()
    tracker = tracker_saying(
        "what time does the big supermarket in penzance shut tonight",
        ranking=[("nlu_fallback", 0.4), ("inform_area", 0.3), ("out_of_scope", 0.25)],
    )
    action.run(dispatcher, tracker, {})
    (message,) = dispatcher.messages
    assert message["response"] == "utter_out_of_scope"


def test_the_area_slot_steers_to_local_facts(action):
    question = "who can give schools specialist SEN advice and training"
    oxford = ActionAnswerFromKnowledge(action.retriever)
    dispatcher = CollectingDispatcher()
    oxford.run(dispatcher, tracker_saying(question, "senss", slots={"area": "oxfordshire"}), {})
    assert dispatcher.messages[1]["custom"]["source"]["area"] in ("Oxfordshire", "England")


def test_an_old_page_is_flagged_and_a_page_with_an_address_is_linked(action):
    dispatcher = CollectingDispatcher()
    action.run(
        dispatcher, tracker_saying("Is SEN the same as a disability?", "sen_vs_disability"), {}
    )
    source = dispatcher.messages[1]
    assert source["custom"]["source"]["article"] == "sen-and-disability"
    assert source["custom"]["source"]["date"] == "2018-03-08"
    assert source["custom"]["source"]["caveat"] == "page from 2018: check it is still current"
    assert source["text"].endswith(" (page from 2018: check it is still current)")

    dispatcher = CollectingDispatcher()
    action.run(
        dispatcher,
        tracker_saying(
            "how many weeks does the council have to decide whether to do an EHC needs assessment?",
            "request_ehc_assessment",
        ),
        {},
    )
    source = dispatcher.messages[1]
    url = "https://legislation.gov.uk/uksi/2014/1530/regulation/5/data.htm"
    assert source["custom"]["source"]["article"] == "ehc-needs-assessment-timescales"
    assert source["custom"]["source"]["url"] == url
    assert source["custom"]["source"]["caveat"] == ""  # regulations in force
    assert source["text"].endswith(f" {url}")


def test_a_question_that_also_asks_for_someone_to_come_along_gets_the_answer_then_sendias(action):
    dispatcher = CollectingDispatcher()
    tracker = tracker_saying(
        "my daughter's EHC plan annual review is next month and I always feel outnumbered "
        "in those meetings. Who has to be invited? Can someone independent come with me?"
    )
    events = action.run(dispatcher, tracker, {})
    texts = [m.get("text") or "" for m in dispatcher.messages]
    assert "invited" in texts[0].lower() or "head teacher" in texts[0].lower()
    assert texts[1].startswith("Source:")
    assert any("SENDIAS" in t for t in texts[2:])
    # No "Was this helpful?" on top of the area question.
    assert all(m.get("response") != "utter_ask_helpful" for m in dispatcher.messages)
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"}[
        "handoff_kind"
    ] == "sendias"


BRICK_WALL = (
    'they just keep saying "all children are treated the same here" whenever i ask for '
    "adjustments for my daughters dyslexia. its like talking to a brick wall. next step??"
)


def test_a_message_nothing_answers_that_the_classifier_heard_as_a_complaint_gets_that_route(
    action,
):
    dispatcher = CollectingDispatcher()
    heard = [("nlu_fallback", 0.4), ("complain", 0.25), ("diagnosis_needed", 0.15)]
    oxfordshire = {"area": "oxfordshire"}
    action.run(dispatcher, tracker_saying(BRICK_WALL, ranking=heard, slots=oxfordshire), {})
    texts = [m.get("text") or "" for m in dispatcher.messages]
    assert any("complaints policy" in t for t in texts)
    assert not any(t.startswith("Source:") for t in texts)
    # Heard as another topic, the same message is not taken for a complaint.
    dispatcher = CollectingDispatcher()
    heard = [("nlu_fallback", 0.4), ("diagnosis_needed", 0.25), ("complain", 0.15)]
    action.run(dispatcher, tracker_saying(BRICK_WALL, ranking=heard, slots=oxfordshire), {})
    assert not any("complaints policy" in (m.get("text") or "") for m in dispatcher.messages)


def test_a_question_heard_as_a_complaint_that_the_articles_answer_closely_is_answered(action):
    dispatcher = CollectingDispatcher()
    heard = [("nlu_fallback", 0.4), ("complain", 0.3), ("request_ehc_assessment", 0.2)]
    tracker = tracker_saying(
        "council said no to me. what do i do first", ranking=heard, slots={"area": "oxfordshire"}
    )
    action.run(dispatcher, tracker, {})
    texts = [m.get("text") or "" for m in dispatcher.messages]
    assert texts[1].startswith("Source:")
    assert not any("complaints policy" in t for t in texts)


def test_a_complaint_the_articles_answer_closely_gets_the_answer_then_the_route(action):
    dispatcher = CollectingDispatcher()
    tracker = tracker_saying(
        "its been 10 weeks since we sent the ehc request and not a peep from the council. "
        "can i complain to someone?",
        "request_ehc_assessment",
        slots={"area": "oxfordshire"},
    )
    events = action.run(dispatcher, tracker, {})
    texts = [m.get("text") or "" for m in dispatcher.messages]
    assert "time limit" in texts[0].lower() or "complain" in texts[0].lower()
    assert dispatcher.messages[1]["custom"]["source"]["article"] == (
        "ehc-needs-assessment-timescales"
    )
    assert any("council's SEND service" in t for t in texts[2:])  # then the route
    assert {e["name"]: e["value"] for e in events}["last_article"] == (
        "ehc-needs-assessment-timescales"
    )


def test_a_complaint_about_a_subject_no_article_covers_names_it_not_the_school_route(action):
    dispatcher = CollectingDispatcher()
    tracker = tracker_saying(
        "I want to complain about the parking charges at the hospital. We are there every "
        "week for my son's appointments. Who do I write to?",
        "complain",
        slots={"area": "oxfordshire"},
    )
    action.run(dispatcher, tracker, {})
    (message,) = dispatcher.messages
    assert message["response"] == "utter_not_covered"
    assert "parking" in message["subject"]
