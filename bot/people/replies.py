"""The fixed texts of the replies built in ``bot/``, read once from knowledge/replies.yml.

The handoff and the replies sent when nothing can be looked up put contact details
(from ``knowledge/contacts.yml``) into fixed sentences; the sentences live in that
file, not in the code. Replies the actions send whole are Rasa responses in
``domain.yml``.
"""

from __future__ import annotations

from functools import lru_cache

import yaml

from bot.settings import REPO_ROOT

REPLIES_FILE = REPO_ROOT / "knowledge" / "replies.yml"


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    """Every template, by name."""
    data = yaml.safe_load(REPLIES_FILE.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def reply(name: str, **values: object) -> str:
    """The template ``name`` with its ``{placeholders}`` filled in."""
    return texts()[name].format(**values)
