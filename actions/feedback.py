"""Store whether an answer helped, so the people who run the assistant can improve it.

The replies are the domain's responses ``utter_feedback_thanks`` and
``utter_feedback_sorry`` (with its SENDIAS button).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.records.feedback import FeedbackStore

_NEGATIVE = re.compile(
    r"\b(no|not|didn'?t|did not|doesn'?t|wasn'?t|useless|rubbish|wrong|unhelpful|bad"
    r"|confus\w*|pointless)\b",
    re.I,
)
THANKS = "utter_feedback_thanks"
SORRY = "utter_feedback_sorry"  # with a button to talk to a person (SENDIAS)


def helpful_from(tracker: Tracker) -> bool:
    """Yes or no, from the button, the intent, or the words typed."""
    value = (tracker.get_slot("helpful") or "").lower()
    if value in ("yes", "no"):
        return value == "yes"
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent in ("affirm", "deny"):
        return intent == "affirm"
    return not _NEGATIVE.search(tracker.latest_message.get("text") or "")


class ActionRecordFeedback(Action):
    """Record yes/no for the last answer, then thank, or offer another way."""

    def __init__(self, store: FeedbackStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return "action_record_feedback"

    @property
    def store(self) -> FeedbackStore:
        if self._store is None:
            self._store = FeedbackStore()
        return self._store

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        helpful = helpful_from(tracker)
        article = tracker.get_slot("last_article")
        if article:
            comment = tracker.latest_message.get("text") or ""
            self.store.record(
                conversation=tracker.sender_id,
                question=tracker.get_slot("last_question") or "",
                article=article,
                helpful=helpful,
                comment=None if comment.startswith("/") else comment,
            )
        dispatcher.utter_message(response=THANKS if helpful else SORRY)
        return [SlotSet("helpful", None), SlotSet("last_article", None)]
