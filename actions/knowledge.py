"""Answer a question from the knowledge index, naming the source, or say we're unsure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    DECLINED_COMPLAINT,
    SENDIAS_BUTTON,
    SURE,
    about_something_else,
    fits_complaint,
    ranked_intents,
    say_answer,
    say_handoff,
)
from bot.knowledge import areas
from bot.knowledge.answers import (
    OUT_OF_SCOPE,
    OUT_OF_SCOPE_REPLY,
    UNSURE_REPLY,
    answer,
    asking_sentence,
    decline_response,
    explanation,
)
from bot.knowledge.embeddings import VECTOR_KEY, vector_from_text
from bot.knowledge.search import Retriever
from bot.knowledge.topics import TOPICS, question_for
from bot.people.contacts import normalise_area
from bot.people.handoff import (
    COMPLAINT,
    SENDIAS,
    is_complaint,
    wants_someone,
)
from bot.records.review import ANSWERED, CONTACTS_ARTICLE, DECLINED, ReviewLog
from bot.safety.data import RISK_WORDS_KEY, SAFETY_KEY

# The replies are responses in domain.yml; the topic guesses and the SENDIAS button
# are added to them here, in that order.
DID_YOU_MEAN = "utter_did_you_mean"
# "Was this helpful?" with its yes / no buttons: a response in domain.yml.
ASK_HELPFUL = "utter_ask_helpful"
# The kind question with the help routes (data/rules/safety.yml answers yes and no).
CHECK_IN = "utter_check_in"
# A message the classifier heard as a complaint is answered from the articles only
# when they come this close; otherwise it gets the complaint route. On the tuning
# answer sets (2026-12-07) the complaints it reached came to 0.413, 0.432 and 0.474
# (a TA's sessions not happening, a quiet space in the plan ignored, a booster group
# nobody mentioned), each answered with an unrelated passage; the answerable
# question heard that way ("council said no to me. what do i do first") to 0.831.
COMPLAINT_ANSWER_FROM = 0.50


def heard_as_complaint(tracker: Tracker) -> bool:
    """True when the classifier's likeliest intent, below its threshold or not, is
    ``complain`` ("School ignored the agreed support AGAIN ... What now?")."""
    return ranked_intents(tracker)[:1] == ["complain"]


def guesses(tracker: Tracker, limit: int = 2) -> list[dict[str, str]]:
    """Buttons for the topics the classifier thought most likely."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    topics = [
        TOPICS[r["name"]]
        for r in ranking
        if r.get("name") in TOPICS and r.get("confidence", 0) >= 0.05
    ]
    return [{"title": t.title, "payload": f"/{t.intent}"} for t in topics[:limit]]


class ActionAnswerFromKnowledge(Action):
    """Short answer from the best passage, its source and a helpful? question.

    When retrieval is not sure it says so and offers the likeliest topics as
    buttons and a person to talk to (the two-stage fallback).
    """

    def __init__(self, retriever: Retriever | None = None, review: ReviewLog | None = None) -> None:
        self._retriever = retriever
        self._review = review

    def name(self) -> str:
        return "action_answer_from_knowledge"

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:  # lazy: the index loads on the first question
            self._retriever = Retriever()
        return self._retriever

    @property
    def review(self) -> ReviewLog:
        """Where answered and declined questions are recorded for the review report."""
        if self._review is None:
            self._review = ReviewLog()
        return self._review

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        intent = tracker.latest_message.get("intent") or {}
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        question = question_for(name, tracker.latest_message.get("text") or "")
        area_key = normalise_area(tracker.get_slot("area"))
        area = areas.name_of(area_key)
        # The featurizer's vector of what the person typed, unless the question is
        # another text (a topic button's question).
        typed = question == (tracker.latest_message.get("text") or "").strip()
        vector = vector_from_text(tracker.latest_message.get(VECTOR_KEY)) if typed else None
        reply = answer(self.retriever, question, name, confidence, area, vector=vector)
        if is_complaint(question) or heard_as_complaint(tracker):
            reply = about_something_else(reply, question, area_key)
        explained = explanation(reply, name, confidence, area)
        if (
            not question.startswith("/")
            and is_complaint(question)
            and reply.evidence.get("reason") not in DECLINED_COMPLAINT
        ):
            # A complaint gets the complaint route, whatever topic the classifier
            # heard in it; first the answer when the articles answer it closely ("its
            # been 10 weeks since we sent the ehc request ... can i complain to
            # someone?": what to do when the council misses a time limit).
            events: list[dict[str, Any]] = [SlotSet("last_article", None)]
            if (
                reply.kind == "knowledge"
                and reply.hit is not None
                and reply.evidence.get("best_similarity", 0.0) >= SURE
                and "answered_sentence" not in reply.evidence
                and fits_complaint(reply, question, area_key)
            ):
                self.review.record_event(
                    ANSWERED, conversation=tracker.sender_id, article=reply.hit.slug
                )
                say_answer(dispatcher, reply, explained)
                events = [SlotSet("last_article", reply.hit.slug)]
            return events + say_handoff(dispatcher, COMPLAINT, question, area_key)
        if reply.kind == "contact":
            self.review.record_event(
                ANSWERED, conversation=tracker.sender_id, article=CONTACTS_ARTICLE
            )
            dispatcher.utter_message(
                text=reply.text,
                json_message={"contacts": reply.contacts, "explanation": explained},
            )
            return [SlotSet("last_article", None)]
        if (reply.declined or reply.hit is None) and (
            tracker.latest_message.get(SAFETY_KEY) or {}
        ).get(RISK_WORDS_KEY):
            # A message with a risk word (nlu_components/crisis.py) never gets "Did you
            # mean..." or "I can only help with...": the check-in goes out instead, as
            # its own action, so the rules for yes and no to it apply. Not recorded for
            # the review report, as no crisis message is.
            return [SlotSet("last_article", None), FollowupAction(CHECK_IN)]
        weak = (
            reply.declined
            or reply.hit is None
            or "answered_sentence" in reply.evidence
            or reply.evidence.get("best_similarity", 0.0) < COMPLAINT_ANSWER_FROM
        )
        if (
            weak
            and reply.evidence.get("reason") not in DECLINED_COMPLAINT
            and heard_as_complaint(tracker)
        ):
            # Nothing answers the whole message closely and the classifier heard a
            # complaint ("they just keep saying all children are treated the same
            # here ... its like talking to a brick wall. next step??"): the
            # complaint route, not an answer to one sentence of it or "I'm not sure
            # I understood".
            return [
                SlotSet("last_article", None),
                *say_handoff(dispatcher, COMPLAINT, question, area_key),
            ]
        if reply.declined or reply.hit is None:
            # Recorded, so staff see what people asked that went unanswered; not when
            # out of scope: the staff report reads those from the conversation store
            # (bot/records/review.py), redacted there.
            if name != OUT_OF_SCOPE:
                self.review.record_event(
                    DECLINED, conversation=tracker.sender_id, question=question
                )
            response = decline_response(reply, name)
            buttons = guesses(tracker)
            if response == OUT_OF_SCOPE_REPLY and name != OUT_OF_SCOPE and buttons:
                # Far from every passage, but the classifier has a topic in mind.
                response = UNSURE_REPLY
            if (
                reply.evidence.get("reason") not in DECLINED_COMPLAINT
                and name != OUT_OF_SCOPE
                and wants_someone(question)
            ):
                # "is there someone who can explain these letters": nothing in the
                # articles answers it, but SENDIAS (impartial advice) is the person.
                return [
                    SlotSet("last_article", None),
                    *say_handoff(dispatcher, SENDIAS, question, area_key),
                ]
            if response == UNSURE_REPLY:
                dispatcher.utter_message(
                    response=DID_YOU_MEAN if buttons else UNSURE_REPLY,
                    buttons=buttons + [SENDIAS_BUTTON],
                    json_message={"explanation": explained},
                )
            else:  # a subject no article covers (named), or out of scope
                dispatcher.utter_message(
                    response=response,
                    subject=reply.evidence.get("subject", ""),
                    json_message={"explanation": explained},
                )
            return [SlotSet("last_article", None)]
        hit = reply.hit
        self.review.record_event(ANSWERED, conversation=tracker.sender_id, article=hit.slug)
        say_answer(dispatcher, reply, explained)
        events = [SlotSet("last_article", hit.slug), SlotSet("last_question", question[:500])]
        if wants_someone(asking_sentence(question) or question):
            # "... Can someone independent come with me?": the answer, then SENDIAS.
            return events + say_handoff(dispatcher, SENDIAS, question, area_key)
        dispatcher.utter_message(response=ASK_HELPFUL)
        return events
