"""bot/privacy.py: redaction of personal data, and retention (purge)."""

from __future__ import annotations

import pytest

from bot.privacy import redact, redact_value

PERSONAL = (
    "my email is jo.bloggs@example.com and my number is 07700 900123, my name is "
    "Jo Bloggs, we live at OX1 2JD — who pays for SEN support?"
)


def test_the_issue_message_keeps_its_question_and_loses_the_personal_data() -> None:
    assert redact(PERSONAL) == (
        "my email is [email] and my number is [phone], my name is [name], "
        "we live at [postcode] — who pays for SEN support?"
    )


@pytest.mark.parametrize("number", [
    "07700 900123", "07700900123", "07700-900-123", "+44 7700 900123",
    "+447700900123", "+44 (0)7700 900123", "0044 7700 900123", "01865 810516",
    "(01865) 810516", "020 7946 0018", "0300 123 4567",
])
def test_uk_phone_numbers(number: str) -> None:
    assert redact(f"ring me on {number} after 3") == "ring me on [phone] after 3"


@pytest.mark.parametrize("kept", [
    "999", "NHS 111", "Childline 0800 1111", "Samaritans 116 123",
    "Shout: text 85258", "born 2014-01-31", "reference 12345678", "year 11",
    "section 19 of the Children and Families Act 2014",
])
def test_service_numbers_dates_and_references_are_kept(kept: str) -> None:
    assert redact(kept) == kept


@pytest.mark.parametrize("postcode", ["OX1 2JD", "ox12jd", "HP11 2AB", "TR1 3AX",
                                      "SW1A 1AA", "M1 1AE", "B33 8TH"])
def test_uk_postcodes(postcode: str) -> None:
    assert redact(f"we are at {postcode}.") == "we are at [postcode]."


@pytest.mark.parametrize("said, stored", [
    ("my name is Jo Bloggs, who pays?", "my name is [name], who pays?"),
    ("My name's Priya and my son has autism", "My name's [name] and my son has autism"),
    ("I'm called alex", "I'm called [name]"),
    ("I am called Sam Smith from Banbury", "I am called [name] from Banbury"),
    ("my son's name is Leo and he is 7", "my son's name is [name] and he is 7"),
    ("my daughter is called Amira", "my daughter is called [name]"),
    ("call me Jo", "call me [name]"),
])
def test_names_people_give(said: str, stored: str) -> None:
    assert redact(said) == stored


@pytest.mark.parametrize("ordinary", [
    "I am worried about my son", "my name is not important", "call me back please",
    "what is an EHC needs assessment called", "who pays for SEN support?", "",
])
def test_ordinary_sentences_are_kept(ordinary: str) -> None:
    assert redact(ordinary) == ordinary


def test_emails() -> None:
    assert redact("email: a_b+c@x.co.uk.") == "email: [email]."


def test_redact_value_walks_nested_data_and_keeps_keys_and_numbers() -> None:
    data = {"text": PERSONAL, "n": 3, "entities": [{"value": "OX1 2JD"}], "x": None}
    out = redact_value(data)
    assert out["entities"] == [{"value": "[postcode]"}]
    assert out["n"] == 3 and out["x"] is None
    assert "jo.bloggs" not in out["text"]
