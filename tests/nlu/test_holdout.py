"""The held-out messages stay held out, and the production model understands them.

The unit tests keep ``evaluation/nlu_holdout.yml`` honest: big enough, every intent
covered, and nothing in it copied (or nearly copied) into ``data/nlu``; a copied
message would make the accuracy figures meaningless.

The integration test parses every held-out message with the production model
(``var/models/senbot.tar.gz``, trained by ``python -m bot.stack prepare``) and
checks the quality the project promises: accuracy and macro-F1 >= 0.90, no intent
below 0.80 F1, out-of-scope recall >= 0.90.
"""

from __future__ import annotations

import difflib
import re
from itertools import product
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT

HOLDOUT = REPO_ROOT / "evaluation" / "nlu_holdout.yml"
TRAINING = REPO_ROOT / "data" / "nlu"
JACCARD_LIMIT = 0.8
RATIO_LIMIT = 0.9


def _examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        (message.get("text"), message.get("intent"))
        for message in data.training_examples
        if message.get("intent")
    ]


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _jaccard(a: str, b: str) -> float:
    left, right = set(a.split()), set(b.split())
    return len(left & right) / len(left | right) if left | right else 1.0


def near_duplicates(holdout: list[str], training: list[str]) -> list[tuple[str, str, float, float]]:
    """Pairs whose token Jaccard >= 0.8 or character similarity >= 0.9."""
    found = []
    for held, trained in product({_normal(t) for t in holdout}, {_normal(t) for t in training}):
        jaccard = _jaccard(held, trained)
        ratio = difflib.SequenceMatcher(None, held, trained).ratio()
        if jaccard >= JACCARD_LIMIT or ratio >= RATIO_LIMIT:
            found.append((held, trained, jaccard, ratio))
    return found


@pytest.fixture(scope="module")
def holdout() -> list[tuple[str, str]]:
    return _examples(HOLDOUT)


@pytest.fixture(scope="module")
def training() -> list[tuple[str, str]]:
    return _examples(TRAINING)


def test_holdout_is_big_enough_and_covers_every_intent(holdout, training):
    intents = {intent for _, intent in training}
    counts = dict.fromkeys(intents, 0)
    for _, intent in holdout:
        assert intent in intents, f"holdout intent {intent!r} is not trained"
        counts[intent] += 1
    assert len(holdout) >= 150
    # check_in is set by the crisis check, never by the classifier alone: its
    # training examples only teach DIET to leave such messages to that check.
    thin = {intent: n for intent, n in counts.items() if n < 4 and intent != "check_in"}
    assert not thin, f"intents with fewer than 4 held-out messages: {thin}"
    assert counts["out_of_scope"] >= 15


def test_no_holdout_message_is_in_the_training_data(holdout, training):
    trained = {_normal(text) for text, _ in training}
    copied = [text for text, _ in holdout if _normal(text) in trained]
    assert not copied, f"held-out messages found in data/nlu: {copied}"


def test_no_holdout_message_nearly_duplicates_training(holdout, training):
    pairs = near_duplicates([t for t, _ in holdout], [t for t, _ in training])
    assert not pairs, "near-duplicates (holdout, training, jaccard, ratio):\n" + (
        "\n".join(f"  {h!r} ~ {t!r} ({j:.2f}, {r:.2f})" for h, t, j, r in pairs)
    )


def test_the_near_duplicate_check_catches_a_light_rewrite():
    # The check above must be able to fail: a typo or reordering is still a copy.
    pairs = near_duplicates(
        ["How do I apply for an EHCP??", "ehcp apply for how do i"],
        ["how do i apply for an ehcp", "what is senss"],
    )
    assert {held for held, *_ in pairs} == {
        "how do i apply for an ehcp",
        "ehcp apply for how do i",
    }


@pytest.mark.integration
def test_production_model_meets_the_quality_bar(holdout):
    from benchmarks.nlu_compare import evaluate_model, quiet, table
    from bot.settings import get_settings
    from bot.stack.prepare import model_path, prepare

    settings = get_settings()
    prepare(settings)  # trains only when the training data changed
    quiet()
    result = evaluate_model(model_path(settings), "production", holdout)
    print()
    print(table([result]))
    wrong = "\n".join(
        f"  want {want} got {got} ({conf:.2f}): {text}"
        for text, want, got, conf, _ in result.errors
    )
    assert result.accuracy >= 0.90, wrong
    assert result.macro_f1 >= 0.90, wrong
    assert result.lowest_f1 >= 0.80, f"{result.lowest_intent}: {result.lowest_f1}"
    assert result.oos_recall >= 0.90, wrong
