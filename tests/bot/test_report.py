"""The review report: declined questions grouped by meaning, redacted, per week."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime

import numpy as np
import pytest

from bot.__main__ import main as bot_main
from bot.records.feedback import FeedbackStore
from bot.records.review import Event, Rating, ReviewLog
from bot.staff import report


def at(day: str) -> datetime:
    return datetime.fromisoformat(day + "T10:00:00+00:00")


def one_hot(texts):
    """Stand-in embedding: questions sharing a first word are the same question."""
    words = sorted({t.split()[0].lower() for t in texts})
    rows = np.zeros((len(texts), len(words)), dtype="float32")
    for i, t in enumerate(texts):
        rows[i, words.index(t.split()[0].lower())] = 1.0
    return rows


def test_questions_that_mean_the_same_are_one_group_most_asked_first():
    groups = report.group_questions(
        [
            "when do the bins get collected",
            "what day is bin collection",
            "when do the bins get collected",
            "how do I pay council tax",
            "council tax payment",
            "can you fix my boiler",
        ]
    )
    summary = [(g.question, g.count, sorted(g.wordings)) for g in groups]
    assert summary == [
        (
            "when do the bins get collected",
            3,
            ["what day is bin collection", "when do the bins get collected"],
        ),
        ("council tax payment", 2, ["council tax payment", "how do I pay council tax"]),
        ("can you fix my boiler", 1, ["can you fix my boiler"]),
    ]


def test_declined_questions_and_unhelpful_answers_are_stored_redacted(tmp_path):
    db = tmp_path / "feedback.sqlite"
    log = ReviewLog(db)
    log.record_event(
        "declined",
        conversation="conv-jo",
        question="my name is Jo Bloggs, call 07700 900123 about bins at OX1 2JD",
    )
    FeedbackStore(db).record(
        conversation="conv-jo",
        article="funding-elements",
        helpful=False,
        question="email jo.bloggs@example.com who pays?",
        comment="my son's name is Sam and this is wrong",
    )
    stored = db.read_bytes() + (
        db.with_name(db.name + "-wal").read_bytes()
        if db.with_name(db.name + "-wal").exists()
        else b""
    )
    # The conversation id is stored hashed (hex), so the id used here has letters
    # no hex digest can contain ("abc" once matched a digest by chance).
    for secret in (
        b"Jo Bloggs",
        b"07700",
        b"OX1 2JD",
        b"jo.bloggs@example.com",
        b"Sam",
        b"conv-jo",
    ):
        assert secret not in stored
    (event,) = log.events()
    assert event.question == "my name is [name], call [phone] about bins at [postcode]"
    (rating,) = log.ratings()
    assert rating.question == "email [email] who pays?"
    assert rating.comment == "my son's name is [name] and this is wrong"


def test_report_counts_weeks_unhelpful_articles_and_never_used(tmp_path):
    events = [
        Event(at("2026-11-23"), "answered", "", "funding-elements"),
        Event(at("2026-11-25"), "declined", "bins today", ""),
        Event(at("2026-11-30"), "answered", "", "sen-support"),
        Event(at("2026-12-01"), "declined", "bins tomorrow", ""),
        Event(at("2026-12-02"), "answered", "", "contacts"),
    ]
    ratings = [
        Rating(at("2026-11-24"), "funding-elements", "who pays", False, "wrong"),
        Rating(at("2026-12-01"), "funding-elements", "who pays", True, None),
        Rating(at("2026-12-01"), "sen-support", "what is it", True, None),
    ]
    built = report.build(
        events, ratings, ["funding-elements", "sen-support", "unused"], embed=one_hot
    )
    assert [(w.start, w.answered, w.declined, w.unhelpful) for w in built.weeks] == [
        (date(2026, 11, 23), 1, 1, 1),
        (date(2026, 11, 30), 2, 1, 0),
    ]
    assert [(g.question, g.count) for g in built.unanswered] == [("bins today", 2)]
    (funding,) = built.unhelpful
    assert (funding.article, funding.not_helpful, funding.helpful) == ("funding-elements", 1, 1)
    assert funding.questions == ["who pays", "wrong"]
    assert built.never_used == ["unused"]
    out = tmp_path / "r.csv"
    report.write_csv(built, out)
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["section", "item", "count", "detail"]
    assert ["unanswered", "bins today", "2", "bins tomorrow"] in rows
    assert ["unhelpful", "funding-elements", "1", "who pays | wrong"] in rows
    assert ["never_used", "unused", "0", ""] in rows
    assert ["week_declined", "2026-11-23", "1", ""] in rows
    page = report.html(built)
    assert page.count("<rect") == 2 * 3 + 3  # three bars a week and the legend
    assert "<script" not in page


def test_markup_in_a_question_is_shown_as_text_in_the_html():
    built = report.build(
        [Event(at("2026-11-25"), "declined", "<script>alert(1)</script>", "")],
        [],
        [],
        embed=one_hot,
    )
    page = report.html(built)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_empty_case_says_nothing_was_recorded_and_writes_empty_files(tmp_path, capsys):
    csv_file, html_file = tmp_path / "r.csv", tmp_path / "r.html"
    code = bot_main(
        [
            "report",
            "--db",
            str(tmp_path / "none.sqlite"),
            "--tracker",
            f"sqlite:///{tmp_path / 'no-conversations.db'}",
            "--since",
            "2026-01-01",
            "--csv",
            str(csv_file),
            "--html",
            str(html_file),
        ]
    )
    assert code == 0
    assert "Nothing recorded since 2026-01-01 yet" in capsys.readouterr().out
    assert csv_file.read_text().splitlines() == ["section,item,count,detail"]
    assert "Nothing recorded yet." in html_file.read_text()


def test_since_leaves_out_what_came_before(tmp_path):
    log = ReviewLog(tmp_path / "feedback.sqlite")
    log.record_event("declined", conversation="a", question="old question")
    with log._connect() as conn:
        conn.execute("UPDATE answer_events SET at = '2020-01-01T00:00:00+00:00'")
    log.record_event("declined", conversation="a", question="new question")
    today = datetime.now(UTC).date()
    assert [e.question for e in log.events(today)] == ["new question"]
    assert len(log.events()) == 2


async def test_out_of_scope_questions_come_from_the_conversation_store_redacted(tmp_path):
    """Rasa answers out-of-scope messages itself, so the knowledge action never sees
    them; the report still lists them, from the stored (redacted) conversation."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from channels.tracker_store import RedactingSQLTrackerStore

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = RedactingSQLTrackerStore(
        domain=Domain.empty(), host=url, dialect="sqlite", db="unused.db"
    )
    tracker = DialogueStateTracker.from_events("parent", [])
    for text, intent in (
        ("which swimming pools have hoists? email jo@example.com", "out_of_scope"),
        ("/out_of_scope", "out_of_scope"),
        ("who pays for SEN support?", "who_pays"),
    ):
        tracker.update(UserUttered(text, intent={"name": intent, "confidence": 0.9}))
    await store.save(tracker)
    log = ReviewLog(tmp_path / "feedback.sqlite")
    log.record_event("declined", conversation="a", question="is a therapy dog allowed")
    found = report.from_store(log, articles=[], tracker_url=url)
    questions = [group.question for group in found.unanswered]
    assert len(questions) == 2
    assert "which swimming pools have hoists? email [email]" in questions
    assert found.declined == 2
    assert report.out_of_scope_events(f"sqlite:///{tmp_path / 'none.db'}") == []


def test_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError):
        ReviewLog(tmp_path / "f.sqlite").record_event("maybe", conversation="a")
