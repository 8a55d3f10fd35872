"""Who to contact: SENDIAS for the right area, and the right complaints route."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from bot.people.contacts import UK
from bot.people.handoff import (
    COMPLAINT,
    SENDIAS,
    asks_a_question_too,
    complaint_target,
    handoff,
    is_complaint,
)
from bot.settings import REPO_ROOT

MORNING = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK)
EVENING = dt.datetime(2026, 11, 23, 19, 0, tzinfo=UK)
NUMBER = re.compile(r"\b\d[\d ]{1,12}\d\b")


def sourced_numbers() -> set[str]:
    data = yaml.safe_load((REPO_ROOT / "knowledge" / "contacts.yml").read_text())
    return {
        n.replace(" ", "")
        for c in data["contacts"]
        for f in ("phone", "text")
        for n in NUMBER.findall(str(c.get(f) or ""))
    }


def said_numbers(messages: list[str]) -> set[str]:
    # Times such as "9:30am" and "2:30pm" are not phone numbers.
    text = re.sub(r"\d{1,2}(:\d\d)?[ap]m", "", " ".join(messages))
    return {n.replace(" ", "") for n in NUMBER.findall(text)}


def test_missed_senss_visit_gets_the_senss_phone_and_email():
    result = handoff(
        COMPLAINT,
        "the advisory teacher from the Oxfordshire support service never turned up, who do I tell?",
        None,
        MORNING,
    )
    text = " ".join(result.messages)
    assert "01865 323070" in text and "senss@oxfordshire.gov.uk" in text
    assert not result.needs_area


@pytest.mark.parametrize(
    "area, expected",
    [
        ("oxfordshire", "01865 810516"),
        ("buckinghamshire", "SENDIAS"),
        ("cornwall", "SENDIAS"),
        ("elsewhere", "local offer"),
    ],
)
def test_sendias_for_each_area(area, expected):
    result = handoff(SENDIAS, "can someone help me at the meeting", area, MORNING)
    assert expected in " ".join(result.messages)
    assert area.capitalize() in " ".join(result.messages) or area == "elsewhere"


def test_sendias_without_an_area_asks_for_it():
    assert handoff(SENDIAS, "I need help with the forms", None, MORNING).needs_area


def test_out_of_hours_sendias_gives_the_routes_open_now():
    text = " ".join(handoff(SENDIAS, "", "oxfordshire", EVENING).messages)
    assert "closed now" in text
    assert "116 123" in text and "0800 1111" in text


@pytest.mark.parametrize(
    "message, target",
    [
        ("the SENCo keeps ignoring my emails and the head won't reply", "school"),
        ("the council lost our EHC needs assessment request", "council"),
        ("SENSS never sent the report", "senss"),
        ("I want to complain", "unclear"),
        ("unhappy with how her primary is handling her needs, I want to complain", "school"),
        ("the sixth form ignored his support plan", "school"),
        # what only a school does, without the word
        ("they put my daughter on a part time timetable, i want to complain", "school"),
        ("today they sent her out onto the playground again, who do i complain to", "school"),
    ],
)
def test_complaints_go_to_the_right_place(message, target):
    assert complaint_target(message, None) == target


def test_a_council_complaint_needs_the_area_then_names_the_council():
    assert handoff(COMPLAINT, "the council ignored us", None, MORNING).needs_area
    text = " ".join(handoff(COMPLAINT, "the council ignored us", "cornwall", MORNING).messages)
    assert "Cornwall Council" in text and "complaints" in text


def test_school_complaints_follow_the_school_policy_order():
    text = " ".join(handoff(COMPLAINT, "the school won't listen", None, MORNING).messages)
    assert text.index("class teacher") < text.index("SENCo") < text.index("governors")


@pytest.mark.parametrize(
    "kind, text, area",
    [
        (SENDIAS, "", "oxfordshire"),
        (SENDIAS, "", "cornwall"),
        (COMPLAINT, "SENSS in Oxfordshire", None),
        (COMPLAINT, "the council", "buckinghamshire"),
    ],
)
def test_every_number_given_is_a_sourced_one(kind, text, area):
    for now in (MORNING, EVENING):
        assert said_numbers(handoff(kind, text, area, now).messages) <= sourced_numbers()


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("how long do i have to appeal to the send tribunal", True),
        ("we told the mediation adviser no, when do we get the certificate", True),
        ("can someone help me with the forms", False),
        ("i want to talk to an adviser about the appeal", False),
        # A question about another service, even with "advice" or "phone" in it.
        ("can i get speech therapy advice without being referred", True),
        ("what advice does the camhs team give and when can we phone", True),
        ("i need someone from camhs to call me", False),
    ],
)
def test_a_question_sent_to_the_handoff_is_answered_first(text, asks):
    # "the mediation adviser" is a step of an appeal, not a request for a person.
    assert asks_a_question_too(text) is asks


@pytest.mark.parametrize(
    ("text", "kind", "asks"),
    [
        # A decision disagreed with has its own route (an appeal): answered first.
        ("the LA turned down our request and we think they are wrong, what now", COMPLAINT, True),
        # A grievance about how someone behaved gets the complaints route alone.
        (
            "the TA shouted at my son and nobody did anything, how do i take it further",
            COMPLAINT,
            False,
        ),
        ("i want to complain about the council turning down our request", COMPLAINT, False),
        # A longer story with a decision in it, even while asking for a person.
        (
            (
                "after the annual review the council want to cut his hours, is there anyone who"
                " can help us challenge that"
            ),
            SENDIAS,
            True,
        ),
        ("can someone help me with the forms", SENDIAS, False),
    ],
)
def test_a_decision_sent_to_a_handoff_is_answered_before_the_people(text, kind, asks):
    assert asks_a_question_too(text, kind) is asks


@pytest.mark.parametrize(
    "message",
    [
        "we had a really poor service from the council's send team, how do we raise it formally",
        "how do i put in a formal grievance about his TA",
    ],
)
def test_a_complaint_without_the_word_complain_is_a_complaint(message):
    from bot.people.handoff import is_complaint

    assert is_complaint(message)


def test_a_question_about_a_refusal_is_not_a_complaint():
    from bot.people.handoff import is_complaint

    assert not is_complaint("the council refused the assessment, how do i take this further")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("the deputy head brushed me off again, can I go over her head?", True),
        ("how do we escalate this with the academy trust", True),
        ("im fuming, the TA support in his plan just isnt happening. what do i do", True),
        ("the advisory teacher never followed up. Is there a manager I can take it up with?", True),
        ("We've asked politely twice for the termly meeting. Do I go to the governors now?", True),
        # a decision has its own route (an appeal), whatever the mood
        ("I'm furious, the council refused the assessment. what now?", False),
        ("what training do staff get in de-escalation", False),
        ("she's furious about having to resit maths", False),
    ],
)
def test_a_grievance_without_the_word_complaint_is_one(text, complaint):
    assert is_complaint(text) is complaint
