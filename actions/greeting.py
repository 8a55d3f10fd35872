"""Greeting that names the service: proves the action server round trip works."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

SERVICE_NAME = "the SEN Support helper"


class ActionGreet(Action):
    """Say hello, name the service and say what it can help with."""

    def name(self) -> str:
        return "action_greet"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text=(
                f"Hello, I'm {SERVICE_NAME}. I answer questions about special "
                "educational needs (SEN) support at school in England, and I can tell "
                "you who to talk to. What would you like to know?"
            )
        )
        return []
