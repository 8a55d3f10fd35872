"""A linear intent classifier over the sentence features, for Rasa 3.6.

Rasa's own :class:`LogisticRegressionClassifier` concatenates the raw sparse
sentence features (word and character n-gram *counts*, in the hundreds for a long
message) with the dense MiniLM sentence vector (length 1) and fits scikit-learn's
logistic regression at its default strength (``C=1``). The counts then swamp the
MiniLM vector, and the regularisation flattens every probability: on this project's
data most messages came out below the FallbackClassifier's 0.4, even when the top
intent was right (``benchmarks/nlu_compare.py``, 2026-12-06).

This component keeps Rasa's classifier (its training, ranking output and ``skops``
persistence) and changes two things, both set in ``config.yml``:

* each block of features is scaled to unit length before they are joined, so the
  words, the character n-grams and the MiniLM vector each count, and a long message
  weighs no more than a short one;
* ``C`` (the inverse regularisation strength) is a setting, chosen on validation
  splits of the training data (``benchmarks/nlu_compare.py --splits``), never on the
  held-out messages.

Unlike DIET it trains in seconds, gives the same model for the same data on every
machine (no random initialisation, no epochs) and does not move when a few examples
are added elsewhere: that stability is why it is here (docs/speed.md, issue 15 and 17).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.linear_model import LogisticRegression

STRENGTH = "C"


def _unit(row: Any) -> csr_matrix:
    """One feature block as a sparse row of length 1 (zeros stay zeros)."""
    matrix = csr_matrix(row, dtype=np.float64)
    norm = float(np.sqrt(matrix.multiply(matrix).sum()))
    return matrix / norm if norm > 0 else matrix


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """Logistic regression on unit-scaled sparse and dense sentence features."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's defaults plus ``C`` and more iterations (the problem is larger)."""
        return {
            **LogisticRegressionClassifier.get_default_config(),
            STRENGTH: 10.0,
            "max_iter": 2000,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        """Builds Rasa's classifier, then replaces its estimator with one using ``C``."""
        super().__init__(config, name, model_storage, resource)
        strength = self.config[STRENGTH]
        if not isinstance(strength, (int, float)) or strength <= 0:
            raise InvalidConfigException(f"{STRENGTH} must be a positive number, got {strength!r}")
        self.clf = LogisticRegression(
            C=float(strength),
            solver=self.config["solver"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
            tol=self.config["tol"],
            random_state=self.config["random_state"],
        )

    def _create_X(self, messages: list[Message]) -> csr_matrix:  # noqa: N802 (Rasa's name)
        """One row per message: every sparse and dense sentence block at unit length."""
        rows = []
        for message in messages:
            blocks = sorted(
                (
                    (features.origin, _unit(features.features))
                    for features in message.features
                    if features.attribute == TEXT and features.type == FEATURE_TYPE_SENTENCE
                ),
                key=lambda pair: pair[0],
            )
            rows.append(hstack([block for _, block in blocks]))
        return vstack(rows).tocsr()
