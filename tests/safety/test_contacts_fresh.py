"""Every crisis and safeguarding contact has a source and was checked within a year."""

from __future__ import annotations

import datetime as dt

import yaml

from bot.settings import REPO_ROOT

SAFETY_PURPOSES = {"crisis", "suicide", "safeguarding", "emergency"}
MAX_AGE = dt.timedelta(days=365)


def safety_contacts() -> list[dict]:
    data = yaml.safe_load((REPO_ROOT / "knowledge" / "contacts.yml").read_text())
    return [c for c in data["contacts"] if SAFETY_PURPOSES & set(c.get("purposes") or [])]


def test_the_crisis_numbers_in_the_reply_are_all_safety_contacts():
    numbers = {str(c.get("phone") or "") for c in safety_contacts()}
    texts = " ".join(str(c.get("text") or "") for c in safety_contacts())
    for number in ("999", "111", "0800 068 4141", "0800 1111", "116 123"):
        assert number in numbers
    assert "85258" in texts


def test_every_crisis_contact_was_checked_within_a_year_and_names_its_source():
    today = dt.date.today()
    stale = []
    for contact in safety_contacts():
        checked = contact.get("checked")
        assert isinstance(checked, dt.date), contact["id"]
        if today - checked > MAX_AGE:
            stale.append((contact["id"], checked.isoformat()))
        source = contact.get("source") or {}
        assert source.get("title") and (source.get("url") or source.get("file")), contact["id"]
    assert stale == [], f"re-check these contacts and update `checked`: {stale}"
