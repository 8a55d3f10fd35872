"""Answer a question from the knowledge index, naming the source, or say we're unsure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.retrieval import Retriever

UNSURE_REPLY = (
    "I'm not sure I have a good answer to that. Could you put it another way? I can "
    "help with questions about SEN Support at school, EHC needs assessments, funding "
    "and where to get help. For advice from a person, search your council's local "
    "offer for \"SENDIAS\"."
)


class ActionAnswerFromKnowledge(Action):
    """Short answer from the best passage, then its source; abstains honestly."""

    def __init__(self, retriever: Retriever | None = None) -> None:
        self._retriever = retriever

    def name(self) -> str:
        return "action_answer_from_knowledge"

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:  # lazy: the index loads on the first question
            self._retriever = Retriever()
        return self._retriever

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        question = tracker.latest_message.get("text") or ""
        answer = self.retriever.answer(question)
        if answer.abstained or answer.hit is None:
            dispatcher.utter_message(text=UNSURE_REPLY)
            return []
        hit = answer.hit
        dispatcher.utter_message(text=answer.text)
        source = {
            "title": hit.source_title,
            "publisher": hit.source_publisher,
            "area": hit.area,
            "article": hit.slug,
        }
        dispatcher.utter_message(
            text=f"Source: {hit.source_title} - {hit.source_publisher} ({hit.area})",
            json_message={"source": source},
        )
        return []
