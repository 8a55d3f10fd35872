"""The action server, started only once the sentence model is loaded.

``python -m actions --actions actions --port 5055`` takes rasa-sdk's own arguments.
Loading MiniLM and the index takes 1.5 to 4 s on a busy 2-core machine on ONNX
Runtime (8 to 14 s on the sentence-transformers fallback), and Rasa gives up on an
action after 1.5 s (``channels/never_silent.py``), so a server that answered before
the model was loaded would turn the first knowledge questions after every (re)start
into "I can't look that up right now". Until it is loaded nothing listens, Rasa's
calls fail at once, and the person gets that fixed reply straight away instead of
after a wait.
"""

from __future__ import annotations

import logging
import os
import time

# transformers imports TensorFlow whenever it is installed (Rasa needs it), which
# more than doubled the time to import sentence-transformers here (24-28 s against
# 10-13 s on a busy 2-core machine). Only the fallback without the ONNX file
# (bot/knowledge/embeddings.py) imports it, and it uses PyTorch only.
os.environ.setdefault("USE_TF", "0")

from bot.settings import use_serving_env  # noqa: E402

use_serving_env()  # one OpenBLAS thread, set before numpy loads

from rasa_sdk.__main__ import main  # noqa: E402 - after USE_TF and OpenBLAS are set

from bot.knowledge.search import Retriever  # noqa: E402

logger = logging.getLogger("actions")


def warm_up() -> None:
    """Load the sentence model and search once, as the first question would.

    The search imports faiss and bm25s and reads the index files, so the knowledge
    action's own (lazy) index load takes a fraction of a second, not 2 s or more.
    """
    started = time.monotonic()
    try:
        Retriever().search("Who pays for the extra help at school?")
    except Exception:  # noqa: BLE001 - serve anyway: the fixed replies still work
        logger.exception("Could not load the sentence model; knowledge answers will fail")
        return
    print(f"Sentence model and index loaded in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    warm_up()
    main()
