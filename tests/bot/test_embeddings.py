"""MiniLM on ONNX Runtime gives sentence-transformers' vectors, without PyTorch.

These run the real bundled all-MiniLM-L6-v2: the ONNX file is the one ``prepare``
builds in ``var/models`` (built here when missing), PyTorch is the reference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import yaml

from bot.knowledge import embeddings
from bot.settings import REPO_ROOT, get_settings

SENTENCE = (
    "My daughter's EHCP review is next week and the school says they cannot meet"
    " her needs without more funding from the council."
)
LONG = " ".join([SENTENCE] * 20)
TEXTS: list[str] = yaml.safe_load(
    (REPO_ROOT / "evaluation" / "embedding_texts.yml").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def onnx_model() -> embeddings.OnnxMiniLM:
    folder = embeddings.model_path()
    path = embeddings.export_onnx(get_settings())
    return embeddings.OnnxMiniLM(path, folder, threads=1)


@pytest.fixture(scope="module")
def torch_model() -> embeddings.TorchMiniLM:
    return embeddings.TorchMiniLM(embeddings.model_path(), threads=1)


def test_the_texts_cover_what_the_model_truncates(onnx_model):
    assert len(TEXTS) >= 40
    pieces = len(onnx_model.tokenizer.encode(LONG).ids)
    assert pieces == onnx_model.max_seq_length == 256  # from sentence_bert_config.json


def test_onnx_sentence_vectors_match_pytorch(onnx_model, torch_model):
    ours = onnx_model.encode(TEXTS)
    reference = torch_model.encode(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), embeddings.DIMENSION)
    assert ours.dtype == np.float32
    cosines = (ours * reference).sum(axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, f"{TEXTS[worst]!r}: cosine {cosines[worst]}"
    # Below 1e-4 the trained Rasa model (DIET on these features) stays valid.
    assert np.abs(ours - reference).max() < 1e-4
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_one_at_a_time_equals_in_a_batch(onnx_model):
    batched = onnx_model.encode(TEXTS, batch_size=7)
    alone = np.vstack([onnx_model.encode([text]) for text in TEXTS])
    np.testing.assert_allclose(batched, alone, atol=1e-5)


def test_word_pieces_and_spans_match_pytorch(onnx_model, torch_model):
    ours = onnx_model.token_vectors(TEXTS, batch_size=8)
    reference = torch_model.token_vectors(TEXTS, batch_size=8)
    for text, a, b in zip(TEXTS, ours, reference):
        assert a.offsets == b.offsets, text
        assert a.pieces.shape == b.pieces.shape, text
        np.testing.assert_allclose(a.pieces, b.pieces, atol=1e-4, err_msg=text)
        np.testing.assert_allclose(a.sentence, b.sentence, atol=1e-5, err_msg=text)


def test_spans_point_into_the_text_as_given(onnx_model):
    text = "   what does the senco do"
    (vectors,) = onnx_model.token_vectors([text])
    words = [text[a:b] for a, b in vectors.offsets if b > a]
    assert "".join(words) == "whatdoesthesencodo"
    assert vectors.offsets[1] == (3, 7)  # "what", after the three spaces
    assert vectors.offsets[0] == vectors.offsets[-1] == (0, 0)  # [CLS], [SEP]


def test_the_onnx_file_is_named_by_the_model_and_found_by_get_model():
    path = embeddings.onnx_path()
    assert path.parent == get_settings().var_dir / "models"
    assert path.name.startswith("minilm-") and path.suffix == ".onnx"
    assert embeddings.onnx_path() == path  # the hash is stable


def test_without_the_onnx_file_it_falls_back_to_sentence_transformers(tmp_path, caplog):
    script = textwrap.dedent(
        """
        import json, logging, sys
        logging.basicConfig(level=logging.WARNING)
        from bot.knowledge import embeddings
        vector = embeddings.embed(["hello"])
        print(json.dumps([embeddings.get_model().backend, "torch" in sys.modules,
                          float(vector[0] @ vector[0])]))
        """
    )
    env = dict(
        os.environ,
        SENBOT_VAR_DIR=str(tmp_path),
        HF_HUB_OFFLINE="1",
        USE_TF="0",
        PYTHONPATH=str(REPO_ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    backend, torch_loaded, norm = json.loads(done.stdout.strip().splitlines()[-1])
    assert (backend, torch_loaded) == ("torch", True)
    assert norm == pytest.approx(1.0, abs=1e-5)
    assert done.stderr.count("No MiniLM ONNX file") == 1


def test_the_action_server_embeds_without_importing_torch(onnx_model):
    # What `python -m actions` imports (rasa_sdk and every action module), then
    # the warm-up search and one embedding, as the first question would.
    script = textwrap.dedent(
        """
        import json, os, sys
        os.environ.setdefault("USE_TF", "0")
        import rasa_sdk.__main__
        from rasa_sdk.executor import ActionExecutor
        import actions.__main__
        ActionExecutor().register_package("actions")  # imports every action module
        from bot.knowledge import embeddings
        from bot.knowledge.search import Retriever
        Retriever().search("Who pays for the extra help at school?")
        embeddings.embed(["what is an ehcp"])
        print(json.dumps([embeddings.get_model().backend, "actions.knowledge" in sys.modules,
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
    backend, knowledge_action_loaded, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert backend == "onnx" and knowledge_action_loaded
    assert imported == []


def test_only_a_mean_pooled_model_runs_on_onnx(tmp_path):
    assert embeddings.mean_pooled(embeddings.model_path())
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(
        json.dumps([{"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"}])
    )
    pooling = {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert not embeddings.mean_pooled(tmp_path)
    assert embeddings.max_seq_length(tmp_path) == 512  # nothing says: BERT's limit


class _Counting:
    """Wraps the process's model to count the texts it is asked to encode."""

    def __init__(self, model):
        self.model, self.texts = model, []

    def encode(self, texts, batch_size=32):
        self.texts.extend(texts)
        return self.model.encode(texts, batch_size=batch_size)

    def token_vectors(self, texts, batch_size=32):
        self.texts.extend(texts)
        return self.model.token_vectors(texts, batch_size=batch_size)


@pytest.fixture
def counting(monkeypatch):
    model = embeddings.get_model()
    embeddings.embed(["warm up"])  # the one-off case check runs the model
    embeddings._recent.clear()
    wrapper = _Counting(model)
    monkeypatch.setattr(embeddings, "get_model", lambda: wrapper)
    yield wrapper
    embeddings._recent.clear()


def test_a_message_the_featurizer_read_is_not_embedded_again(counting):
    # The Rasa featurizer reads the message as typed; the crisis check then asks
    # for its lower-cased, squashed form. The model runs once.
    [featurized] = embeddings.token_vectors(["Is the SENCO  meant to do this?"])
    vectors = embeddings.embed(["is the senco meant to do this?", "what is an ehcp"])
    assert counting.texts == ["Is the SENCO  meant to do this?", "what is an ehcp"]
    np.testing.assert_allclose(vectors[0], featurized.sentence, atol=1e-5)


def test_the_vectors_are_the_models_whether_remembered_or_not(counting):
    texts = ["my son needs help with reading", "who pays for sen support"]
    first = embeddings.embed(texts)
    again = embeddings.embed(list(reversed(texts)))
    assert counting.texts == texts  # the second call ran nothing
    np.testing.assert_allclose(again, first[::-1])
    embeddings._recent.clear()
    np.testing.assert_allclose(embeddings.embed(texts), first, atol=1e-5)


def test_only_the_last_texts_are_remembered(counting, monkeypatch):
    monkeypatch.setattr(embeddings, "_recent", embeddings._Recent(2))
    embeddings.embed(["one", "two", "three"])
    embeddings.embed(["one"])  # pushed out by "three"
    assert counting.texts == ["one", "two", "three", "one"]


def test_a_vector_travels_as_text_and_comes_back_the_same():
    vector = embeddings.embed(["does my son need a diagnosis"])[0]
    text = embeddings.vector_to_text(vector)
    assert isinstance(text, str) and len(text) < 2100
    np.testing.assert_array_equal(embeddings.vector_from_text(text), vector)


@pytest.mark.parametrize("junk", [None, 3, "", "not base64 at all!", "AAAA", "é"])
def test_anything_else_in_its_place_is_ignored(junk):
    assert embeddings.vector_from_text(junk) is None
