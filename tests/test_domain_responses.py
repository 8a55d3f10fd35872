"""Every response in domain.yml fills through Rasa's own generator without an error.

Rasa fills `{slot}` placeholders in every text and button payload; a literal brace
(a button payload with entities, `/intent{"key": "value"}`) must be written doubled,
or each time the response is sent Rasa logs an error with a traceback and staff
reading the log see a failure that is not there.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.nlg import interpolator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


class _Recorder:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def exception(self, event: str, **kw: object) -> None:
        self.errors.append(event)

    error = exception

    def debug(self, *a: object, **kw: object) -> None:
        pass


# Variables an action passes with the response (actions/knowledge.py), not slots.
FROM_ACTIONS = {"utter_not_covered": {"subject": "home-to-school transport"}}


@pytest.mark.parametrize("name", sorted(DOMAIN.responses))
def test_response_fills_without_error(name, monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(interpolator, "structlogger", recorder)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    tracker = DialogueStateTracker.from_events("t", [], slots=DOMAIN.slots)
    variables = FROM_ACTIONS.get(name, {})
    out = asyncio.run(nlg.generate(name, tracker, "rest", **variables))
    assert out is not None
    assert recorder.errors == []
    assert all(value in out["text"] for value in variables.values())
    for button in out.get("buttons") or []:
        assert "{{" not in button["payload"]


def test_feedback_buttons_send_the_rasa_payload():
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    tracker = DialogueStateTracker.from_events("t", [], slots=DOMAIN.slots)
    out = asyncio.run(nlg.generate("utter_ask_helpful", tracker, "rest"))
    payloads = [b["payload"] for b in out["buttons"]]
    assert payloads == ['/give_feedback{"helpful": "yes"}', '/give_feedback{"helpful": "no"}']
