"""Rasa checks action server responses as before, without re-checking its schema each call."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from channels.never_silent import response_validator, validate_action_responses_once

ANSWER = {
    "events": [
        {"event": "slot", "timestamp": None, "name": "last_article", "value": "diagnosis"},
        {"event": "slot", "timestamp": None, "name": "last_question", "value": "is that right?"},
    ],
    "responses": [
        {"text": "A diagnosis is not needed.", "buttons": [], "custom": {}, "response": None},
        {"text": None, "buttons": [{"title": "Yes", "payload": "/affirm"}], "custom": {}},
        {"response": "utter_ask_helpful", "buttons": [], "custom": {}},
    ],
}
INVALID = [
    {"events": [{"event": "slot", "name": "area"}], "responses": []},  # a slot without value
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": {"event": "slot"}, "responses": []},  # not a list
    {"events": [], "responses": ["text"]},  # a response that is not an object
]


@pytest.fixture
def action() -> RemoteAction:
    validate_action_responses_once()
    return RemoteAction("action_answer_from_knowledge", None)


def test_a_valid_response_passes_without_checking_the_schema_again(action, monkeypatch):
    response_validator()  # built (and its schema checked) before counting
    checked = []
    original = jsonschema.validators.Draft202012Validator.check_schema
    monkeypatch.setattr(
        jsonschema.validators.Draft202012Validator,
        "check_schema",
        classmethod(lambda cls, schema: checked.append(1) or original(schema)),
    )
    for _ in range(3):
        assert action._validate_action_result(ANSWER) is True
        assert action._validate_action_result({"events": [], "responses": []}) is True
    assert checked == []
    jsonschema.validate(ANSWER, RemoteAction.action_response_format_spec())  # Rasa's way
    assert checked == [1]


@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_response_raises_rasas_error_as_before(action, response):
    with pytest.raises(ValidationError) as plain:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError) as raised:
        action._validate_action_result(response)
    assert raised.value.message.startswith(plain.value.message)
    assert "Failed to validate Action server response from API" in raised.value.message


def test_the_validator_agrees_with_jsonschema_validate():
    schema = RemoteAction.action_response_format_spec()
    for response in [ANSWER, *INVALID]:
        try:
            jsonschema.validate(response, schema)
            valid = True
        except ValidationError:
            valid = False
        assert response_validator().is_valid(response) is valid


def test_installing_twice_wraps_once():
    validate_action_responses_once()
    installed = RemoteAction._validate_action_result
    validate_action_responses_once()
    assert RemoteAction._validate_action_result is installed
