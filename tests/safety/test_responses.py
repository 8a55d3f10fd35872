"""The fixed safety replies say what the issue asks, in every variant."""

from __future__ import annotations

import pytest
import yaml

from bot.settings import REPO_ROOT

CRISIS_ROUTES = (
    "999",
    "NHS 111",
    "mental health option",
    "Papyrus HOPELINE247",
    "0800 068 4141",
    "Childline",
    "0800 1111",
    "Samaritans",
    "116 123",
    "SHOUT",
    "85258",
)


@pytest.fixture(scope="module")
def responses() -> dict:
    return yaml.safe_load((REPO_ROOT / "domain.yml").read_text())["responses"]


def test_every_crisis_variant_gives_every_route_and_stays(responses):
    variants = responses["utter_crisis"]
    assert len(variants) == 5  # one per area value, and one for an unknown area
    for variant in variants:
        for route in CRISIS_ROUTES:
            assert route in variant["text"], route
        assert variant["text"].rstrip().endswith("I'm still here if you want to keep talking.")


def test_a_known_area_adds_camhs_and_no_unsourced_number(responses):
    by_area = {
        (v.get("condition") or [{}])[0].get("value"): v["text"] for v in responses["utter_crisis"]
    }
    assert "Oxford Health" in by_area["buckinghamshire"]
    for area in ("oxfordshire", "cornwall", "elsewhere"):
        assert 'search your local offer for "CAMHS Single Point of Access"' in by_area[area]
    assert "Single Point of Access" not in by_area[None]


def test_the_disclosure_reply_gives_the_safeguarding_routes(responses):
    [variant] = responses["utter_disclosure"]
    for route in ("999", "Childline", "0800 1111", "children's services", "not your fault"):
        assert route in variant["text"], route


def test_the_mental_health_routes_have_no_emergency_framing(responses):
    for variant in responses["utter_mental_health_routes"]:
        assert "111" in variant["text"] and "0800 1111" in variant["text"]
        assert "999" not in variant["text"]


def test_asked_whether_it_is_a_person_it_says_it_is_a_program(responses):
    assert "computer program, not a person" in responses["utter_iamabot"][0]["text"]
