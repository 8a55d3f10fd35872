"""The Rasa component overrides whatever the classifier said with crisis/disclosure."""

from __future__ import annotations

import pytest
import yaml

from bot.settings import REPO_ROOT

pytest.importorskip("rasa")

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from nlu_components.crisis import CrisisCheck  # noqa: E402


@pytest.fixture(scope="module")
def component() -> CrisisCheck:
    return CrisisCheck(CrisisCheck.get_default_config())


def classified(text: str, intent: str, confidence: float) -> Message:
    """A message as FallbackClassifier leaves it."""
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set(
        INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}], add_to_output=True
    )
    return message


@pytest.mark.parametrize(
    ("text", "said", "kind"),
    [
        ("i want to kms", "nlu_fallback", "crisis"),
        ("my daughter has been self harming", "mental_health_help", "crisis"),
        ("nobody would even notice if I disappeared for good", "greet", "crisis"),
        ("my stepdad hits me", "nlu_fallback", "disclosure"),
    ],
)
def test_a_crisis_overrides_the_classifier_with_certainty(component, text, said, kind):
    [message] = component.process([classified(text, said, 0.4)])
    assert message.get(INTENT) == {"name": kind, "confidence": 1.0}
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == kind
    assert message.get("safety")["kind"] == kind


def test_an_ordinary_message_keeps_the_classifiers_intent(component):
    [message] = component.process(
        [classified("this form is killing me", "request_ehc_assessment", 0.8)]
    )
    assert message.get(INTENT) == {"name": "request_ehc_assessment", "confidence": 0.8}
    assert message.get("safety")["kind"] == "none"


def test_a_confident_classifier_crisis_stands_even_if_the_check_found_nothing(component):
    [message] = component.process([classified("everything feels grey", "crisis", 0.9)])
    assert message.get(INTENT)["name"] == "crisis"


def test_an_unsure_classifier_crisis_without_evidence_goes_to_the_knowledge_base(component):
    [message] = component.process([classified("the deadline is killing me", "crisis", 0.43)])
    assert message.get(INTENT)["name"] == "nlu_fallback"


def test_it_decides_last_in_the_pipeline():
    pipeline = yaml.safe_load((REPO_ROOT / "config.yml").read_text())["pipeline"]
    names = [step["name"] for step in pipeline]
    assert names[-1] == "nlu_components.crisis.CrisisCheck"
    classifier = names.index("nlu_components.linear_intent.LinearIntentClassifier")
    assert classifier < names.index("FallbackClassifier") < len(names) - 1


def test_the_model_and_phrase_set_are_loaded_once_not_per_message(component):
    from bot.knowledge import embeddings
    from bot.safety import detector as safety

    for text in ("hello", "what is sen support", "i feel a bit lost", "thanks"):
        component.process([classified(text, "greet", 0.9)])
    assert embeddings.get_model.cache_info().misses == 1
    assert safety._phrase_vectors.cache_info().misses == 1


@pytest.mark.parametrize("said", ["out_of_scope", "nlu_fallback", "goodbye"])
def test_a_risk_word_never_gets_the_unsure_out_of_scope_or_goodbye_reply(component, said):
    [message] = component.process(
        [classified("how high is the multi storey, does it hurt", said, 0.5)]
    )
    assert message.get(INTENT)["name"] in ("check_in", "crisis")


@pytest.mark.parametrize("said", ["out_of_scope", "nlu_fallback"])
def test_an_unsure_guess_with_a_weak_risk_word_goes_to_the_knowledge_base_with_it(component, said):
    # The knowledge action answers it if it can, and sends the check-in where it
    # would have declined (tests/integration/test_safety.py).
    [message] = component.process([classified("what should a final letter say", said, 0.5)])
    assert message.get(INTENT)["name"] == said
    assert message.get("safety")["risk_words"] == ["goodbye_letters?"]


@pytest.mark.parametrize("said", ["out_of_scope", "nlu_fallback"])
def test_a_weak_risk_word_the_learned_layer_sees_no_risk_in_may_be_declined(component, said):
    # "giving away" a school uniform: the learned layer gives it almost no crisis
    # probability, so it is declined like any question the knowledge base cannot answer.
    [message] = component.process(
        [classified("where can I donate the school uniform we are giving away", said, 0.5)]
    )
    assert message.get(INTENT)["name"] == said
    assert "risk_words" not in message.get("safety")


def test_a_goodbye_with_a_weak_risk_word_gets_the_check_in(component):
    [message] = component.process(
        [classified("i wrote a letter for everyone. goodbye", "goodbye", 0.6)]
    )
    assert message.get(INTENT)["name"] in ("check_in", "crisis")


def test_an_ordinary_out_of_scope_question_stays_out_of_scope(component):
    [message] = component.process(
        [classified("where do I pay my council tax", "out_of_scope", 0.9)]
    )
    assert message.get(INTENT)["name"] == "out_of_scope"
