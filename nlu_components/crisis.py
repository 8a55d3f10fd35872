"""The crisis check as a Rasa 3.6 NLU component: it has the last word on the intent.

Placed last in config.yml's pipeline (after DIETClassifier and FallbackClassifier),
it runs :func:`bot.safety.check` on every message and, when the message needs
crisis or safeguarding routes, sets the intent to ``crisis`` or ``disclosure`` with
confidence 1.0, whatever the classifier said. A low classifier confidence can
therefore never turn a crisis into ``nlu_fallback``. The rules in
data/rules/safety.yml answer those intents with fixed responses, so the reply
needs neither the action server nor the knowledge base.

When the check finds nothing but the classifier itself said crisis or disclosure,
its answer stands if it is confident (``keep_classifier_at``, 0.8): a false alarm is
better than a miss. Below that, the classifier's guesses were false alarms on
ordinary messages ("the deadline is killing me" 0.43, "there's no point going to
the meeting" 0.70, "i don't want to" 0.76), so the message goes to
``nlu_fallback``, which the knowledge base answers.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import safety
from bot.embeddings import use_threads

logger = logging.getLogger(__name__)

SAFETY_KEY = "safety"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class CrisisCheck(GraphComponent, IntentClassifier):
    """Overrides the intent with ``crisis`` or ``disclosure`` when the check fires."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """``semantic``: also run the MiniLM similarity layer (on by default).

        ``keep_classifier_at``: the classifier's own crisis/disclosure guess stands
        at or above this confidence even when the check found nothing.

        ``torch_threads``: PyTorch threads for MiniLM in the Rasa server. One
        sentence gains nothing from two threads, and on this 2-core machine under
        load two threads made one embedding p50 281 ms / p95 1525 ms against
        38 ms / 74 ms with one (40 runs each, 2026-11-23).
        """
        return {"semantic": True, "keep_classifier_at": 0.8, "torch_threads": 1}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.semantic = bool(config.get("semantic", True))
        self.keep_classifier_at = float(config.get("keep_classifier_at", 0.8))
        threads = int(config.get("torch_threads") or 0)
        if self.semantic and threads > 0:
            use_threads(threads)
        if self.semantic:
            # Once per process, when Rasa loads the model: no message waits for it.
            safety.warm_up()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisCheck":
        """Creates the component (it has nothing to train or persist)."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets the intent of each message that needs crisis or safeguarding routes."""
        for message in messages:
            text = message.get(TEXT) or ""
            try:
                result = safety.check(text, semantic=self.semantic)
            except Exception:  # noqa: BLE001 - the model failing must not hide a crisis
                logger.exception("Semantic crisis check failed; using the patterns only")
                result = safety.check(text, semantic=False)
            message.set(
                SAFETY_KEY,
                {"kind": result.kind, "layer": result.layer,
                 "evidence": result.evidence, "score": round(result.score, 3)},
                add_to_output=True,
            )
            if not result.flagged:
                self._demote_unsure_classifier(message)
                continue
            logger.info("Safety check: %s (%s) %s", result.kind, result.layer, result.evidence)
            intent = {"name": result.kind, "confidence": 1.0}
            ranking = [
                r for r in (message.get(INTENT_RANKING_KEY) or [])
                if r.get("name") != result.kind
            ]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        return messages

    def _demote_unsure_classifier(self, message: Message) -> None:
        """An unsure classifier guess of crisis/disclosure becomes nlu_fallback."""
        intent = message.get(INTENT) or {}
        if intent.get("name") not in (safety.CRISIS, safety.DISCLOSURE):
            return
        confidence = float(intent.get("confidence") or 0.0)
        if confidence >= self.keep_classifier_at:
            return
        fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": confidence}
        message.set(INTENT, fallback, add_to_output=True)
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
