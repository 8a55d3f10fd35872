"""The MiniLM featurizer gives Rasa dense features it can train and predict on.

These run the real bundled all-MiniLM-L6-v2 model and Rasa's own tokenizer.
"""

from __future__ import annotations

import numpy as np
import pytest
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.minilm_featurizer import MiniLMFeaturizer

DIM = 384


@pytest.fixture(scope="module")
def tokenizer() -> WhitespaceTokenizer:
    return WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())


@pytest.fixture(scope="module")
def featurizer() -> MiniLMFeaturizer:
    return MiniLMFeaturizer(MiniLMFeaturizer.get_default_config(), "minilm")


def featurize(tokenizer, featurizer, *texts: str) -> list[Message]:
    messages = [Message(data={TEXT: text}) for text in texts]
    tokenizer.process(messages)
    featurizer.process(messages)
    return messages


def sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features(TEXT)
    return sentence.features[0]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_features_have_one_row_per_token_and_one_sentence_row(tokenizer, featurizer):
    (message,) = featurize(tokenizer, featurizer, "what does the senco actually do?")
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence.features.shape == (len(message.get("text_tokens")), DIM) == (6, DIM)
    assert sentence.features.shape == (1, DIM)
    assert {f.origin for f in message.features} == {"minilm"}
    # every token got real information, and the sentence vector is unit length
    assert np.all(np.linalg.norm(sequence.features, axis=1) > 0)
    assert np.linalg.norm(sentence.features) == pytest.approx(1.0, abs=1e-5)


def test_messages_that_mean_the_same_are_closer_than_unrelated_ones(tokenizer, featurizer):
    senco, special_needs_teacher, bins = featurize(
        tokenizer,
        featurizer,
        "what does the senco do",
        "what is the job of the special educational needs coordinator",
        "when do the bins get collected",
    )
    related = cosine(sentence_vector(senco), sentence_vector(special_needs_teacher))
    unrelated = cosine(sentence_vector(senco), sentence_vector(bins))
    assert related > unrelated + 0.2


def test_the_same_word_gets_similar_token_rows_in_different_messages(tokenizer, featurizer):
    first, second = featurize(
        tokenizer, featurizer, "my son needs an ehcp", "how long does an ehcp take"
    )
    ehcp_a = first.get_dense_features(TEXT)[0].features[4]
    ehcp_b = second.get_dense_features(TEXT)[0].features[4]
    son = first.get_dense_features(TEXT)[0].features[1]
    assert cosine(ehcp_a, ehcp_b) > cosine(ehcp_a, son)


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_is_left_without_features_and_does_not_crash(tokenizer, featurizer, text):
    (message,) = featurize(tokenizer, featurizer, text)
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None and sentence is None


def test_a_message_longer_than_the_model_limit_still_lines_up(tokenizer, featurizer):
    words = ["worried"] * 600
    (message,) = featurize(tokenizer, featurizer, " ".join(words))
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence.features.shape == (600, DIM)
    # the model reads the first 256 word pieces; later tokens get empty rows
    assert np.linalg.norm(sequence.features[0]) > 0
    assert np.linalg.norm(sequence.features[-1]) == 0
    assert np.isfinite(sentence.features).all()


def test_training_data_in_one_batch_matches_one_message_at_a_time(tokenizer, featurizer):
    texts = ["hi", "can i complain about the school?", "my daughter has adhd 😟"]
    alone = [featurize(tokenizer, featurizer, text)[0] for text in texts]
    examples = [Message(data={TEXT: text, "intent": "x"}) for text in texts]
    data = TrainingData(training_examples=examples)
    tokenizer.process_training_data(data)
    featurizer.process_training_data(data)
    for single, batched in zip(alone, data.training_examples):
        np.testing.assert_allclose(sentence_vector(single), sentence_vector(batched), atol=1e-4)
        np.testing.assert_allclose(
            single.get_dense_features(TEXT)[0].features,
            batched.get_dense_features(TEXT)[0].features,
            atol=1e-4,
        )


@pytest.mark.parametrize(
    "key,value",
    [
        ("batch_size", 0),
        ("batch_size", -3),
        ("batch_size", "32"),
        ("batch_size", None),
        ("torch_threads", 0),
        ("torch_threads", "2"),
    ],
)
def test_a_bad_setting_is_refused_with_a_clear_error(key, value):
    config = {**MiniLMFeaturizer.get_default_config(), key: value}
    with pytest.raises(InvalidConfigException, match=key):
        MiniLMFeaturizer(config, "minilm")
