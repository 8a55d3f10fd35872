"""Fixed reply texts are data: knowledge/replies.yml for bot/, domain.yml for the actions."""

from __future__ import annotations

import re

import yaml

from bot.people.replies import texts
from bot.settings import REPO_ROOT

CODE = sorted((REPO_ROOT / "bot").rglob("*.py")) + sorted((REPO_ROOT / "actions").glob("*.py"))


def test_every_template_in_replies_is_used_and_every_one_used_exists():
    source = "\n".join(p.read_text(encoding="utf-8") for p in CODE)
    used = set(re.findall(r"\breply\(\s*\"(\w+)\"", source))
    assert used == set(texts())


def test_every_response_the_actions_send_is_in_the_domain():
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "actions").glob("*.py"))
    sent = set(re.findall(r"\"(utter_\w+)\"", source))
    assert {"utter_ask_helpful", "utter_feedback_thanks", "utter_feedback_sorry"} <= sent
    assert sent <= set(domain["responses"])
