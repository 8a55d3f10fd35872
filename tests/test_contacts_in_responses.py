"""Every phone number or text code the assistant says is one in knowledge/contacts.yml."""

import re

import yaml

from bot.settings import REPO_ROOT

NUMBER = re.compile(r"\b\d[\d ]{1,12}\d\b")


def known_numbers() -> set[str]:
    contacts = yaml.safe_load((REPO_ROOT / "knowledge" / "contacts.yml").read_text())
    found = set()
    for entry in contacts["contacts"]:
        for field in ("phone", "text"):
            for number in NUMBER.findall(str(entry.get(field) or "")):
                found.add(number.replace(" ", ""))
    return found


def test_every_number_in_the_responses_is_a_sourced_contact():
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text())
    said = {
        number.replace(" ", "")
        for variants in domain["responses"].values()
        for variant in variants
        for number in NUMBER.findall(variant.get("text", ""))
    }
    assert said, "the responses give no numbers at all"
    assert said - known_numbers() == set()
