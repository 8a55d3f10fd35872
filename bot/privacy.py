"""Personal data: what is redacted before anything is stored or logged.

This module owns the one redaction function the project uses (``redact``), so the
tracker store, the logs and the staff reports hide the same things the same way:

| what | example | becomes |
| --- | --- | --- |
| email address | ``jo.bloggs@example.com`` | ``[email]`` |
| UK phone number | ``07700 900123``, ``+44 (0)1865 810516``, ``020 7946 0018`` | ``[phone]`` |
| UK postcode | ``OX1 2JD``, ``tr1 3ax`` | ``[postcode]`` |
| a name someone gives | "my name is Jo Bloggs", "I'm called Jo", "my son's name is Sam" | "my name is [name]" |

Short service numbers (999, 111, 116 123, 0800 1111) are not personal and are
kept. A first name said any other way ("Jo here", "I'm Jo") is not found: telling
it from "I'm worried" would redact ordinary words.

Only what is stored and logged is redacted: the crisis check and the answer read the
message as typed, because Rasa saves the conversation only after it has answered.

It imports neither Rasa nor Flask.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL = "[email]"
PHONE = "[phone]"
POSTCODE = "[postcode]"
NAME = "[name]"

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)

# A candidate phone number: +44 / 0044 / 0, then digits with spaces, dots, hyphens
# or brackets between them. _phone() then checks the digit count, so dates and
# reference numbers of another length stay.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?44[\s.-]?(?:\(0\)[\s.-]?)?\(?|\(?0)\d(?:[\s.()-]{0,2}\d){7,11}(?!\d)"
)

# Full UK postcodes (outward code, space optional, inward code); GIR 0AA too.
_POSTCODE = re.compile(
    r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)

# Words that end a name: "my name is Jo and I ..." keeps "and I ...".
_NOT_NAME = frozenset(
    """and but or so because as at in on of from to with who which that we i i'm
    my our he she they it is am are was were have has had live living here there
    and, please thanks thank can could would will do does did what how why when
    where whether if the a an mum dad mother father parent carer not back later now
    today tomorrow soon anytime any just""".split()
)
_NAME_WORD = r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’-]*"
_NAME = re.compile(
    r"(?P<lead>\b(?:"
    r"(?:my|our|his|her|their)\s+(?:[a-z]+(?:'s|’s)\s+)?(?:full\s+|first\s+|sur)?name"
    r"(?:\s+is|'s|’s|\s*:)"
    r"|(?:i'?m|i’m|i\s+am|he'?s|he’s|he\s+is|she'?s|she’s|she\s+is|they'?re|they’re"
    r"|they\s+are|(?:my|our)\s+[a-z]+\s+is)\s+called"
    r"|call\s+me"
    r"))\s+(?P<name>" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r"){0,2})",
    re.IGNORECASE,
)


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = re.sub(r"\D", "", found)
    if digits.startswith("0044"):
        digits = digits[4:]
    elif found.lstrip("(").startswith("+"):
        digits = digits[2:]
    else:
        digits = digits[1:]  # the leading 0
    if found.lstrip("(").startswith(("+", "00")) and "(0)" in found:
        digits = digits[1:]
    # A UK number is 9 or 10 digits after the 0 (0800 1111 is a helpline, kept).
    return PHONE if len(digits) in (9, 10) else found


def _name(match: re.Match[str]) -> str:
    words = match.group("name").split()
    kept = 0
    for word in words:
        if word.lower().strip("'’-") in _NOT_NAME:
            break
        kept += 1
    if not kept:
        return match.group(0)
    rest = " ".join(words[kept:])
    return f"{match.group('lead')} {NAME}" + (f" {rest}" if rest else "")


def redact(text: str) -> str:
    """Hide emails, UK phone numbers, UK postcodes and names people give.

    Args:
        text: A message, a log line or anything else about to be stored.

    Returns:
        The text with each of them replaced by ``[email]``, ``[phone]``,
        ``[postcode]`` or ``[name]``; everything else as it was.
    """
    if not text or not isinstance(text, str):
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _PHONE.sub(_phone, text)
    text = _POSTCODE.sub(POSTCODE, text)
    return _NAME.sub(_name, text)


def redact_value(value: Any) -> Any:
    """``redact`` applied to every string inside lists and dicts (keys kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value
