"""Declined questions asked over REST reach the review report, grouped and redacted."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from bot.__main__ import main as bot_main

pytestmark = pytest.mark.integration

# SEND questions the knowledge does not cover (declined by the answer function),
# with personal details in them.
UNANSWERABLE = (
    (
        "my daughter needs her therapy dog in exams, is that allowed? I'm called Jo Bloggs, "
        "07700 900123"
    ),
    "is the therapy dog allowed in the exam room near OX1 2JD",
    "which swimming pools have hoists for disabled children, email jo.bloggs@example.com",
)


def test_unanswerable_questions_are_listed_grouped_and_redacted(live_stack, tmp_path):
    since = datetime.now(UTC).date().isoformat()
    for number, question in enumerate(UNANSWERABLE):
        replies = live_stack.say(f"report-test-{number}", question)
        assert replies, question
    out = tmp_path / "report.csv"
    assert (
        bot_main(
            [
                "report",
                "--db",
                str(live_stack.settings.feedback_db),
                "--tracker",
                f"sqlite:///{live_stack.settings.tracker_db}",
                "--since",
                since,
                "--csv",
                str(out),
            ]
        )
        == 0
    )
    rows = [row for row in csv.DictReader(out.open()) if row["section"] == "unanswered"]
    text = out.read_text()
    for secret in ("Jo Bloggs", "07700", "OX1 2JD", "jo.bloggs@example.com"):
        assert secret not in text
    dog = [r for r in rows if "therapy dog" in r["item"]]
    assert len(dog) == 1 and dog[0]["count"] == "2", rows  # one question, two wordings
    assert "therapy dog" in dog[0]["detail"]
    assert "[name]" in text and "[phone]" in text and "[postcode]" in text
    pools = [r for r in rows if "swimming pools" in r["item"]]
    assert len(pools) == 1 and pools[0]["count"] == "1"
    assert "[email]" in pools[0]["item"]
