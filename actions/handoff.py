"""Hand over to a person: SENDIAS for impartial help, or the right complaints route."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge import areas
from bot.knowledge.answers import (
    FAR_BELOW,
    NOT_COVERED,
    OTHER_COMPLAINT,
    OUT_OF_SCOPE,
    OUT_OF_SCOPE_REPLY,
    UNSURE_REPLY,
    Reply,
    answer,
    decline_response,
    explanation,
)
from bot.knowledge.search import Retriever
from bot.knowledge.sources import source_json, source_line
from bot.knowledge.topics import TOPICS
from bot.people import replies
from bot.people.contacts import normalise_area
from bot.people.handoff import (
    AREA_BUTTONS,
    AREA_QUESTION,
    ASKS,
    COMPLAINT,
    SENDIAS,
    asks_a_question_too,
    complaint_target,
    handoff,
    wants_someone,
)

KIND_OF_INTENT = {"talk_to_someone": SENDIAS, "complain": COMPLAINT}
KNOWLEDGE_ACTION = "action_answer_from_knowledge"
# A message sent to a person that asks something the articles answer this closely
# gets the answer first, even in words of a request for a person ("if i tell the
# mediation person i dont want mediation how quick do i get the certificate").
# Chosen on the five tuning answer sets (2026-12-07): of the handoff messages
# asks_a_question_too leaves to the people alone, 5 of 6 answerable ones came to
# 0.55 or more (0.58 to 0.89; the sixth 0.50), and the 4 routing ones that did got
# an answer carrying what they asked for, before the people; from 0.45 a complaint
# ("the TA shouted at my autistic son ...") would get an unrelated answer first.
SURE = 0.55
# A complaint that names no school, council or SENSS is declined as out of scope when
# the question's meaning alone (bot/knowledge/decline.py) reads this surely as
# unrelated ("complaint about the pharmacy, they lost my prescription twice"). On the
# tuning sets (2026-12-07) such complaints about other services came to 0.95 to 1.00
# (one bus company's, 0.50), and the answerable message naming none of the three to
# 0.77 ("the gp keeps fobbing me off" about CAMHS). Complaints naming a school read
# up to 0.93 ("my sixth form promised me rest breaks"): they keep their route.
OTHER_COMPLAINT_FROM = 0.90
# The reasons a complaint is declined rather than given a complaints route.
DECLINED_COMPLAINT = (NOT_COVERED, OTHER_COMPLAINT)
# From this many words, a message naming a place that also asks something ("How
# often do the Aylesbury SENCo network meetings take place?") is a question, not
# only where the person lives.
QUESTION_WORDS = 5
# From this many, a question naming a place that nothing answers is declined rather
# than met with "What would you like to know?", which stays for a place and a request
# for help ("hi, we're in Truro, can you help me?": 7 words). On the tuning sets the
# questions of 10 words or more sent here that nothing answered were a swimming club,
# a surf report, two holidays and a request for independent advice.
LONG_QUESTION_WORDS = 10
SENDIAS_BUTTON = {"title": "Talk to a person (SENDIAS)", "payload": "/talk_to_someone"}


FALLBACK = "nlu_fallback"


def ranked_intents(tracker: Tracker, *leaving_out: str | None) -> list[str]:
    """The classifier's intents, likeliest first, without its fallback and these."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    skip = {FALLBACK, *leaving_out}
    return [r["name"] for r in ranking if r.get("name") and r["name"] not in skip]


def runner_up(tracker: Tracker) -> str | None:
    """The classifier's likeliest intent after the one it chose (and its fallback)."""
    chosen = (tracker.latest_message.get("intent") or {}).get("name")
    return next(iter(ranked_intents(tracker, chosen)), None)


def say_answer(dispatcher: CollectingDispatcher, reply: Reply, explained: dict) -> None:
    """The answer, then its source: the page's address and, for an old or
    unmaintained page, a short clause saying so, both as data (the widget links the
    title) and in the text."""
    assert reply.hit is not None
    dispatcher.utter_message(text=reply.text)
    dispatcher.utter_message(
        text=source_line(reply.hit),
        json_message={"source": source_json(reply.hit), "explanation": explained},
    )


def fits_complaint(reply: Reply, text: str, area: str | None) -> bool:
    """False for an answer about complaining to SENSS when the complaint is not about
    SENSS: that is no answer to a complaint about a school ("they put my daughter on
    a part time timetable ... i want to complain, who to?")."""
    return not (
        reply.hit is not None
        and reply.hit.slug in TOPICS["senss"].articles
        and complaint_target(text, area) != "senss"
    )


def about_something_else(reply: Reply, text: str, area: str | None) -> Reply:
    """A complaint's reply: declined naming the subject when the complaint names no
    school, council or SENSS but a subject no article covers ("I want to complain
    about how a police officer spoke to me", "the leisure centre pool won't let my
    son use the family changing room, who do I complain to?"), by its word alone,
    whatever the similarity (a complaint reads unlike the questions written for the
    subject); otherwise not declined for a subject at all: a complaint about a school,
    the council or SENSS gets their route even when it names one ("the school called
    the police on my son")."""
    named = reply.evidence.get("not_covered", {})
    uncovered = reply.evidence.get("reason") == NOT_COVERED or bool(named.get("named_by"))
    meaning = reply.evidence.get("learned", {}).get("features", {}).get("meaning", 0.0)
    if complaint_target(text, area) != "unclear":
        if reply.evidence.get("reason") == NOT_COVERED:
            return Reply(
                "declined",
                evidence=reply.evidence
                | {"reason": "a complaint about a school, the council or SENSS"},
            )
        return reply
    if not uncovered and meaning >= OTHER_COMPLAINT_FROM:
        return Reply("declined", evidence=reply.evidence | {"reason": OTHER_COMPLAINT})
    if not uncovered or reply.evidence.get("reason") == NOT_COVERED:
        return reply
    subject = named.get("subject", "")  # the subject the word names
    return Reply("declined", evidence=reply.evidence | {"reason": NOT_COVERED, "subject": subject})


def say_handoff(
    dispatcher: CollectingDispatcher, kind: str, text: str, area: str | None
) -> list[dict[str, Any]]:
    """Give the contacts, or ask for the area and remember what was asked."""
    result = handoff(kind, text, area)
    if result.needs_area:
        for message in result.messages:  # what the service is, before the question
            dispatcher.utter_message(text=message)
        dispatcher.utter_message(text=AREA_QUESTION, buttons=AREA_BUTTONS)
        return [SlotSet("handoff_kind", kind), SlotSet("handoff_text", text)]
    for message in result.messages:
        dispatcher.utter_message(text=message)
    return [SlotSet("handoff_kind", None), SlotSet("handoff_text", None)]


class ActionHandoff(Action):
    """SENDIAS for the person's area, or who to complain to and how.

    A message that asks about a topic as well ("do i have to do mediation before
    going to tribunal") first gets the knowledge answer with its source, when the
    answer function is sure enough to give one, and then the people; so does one
    worded as a request for a person that the articles answer closely (:data:`SURE`).
    A question for another service's phone, email or website gets those details.
    """

    def __init__(self, retriever: Retriever | None = None) -> None:
        self._retriever = retriever

    def name(self) -> str:
        return "action_handoff"

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:  # lazy: the index loads on the first question
            self._retriever = Retriever()
        return self._retriever

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        classified = tracker.latest_message.get("intent") or {}
        intent, confidence = classified.get("name"), float(classified.get("confidence") or 0.0)
        kind = KIND_OF_INTENT.get(intent or "") or tracker.get_slot("handoff_kind") or SENDIAS
        text = tracker.latest_message.get("text") or ""
        area = normalise_area(tracker.get_slot("area"))
        events: list[dict[str, Any]] = []
        if kind == KIND_OF_INTENT.get(intent or "") and len(text.split()) >= 4:
            # As an unsure topic: the stricter decline threshold applies.
            reply = answer(self.retriever, text, None, 0.0, areas.name_of(area))
            if kind == COMPLAINT:
                reply = about_something_else(reply, text, area)
            explained = explanation(reply, intent, confidence, areas.name_of(area))
            if reply.evidence.get("reason") in DECLINED_COMPLAINT:
                # "can you help me fill in the DLA form", "I want to complain about the
                # bins": no article covers that subject, and saying so is more honest
                # than offering a service for it or a school's complaint steps.
                dispatcher.utter_message(
                    response=decline_response(reply, intent),
                    subject=reply.evidence.get("subject", ""),
                    json_message={"explanation": explained},
                )
                return [SlotSet("handoff_kind", None), SlotSet("handoff_text", None)]
            sure = reply.evidence.get("best_similarity", 0.0) >= SURE
            if kind == COMPLAINT and "answered_sentence" in reply.evidence:
                # Only one sentence of the complaint is close to an article ("A
                # parent at our school wants to put in a formal complaint about ..."):
                # an answer to that sentence is beside the point.
                return say_handoff(dispatcher, kind, text, area)
            asked_for_details = kind == SENDIAS and reply.kind == "contact" and reply.contacts
            if not (sure or asked_for_details or asks_a_question_too(text, kind)):
                return say_handoff(dispatcher, kind, text, area)
            if reply.kind == "contact" and reply.contacts:
                # "Is there an email address I can use to send feedback to SENSS?":
                # that service's details (knowledge/contacts.yml) are the answer.
                dispatcher.utter_message(
                    text=reply.text,
                    json_message={"contacts": reply.contacts, "explanation": explained},
                )
                return [SlotSet("handoff_kind", None), SlotSet("handoff_text", None)]
            if kind == COMPLAINT and not fits_complaint(reply, text, area):
                return say_handoff(dispatcher, kind, text, area)
            if reply.kind == "knowledge" and reply.hit is not None:
                say_answer(dispatcher, reply, explained)
                events.append(SlotSet("last_article", reply.hit.slug))
        return events + say_handoff(dispatcher, kind, text, area)


class ActionAreaNoted(Action):
    """The person said where they live: use it, and finish a handoff that waited for it.

    A question that names a place ("How often are the specialist teacher sessions
    held in High Wycombe?") is answered with the area set, when the answer function
    has an answer for it; otherwise the area is noted and the person asked what
    they would like to know.
    """

    def __init__(self, retriever: Retriever | None = None) -> None:
        self._retriever = retriever

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:  # lazy: the index loads on the first question
            self._retriever = Retriever()
        return self._retriever

    def name(self) -> str:
        return "action_area_noted"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        said = [normalise_area(v) for v in tracker.get_latest_entity_values("area")]
        # A place we don't know ("we're in Leeds") is somewhere else.
        area = next((a for a in reversed(said) if a), "elsewhere")
        events: list[dict[str, Any]] = [SlotSet("area", area)]
        kind = tracker.get_slot("handoff_kind")
        if kind:
            return events + say_handoff(
                dispatcher, kind, tracker.get_slot("handoff_text") or "", area
            )
        text = (tracker.latest_message.get("text") or "").strip()
        place = areas.name_of(area) or replies.reply("area_unknown_place")
        # Asking in any clause: "we just moved to swansea, how does ... work in wales".
        clauses = re.split(r"[,;.!]\s*", text)
        asks = "?" in text or any(ASKS.search(c) for c in clauses)
        words = len(text.split())
        # Fewer words than a question, but one of them names a subject no article
        # covers ("school uniform grant cornwall", "blue badge bucks"): checked too.
        names_uncovered = words < QUESTION_WORDS and bool(self.retriever.named_subject(text)[1])
        if (QUESTION_WORDS <= words < LONG_QUESTION_WORDS and not asks) or names_uncovered:
            # Not a question, but about a subject no article covers ("Blue Badge for
            # my son, Aylesbury"): the knowledge action says so, the area kept.
            reply = answer(self.retriever, text, None, 0.0, areas.name_of(area))
            if reply.evidence.get("reason") == NOT_COVERED:
                return [*events, FollowupAction(KNOWLEDGE_ACTION)]
        # A long message is taken as a question even when it does not ask in so many
        # words ("A taxi from Oxford station to Headington charged me £38. That's a
        # rip off"): it gets an answer or a decline, not "What would you like to know?"
        if words >= LONG_QUESTION_WORDS or (words >= QUESTION_WORDS and asks):
            # When the classifier's other guess is out of scope ("Year 6 teacher in
            # Newquay here - can anyone recommend an outdoor activity centre"), the
            # question is answered only as closely as an out-of-scope one is.
            elsewhere = runner_up(tracker) == OUT_OF_SCOPE
            reply = answer(
                self.retriever, text, OUT_OF_SCOPE if elsewhere else None, 0.0, areas.name_of(area)
            )
            if (
                reply.kind in ("knowledge", "contact")
                or reply.evidence.get("reason") == NOT_COVERED
            ):
                # The knowledge action answers it, with the area just set (searching
                # once more: one place says answers, with their source and record),
                # or says it can't help with that subject ("how does the ALN system
                # work in wales").
                return [*events, FollowupAction(KNOWLEDGE_ACTION)]
            if elsewhere or len(text.split()) >= LONG_QUESTION_WORDS:
                # A question, not only where the person lives, and nothing answers it:
                # someone to talk to if that is what it asks for ("I'm a SENCo in
                # Aylesbury. A dad I work with wants independent advice from someone
                # ..."); otherwise the area is kept and the question declined, as out
                # of scope when the classifier's other guess is that ("Is the surf any
                # good in Newquay this weekend?") or it is far from every passage, as
                # unsure otherwise ("Are there any quiet, SEN-friendly swimming
                # lessons round Falmouth ...?").
                if wants_someone(text):
                    return events + say_handoff(dispatcher, SENDIAS, text, area)
                dispatcher.utter_message(text=replies.reply("area_kept", place=place))
                far = reply.evidence.get("best_similarity", 1.0) < FAR_BELOW
                if elsewhere or far:
                    dispatcher.utter_message(response=OUT_OF_SCOPE_REPLY)
                else:
                    dispatcher.utter_message(response=UNSURE_REPLY, buttons=[SENDIAS_BUTTON])
                return events
        dispatcher.utter_message(text=replies.reply("area_noted", place=place))
        return events
