"""The source line: the page's address, and a short clause for an old or unmaintained page."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.knowledge.search import Hit
from bot.knowledge.sources import caveat, source_json, source_line

TODAY = dt.date(2026, 12, 4)
OLD = "page from 2018: check it is still current"
UNMAINTAINED = "page no longer maintained: check it is still current"


def hit(**source) -> Hit:
    fields = {"source_title": "Introduction to SEND", "source_publisher": "A Council"} | source
    return Hit(
        slug="an-article",
        title="A title",
        heading="A heading",
        text="Some text.",
        area="England",
        audience="everyone",
        source_section="",
        dense=0.8,
        bm25=1.0,
        fused=0.1,
        **fields,
    )


@pytest.mark.parametrize(
    ("date", "status", "expected"),
    [
        ("2018-03-08", "", OLD),
        ("2023-12-04", "", "page from 2023: check it is still current"),  # three years today
        ("2023-12-05", "", ""),  # a day short of three years
        ("2025-06-01", "", ""),
        ("2014-06-04", "in force", ""),  # legislation: an old date, current text
        ("undated", "", ""),
        ("", "", ""),
        ("undated", "no longer maintained", UNMAINTAINED),
        ("2025-06-01", "No longer maintained", UNMAINTAINED),
    ],
)
def test_the_clause_depends_on_the_date_and_status(date, status, expected):
    assert caveat(date, status, today=TODAY) == expected


def test_the_age_is_measured_from_the_day_it_is_asked():
    assert caveat("2024-01-10", today=dt.date(2026, 12, 4)) == ""
    assert caveat("2024-01-10", today=dt.date(2027, 1, 10)) == (
        "page from 2024: check it is still current"
    )


def test_an_old_page_says_so_in_the_source_line_and_the_data():
    old = hit(source_date="2018-03-08")
    assert source_line(old, TODAY) == (
        f"Source: Introduction to SEND - A Council (England) ({OLD})"
    )
    data = source_json(old, TODAY)
    assert data["caveat"] == OLD
    assert data["date"] == "2018-03-08"
    assert data["url"] == ""


def test_a_recent_page_with_an_address_gives_it_and_no_clause():
    recent = hit(source_date="2025-09-01", source_url="https://example.org/page")
    assert source_line(recent, TODAY) == (
        "Source: Introduction to SEND - A Council (England) https://example.org/page"
    )
    assert source_json(recent, TODAY)["url"] == "https://example.org/page"
    assert source_json(recent, TODAY)["caveat"] == ""


def test_a_page_marked_no_longer_maintained_says_so():
    unmaintained = hit(source_date="undated", no_longer_maintained=True)
    assert source_line(unmaintained, TODAY).endswith(f"(England) ({UNMAINTAINED})")


def test_only_web_addresses_are_passed_on():
    assert source_json(hit(source_url="javascript:alert(1)"), TODAY)["url"] == ""
