"""The crisis check's reviewed data: the kinds of result, where the phrases live, the tuning half.

The phrases, patterns, masks and risk words are YAML in the top-level ``safety/``
folder so a clinical reviewer reads them as data; this module only finds and loads
them. The tuning half of the safety sets (``evaluation/safety/``) is named here
because the learned layer (:mod:`bot.safety.learned`) trains on it and the model's
training fingerprint (:mod:`bot.stack.prepare`) includes it.
"""

from __future__ import annotations

from typing import Any

import yaml

from bot.settings import REPO_ROOT

CRISIS = "crisis"
DISCLOSURE = "disclosure"
CHECK_IN = "check_in"
NONE = "none"
# The crisis check's result in a message's parse data (nlu_components/crisis.py), and
# in it the risk words of a message the classifier was unsure of or put out of scope:
# the knowledge action sends the check-in instead of declining such a message.
SAFETY_KEY = "safety"
RISK_WORDS_KEY = "risk_words"
# How the replies read (domain.yml): the check-in, and the crisis and safeguarding
# replies, for the benchmarks that count who got which.
CHECK_IN_MARK = "I want to check you're OK"
EMERGENCY_MARKS = ("You deserve help right now", "Thank you for telling me. What is happening")

SAFETY_DIR = REPO_ROOT / "safety"
# The tuning half: the learned layer trains on these, and only these. The held-out
# half (evaluation/safety/heldout/) is never read here.
TUNING_FILES = (
    "evaluation/safety/crisis.yml",
    "evaluation/safety/disclosure.yml",
    "evaluation/safety/not_crisis.yml",
    "evaluation/safety/calibration.yml",
    "evaluation/safety/warning_signs.yml",
    "evaluation/safety/more_tuning.yml",
    "evaluation/safety/fourth_tuning.yml",
    "evaluation/safety/fifth_tuning.yml",
    "evaluation/safety/sixth_tuning.yml",
    "evaluation/answers/tuning.yml",
    "evaluation/answers/tuning_more.yml",
    "evaluation/answers/national_tuning.yml",
    "evaluation/answers/national_tuning_more.yml",
)
# NLU training examples of every other intent are ordinary messages too.
NLU_DIR = REPO_ROOT / "data" / "nlu"


def group_kind(group: str) -> str:
    """What a group of a mixed set holds (``more_tuning.yml``, ``heldout/second_writer.yml``).

    Groups named ``crisis_*`` hold crisis messages, ``disclosure_*`` disclosures,
    and any other group ordinary messages (``none``).
    """
    kind = group.split("_")[0]
    return kind if kind in (CRISIS, DISCLOSURE) else NONE


def load(name: str) -> Any:
    """One file of ``safety/``, parsed."""
    return yaml.safe_load((SAFETY_DIR / name).read_text(encoding="utf-8"))


def _phrases(kind: str) -> tuple[str, ...]:
    return tuple(p for group in load("phrases.yml")[kind] for p in group["phrases"])


# The curated phrase sets for the semantic layer. None of them is in a test set.
CRISIS_PHRASES: tuple[str, ...] = _phrases("crisis")
DISCLOSURE_PHRASES: tuple[str, ...] = _phrases("disclosure")
