"""The linear intent classifier: each feature block counts, whatever the message length."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix

from nlu_components.linear_intent import LinearIntentClassifier


def _classifier(tmp_path, **config) -> LinearIntentClassifier:
    storage = LocalModelStorage(tmp_path)
    return LinearIntentClassifier(
        {**LinearIntentClassifier.get_default_config(), **config},
        "linear",
        storage,
        Resource("linear"),
    )


def _message(words: list[float], meaning: list[float], intent: str | None = None) -> Message:
    message = Message(data={"text": "x", **({"intent": intent} if intent else {})})
    message.add_features(
        Features(csr_matrix(np.array([words])), "sentence", "text", "CountVectorsFeaturizer")
    )
    message.add_features(Features(np.array([meaning]), "sentence", "text", "MiniLMFeaturizer"))
    return message


def test_every_block_is_scaled_to_unit_length(tmp_path):
    row = _classifier(tmp_path)._create_X([_message([30.0, 40.0, 0.0], [0.6, 0.8])]).toarray()[0]
    assert np.linalg.norm(row[:3]) == pytest.approx(1.0)
    assert np.linalg.norm(row[3:]) == pytest.approx(1.0)


def test_a_long_message_weighs_no_more_than_a_short_one(tmp_path):
    classifier = _classifier(tmp_path)
    short = classifier._create_X([_message([1.0, 2.0, 0.0], [0.6, 0.8])]).toarray()
    long = classifier._create_X([_message([10.0, 20.0, 0.0], [0.6, 0.8])]).toarray()
    np.testing.assert_allclose(short, long)


def test_the_meaning_decides_when_the_word_counts_are_noise(tmp_path):
    # Word counts that say nothing about the intent, and a small sentence vector
    # that does: unscaled, a long message's counts swamp the vector.
    rng = np.random.default_rng(0)
    examples = []
    for index in range(40):
        intent = "funding" if index % 2 else "greet"
        meaning = [1.0, 0.0] if intent == "funding" else [0.0, 1.0]
        examples.append(_message(list(rng.integers(50, 500, size=6)), meaning, intent))
    classifier = _classifier(tmp_path)
    classifier.train(TrainingData(examples))
    probe = _message([9000.0, 200.0, 7000.0, 100.0, 8000.0, 300.0], [0.9, 0.1])
    classifier.process([probe])
    assert probe.get("intent")["name"] == "funding"
    assert probe.get("intent")["confidence"] > 0.6


@pytest.mark.parametrize("strength", [0, -1, "strong"])
def test_a_strength_that_is_not_a_positive_number_is_refused(tmp_path, strength):
    with pytest.raises(InvalidConfigException):
        _classifier(tmp_path, C=strength)
