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


# A UK phone number, the short emergency and helpline numbers, or a text code
# ("text SHOUT to 85258"); not a year, a price, a port or a paragraph number.
PHONE = re.compile(
    r"(?<![\d£.,/-])(?:0\d{2,4}[ -]?\d{3,4}(?:[ -]?\d{3,4})?|999|111|116 ?\d{3})(?!\d|[.,%]\d)"
    r"|(?<=\bto )\d{5}\b"
)
# Every file whose text can reach a person: replies (domain.yml, knowledge/replies.yml),
# the areas' names and buttons, actions, the core's messages,
# the channels, the widget's code, pages and script, and the knowledge itself.
SHOWN = (
    "domain.yml",
    "actions/*.py",
    "bot/**/*.py",
    "channels/*.py",
    "web_widget/**/*.py",
    "web_widget/templates/*.html",
    "web_widget/static/*.js",
    "knowledge/articles/*.md",
    "knowledge/questions/*.yml",
    "knowledge/replies.yml",
    "knowledge/areas.yml",
)
# Redaction's own examples: Ofcom's numbers for drama, never a real service.
NOT_SHOWN = {"bot/records/privacy.py"}


def test_every_phone_number_anything_can_show_is_a_sourced_contact():
    contacts = yaml.safe_load((REPO_ROOT / "knowledge" / "contacts.yml").read_text())
    known = {
        number.replace(" ", "")
        for entry in contacts["contacts"]
        for field in ("phone", "text")
        for number in PHONE.findall(str(entry.get(field) or ""))
    }
    files = {p for pattern in SHOWN for p in REPO_ROOT.glob(pattern)}
    files = {p for p in files if str(p.relative_to(REPO_ROOT)) not in NOT_SHOWN}
    assert len(files) > 40
    unsourced = {
        f"{path.relative_to(REPO_ROOT)}: {number}"
        for path in files
        for number in PHONE.findall(path.read_text(encoding="utf-8"))
        if number.replace(" ", "") not in known
    }
    assert unsourced == set(), "numbers not in knowledge/contacts.yml"


def test_the_widgets_own_messages_take_their_numbers_from_the_contacts():
    import dataclasses

    from bot.people.contacts import Directory, directory
    from bot.people.unavailable import cannot_connect, rate_limited

    real = directory()
    changed = Directory(
        dataclasses.replace(c, phone="0800 000 0000") if c.id == "childline" else c
        for c in real.by_id.values()
    )
    assert "0800 1111" in cannot_connect(real)
    assert "0800 000 0000" in cannot_connect(changed) and "0800 1111" not in cannot_connect(changed)
    assert "999" in rate_limited(real)


def test_the_reply_templates_hold_no_contact_details_of_their_own():
    # knowledge/replies.yml is filled in from knowledge/contacts.yml: no number,
    # email or web address is written in it.
    text = (REPO_ROOT / "knowledge" / "replies.yml").read_text(encoding="utf-8")
    assert PHONE.findall(text) == []
    assert re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+|https?://|www\.", text) == []
