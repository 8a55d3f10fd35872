"""The crisis check as a Rasa 3.6 NLU component: it has the last word on the intent.

Placed last in config.yml's pipeline (after the intent classifier and FallbackClassifier),
it runs :func:`bot.safety.check` on every message and, when the message needs
crisis or safeguarding routes, sets the intent to ``crisis`` or ``disclosure`` with
confidence 1.0, whatever the classifier said; a message with a risk word that does
not reach the crisis threshold gets ``check_in`` (a kind question with the routes).
A ``goodbye`` intent never stands for a message that carries a risk word: it becomes
``check_in`` too. An unsure (``nlu_fallback``) or ``out_of_scope`` one goes on to the
knowledge action with the risk words in the parse data (``safety.risk_words``): the
action answers if the knowledge base can, and sends the check-in where it would
otherwise say "Did you mean..." or "I can only help with..." (with the action
server down, the fixed reply of ``channels/never_silent.py`` carries the routes).

At ``rasa train`` it fits the learned layer of :mod:`bot.safety` on the tuning half
(:func:`bot.safety.learned.tuning_examples`) and keeps it in the model, so the Rasa server
loads it with the model; ``fingerprint_addon`` retrains it when the tuning half
changes. A low classifier confidence can
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
import re
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.embeddings import use_threads
from bot.safety import detector as safety
from bot.safety import learned as safety_learned
from bot.safety.data import RISK_WORDS_KEY, SAFETY_KEY

logger = logging.getLogger(__name__)


LEARNED_FILE = "learned"
# Intents whose decline must not answer a message carrying a risk word: the knowledge
# action sends the check-in instead of its unsure or out-of-scope reply.
_DECLINE_MAY_FOLLOW = (DEFAULT_NLU_FALLBACK_INTENT_NAME, "out_of_scope")
# An intent whose fixed reply must not answer such a message at all.
_NOT_FOR_RISK = ("goodbye",)
# "thanks, that's all, bye": the word "bye" alone (risk category goodbye_letters)
# does not turn a thank-you-and-goodbye into a check-in, whatever the classifier
# made of it. Any other risk word, or the detector itself, still does.
_THANKS_BYE = re.compile(r"\b(?:thanks|thank\s+you|thankyou|thx|ta|cheers)\b", re.I)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class CrisisCheck(GraphComponent, IntentClassifier):
    """Overrides the intent with ``crisis`` or ``disclosure`` when the check fires."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``semantic``: also run the MiniLM similarity layer (on by default).

        ``keep_classifier_at``: the classifier's own crisis/disclosure guess stands
        at or above this confidence even when the check found nothing.

        ``torch_threads``: PyTorch threads for MiniLM in the Rasa server. One
        sentence gains nothing from two threads, and on this 2-core machine under
        load two threads made one embedding p50 281 ms / p95 1525 ms against
        38 ms / 74 ms with one (40 runs each, 2026-11-23).
        """
        return {"semantic": True, "keep_classifier_at": 0.8, "torch_threads": 1}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        learned: safety_learned.LearnedLayer | None = None,
    ) -> None:
        self.semantic = bool(config.get("semantic", True))
        self.keep_classifier_at = float(config.get("keep_classifier_at", 0.8))
        self._model_storage = model_storage
        self._resource = resource
        threads = int(config.get("torch_threads") or 0)
        if self.semantic and threads > 0:
            use_threads(threads)
        if learned is not None:
            safety_learned.use_learned(learned)
        if self.semantic and (learned is not None or model_storage is None):
            # Once per process, when Rasa loads the model: no message waits for it.
            safety.warm_up()

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        """The tuning half is read from files, so its content is in the fingerprint."""
        return safety_learned.tuning_fingerprint()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisCheck:
        """Creates the component before training (the learned layer comes in train)."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the learned layer on the tuning half and keeps it with the model."""
        layer = safety_learned.fit_learned(*safety_learned.tuning_examples())
        logger.info("Crisis check learned layer: %s", layer.report)
        assert self._model_storage is not None and self._resource is not None
        with self._model_storage.write_to(self._resource) as directory:
            layer.save(Path(directory) / LEARNED_FILE)
        safety_learned.use_learned(layer)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CrisisCheck:
        """Loads the learned layer trained with the model."""
        learned = None
        try:
            with model_storage.read_from(resource) as directory:
                learned = safety_learned.LearnedLayer.load(Path(directory) / LEARNED_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("No learned crisis layer in the model; fitting it now")
        return cls(config, model_storage, resource, learned)

    def process(self, messages: list[Message]) -> list[Message]:
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
                {
                    "kind": result.kind,
                    "layer": result.layer,
                    "evidence": result.evidence,
                    "score": round(result.score, 3),
                },
                add_to_output=True,
            )
            if not result.flagged:
                self._demote_unsure_classifier(message)
                intent = (message.get(INTENT) or {}).get("name")
                risky = intent in (*_DECLINE_MAY_FOLLOW, *_NOT_FOR_RISK) and (
                    safety.carries_risk_word(text, result.learned_crisis)
                )
                words = safety.risk_words(text) if risky else []
                if risky and intent in _DECLINE_MAY_FOLLOW:
                    message.set(
                        SAFETY_KEY,
                        {**message.get(SAFETY_KEY), RISK_WORDS_KEY: words},
                        add_to_output=True,
                    )
                elif risky:
                    only_bye = all(w.startswith("goodbye_letters") for w in words)
                    if not (only_bye and (intent == "goodbye" or _THANKS_BYE.search(text))):
                        result = safety.SafetyResult(
                            safety.CHECK_IN,
                            "risk_word",
                            f"{', '.join(words)} (classifier: {intent})",
                            1.0,
                        )
                        message.set(
                            SAFETY_KEY,
                            {
                                "kind": result.kind,
                                "layer": result.layer,
                                "evidence": result.evidence,
                                "score": 1.0,
                            },
                            add_to_output=True,
                        )
            intent_now = message.get(INTENT) or {}
            if (
                result.kind == safety.CHECK_IN
                and intent_now.get("name") in (safety.CRISIS, safety.DISCLOSURE)
                and float(intent_now.get("confidence") or 0.0) >= self.keep_classifier_at
            ):
                # A confident classifier crisis is a stronger reply than the check-in.
                continue
            if not result.flagged:
                continue
            # Kind and layer only: the words that matched stay out of the log.
            logger.info("Safety check: %s (%s)", result.kind, result.layer)
            intent = {"name": result.kind, "confidence": 1.0}
            ranking = [
                r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != result.kind
            ]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        return messages

    def _demote_unsure_classifier(self, message: Message) -> None:
        """An unsure classifier guess of crisis/disclosure becomes nlu_fallback."""
        intent = message.get(INTENT) or {}
        if intent.get("name") not in (safety.CRISIS, safety.DISCLOSURE, safety.CHECK_IN):
            return
        confidence = float(intent.get("confidence") or 0.0)
        if confidence >= self.keep_classifier_at:
            return
        fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": confidence}
        message.set(INTENT, fallback, add_to_output=True)
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
