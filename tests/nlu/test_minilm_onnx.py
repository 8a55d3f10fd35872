"""The MiniLM featurizer's features are the same on ONNX Runtime as on PyTorch.

The trained Rasa model (DIET) was fitted on PyTorch's features; it stays valid
when the ONNX backend gives the same sentence and sequence features within 1e-4.
Rasa's side of the run-time promise is here too: featurizing and the crisis check
import neither torch nor sentence-transformers when the ONNX file exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from functools import lru_cache

import numpy as np
import pytest
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge import embeddings
from bot.settings import REPO_ROOT, get_settings
from nlu_components.minilm_featurizer import MiniLMFeaturizer

TEXTS = [
    "hi",
    "what does the senco actually do?",
    "   my son needs an ehcp   ",
    "can i complain about the school?",
    "my daughter has adhd 😟",
    "naïve café: Ma fille a besoin d'aide à l'école",
    "我的孩子需要特殊教育支持",
    "don't-know what's/going on... (really)",
    "\tthe\ttribunal\nsaid no",
    " ".join(["worried"] * 300),
]


@pytest.fixture(scope="module")
def backends() -> dict[str, object]:
    folder = embeddings.model_path()
    return {
        "onnx": embeddings.OnnxMiniLM(embeddings.export_onnx(get_settings()), folder, 1),
        "torch": embeddings.TorchMiniLM(folder, 1),
    }


def features(backend, monkeypatch) -> list[tuple[np.ndarray, np.ndarray]]:
    monkeypatch.setattr(embeddings, "get_model", lru_cache(maxsize=1)(lambda: backend))
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = MiniLMFeaturizer(MiniLMFeaturizer.get_default_config(), "minilm")
    examples = [Message(data={TEXT: text, "intent": "x"}) for text in TEXTS]
    data = TrainingData(training_examples=examples)
    tokenizer.process_training_data(data)
    featurizer.process_training_data(data)
    found = []
    for message in data.training_examples:
        sequence, sentence = message.get_dense_features(TEXT)
        found.append((sequence.features, sentence.features))
    return found


def test_sequence_and_sentence_features_equal_pytorch(backends, monkeypatch):
    ours = features(backends["onnx"], monkeypatch)
    reference = features(backends["torch"], monkeypatch)
    for text, (seq_a, sent_a), (seq_b, sent_b) in zip(TEXTS, ours, reference):
        assert seq_a.shape == seq_b.shape, text
        np.testing.assert_allclose(seq_a, seq_b, atol=1e-4, err_msg=text)
        np.testing.assert_allclose(sent_a, sent_b, atol=1e-4, err_msg=text)
        assert np.count_nonzero(np.linalg.norm(seq_a, axis=1)) == np.count_nonzero(
            np.linalg.norm(seq_b, axis=1)
        ), text


def test_rasa_features_messages_without_importing_torch(backends):
    script = textwrap.dedent(
        """
        import json, sys
        from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
        from rasa.shared.nlu.training_data.message import Message
        from bot.knowledge import embeddings
        from nlu_components.minilm_featurizer import MiniLMFeaturizer
        import nlu_components.crisis
        tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        featurizer = MiniLMFeaturizer(MiniLMFeaturizer.get_default_config(), "minilm")
        message = Message(data={"text": "what does the senco do"})
        tokenizer.process([message])
        featurizer.process([message])
        assert message.get_dense_features("text")[0] is not None
        print(json.dumps([embeddings.get_model().backend,
                          sorted(m for m in ("torch", "sentence_transformers")
                                 if m in sys.modules)]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
    )
    assert done.returncode == 0, done.stderr
    backend, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert backend == "onnx"
    assert imported == []
