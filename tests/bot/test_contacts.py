"""Contacts come only from knowledge/contacts.yml, with their source and opening hours."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.people.contacts import UK, ContactsError, Directory, directory, normalise_area


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UK)


def test_every_contact_names_its_source_and_a_way_to_reach_it():
    contacts = directory().by_id.values()
    assert len(contacts) >= 16
    for contact in contacts:
        assert contact.source_title and contact.source_publisher
        assert (
            contact.phone or contact.text or contact.email or contact.web or contact.search_hint
        ), contact.id


def test_a_contact_without_a_source_is_refused_by_name(tmp_path):
    bad = tmp_path / "contacts.yml"
    bad.write_text("contacts:\n  - {id: made_up, service: X, area: England, phone: '0800 000'}\n")
    with pytest.raises(ContactsError, match="made_up"):
        Directory.load(bad)


def test_an_unreadable_contacts_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "contacts.yml"
    bad.write_bytes(b"\xff\xfe not yaml: [")
    with pytest.raises(ContactsError, match=r"contacts\.yml"):
        Directory.load(bad)


def test_a_line_in_its_hours_says_it_is_open():
    line = directory()["sendias_oxfordshire"].describe(at("2026-11-23T10:00"))
    assert "01865 810516" in line and "open now" in line
    assert "Source:" in line


def test_out_of_hours_it_says_when_the_line_opens():
    line = directory()["sendias_oxfordshire"].describe(at("2026-11-23T20:00"))
    assert "closed now" in line and "9:30am to 2:30pm" in line


def test_opening_hours_are_uk_time_in_summer_too():
    sendias = directory()["sendias_oxfordshire"]
    summer_utc = dt.datetime(2026, 7, 1, 8, 45, tzinfo=dt.UTC)  # 9:45 BST
    winter_utc = dt.datetime(2026, 1, 7, 8, 45, tzinfo=dt.UTC)  # 8:45 GMT
    assert sendias.is_open(summer_utc) is True
    assert sendias.is_open(winter_utc) is False


def test_crisis_lines_are_always_open_and_unknown_hours_are_not_guessed():
    assert directory()["samaritans"].is_open(at("2026-11-23T03:00")) is True
    assert directory()["senss_oxfordshire"].is_open(at("2026-11-23T03:00")) is None
    assert "open" not in directory()["senss_oxfordshire"].describe(at("2026-11-23T03:00"))


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Oxfordshire", "oxfordshire"),
        (" cornwall ", "cornwall"),
        ("Leeds", None),
        (None, None),
    ],
)
def test_area_slot_values_are_normalised(raw, expected):
    assert normalise_area(raw) == expected
