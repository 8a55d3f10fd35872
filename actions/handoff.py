"""Hand over to a person: SENDIAS for impartial help, or the right complaints route."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.contacts import normalise_area
from bot.handoff import AREA_BUTTONS, AREA_QUESTION, COMPLAINT, SENDIAS, handoff

KIND_OF_INTENT = {"talk_to_someone": SENDIAS, "complain": COMPLAINT}


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
    """SENDIAS for the person's area, or who to complain to and how."""

    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = KIND_OF_INTENT.get(intent or "") or tracker.get_slot("handoff_kind") or SENDIAS
        text = tracker.latest_message.get("text") or ""
        return say_handoff(dispatcher, kind, text, normalise_area(tracker.get_slot("area")))


class ActionAreaNoted(Action):
    """The person said where they live: use it, and finish a handoff that waited for it."""

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
        place = area.capitalize() if area != "elsewhere" else "your area"
        dispatcher.utter_message(
            text=f"Thanks. I'll use {place} when the answer depends on where you live. "
            "What would you like to know?"
        )
        return events
