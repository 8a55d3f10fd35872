"""The staff console prints replies cleanly and explains them from the assistant's data."""

from __future__ import annotations

import io

from rich.console import Console

from bot.staff.console import (
    Rendered,
    Session,
    TrackerTurn,
    latest_turn,
    render_explanation,
    render_reply,
)

SOURCE = {
    "title": "SEN support in schools",
    "publisher": "Oxfordshire County Council",
    "area": "Oxfordshire",
    "article": "sen-support",
    "heading": "What it is",
}
EXPLANATION = {
    "intent": "sen_support",
    "confidence": 0.91,
    "area": None,
    "kind": "knowledge",
    "pipeline": "v2",
    "decline_below": 0.5,
    "best_similarity": 0.72,
    "candidates": [
        {
            "article": "sen-support",
            "heading": "What it is",
            "dense": 0.72,
            "bm25": 9.1,
            "fused": 0.03,
            "question": 0.68,
            "matched_question": "what is sen support",
            "score": 1.27,
            "features": {"dense": 0.72, "question": 0.68, "bm25": 1.0},
        },
        {
            "article": "ehc-needs-assessment",
            "heading": "Who can ask",
            "dense": 0.41,
            "bm25": 3.0,
            "fused": 0.02,
            "question": 0.3,
            "matched_question": "",
            "score": 0.71,
            "features": {"bm25": 0.33},
        },
    ],
}
ANSWER = [
    {"recipient_id": "s", "text": "SEN Support is the help a school gives [a child]."},
    {
        "recipient_id": "s",
        "text": "Source: SEN support in schools - Oxfordshire County Council (Oxfordshire)",
    },
    {"recipient_id": "s", "custom": {"source": SOURCE, "explanation": EXPLANATION}},
    {
        "recipient_id": "s",
        "text": "Was this helpful?",
        "buttons": [
            {"title": "Yes, it helped", "payload": '/give_feedback{"helpful": "yes"}'},
            {"title": "No, it didn't", "payload": '/give_feedback{"helpful": "no"}'},
        ],
    },
]
TRACKER = {
    "events": [
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "text": "what is sen support",
            "parse_data": {
                "intent": {"name": "sen_support", "confidence": 0.91},
                "intent_ranking": [
                    {"name": "sen_support", "confidence": 0.91},
                    {"name": "ehc_assessment", "confidence": 0.05},
                    {"name": "nlu_fallback", "confidence": 0.4},
                ],
                "safety": {"kind": "none", "layer": "", "evidence": "", "score": 0.12},
            },
        },
        {"event": "action", "name": "action_answer_from_knowledge"},
        {"event": "bot", "text": "SEN Support is ..."},
        {"event": "action", "name": "action_listen"},
    ]
}


def plain(items) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    for item in items:
        console.print(item)
    return console.file.getvalue()


def test_an_answer_prints_text_source_line_and_numbered_choices_without_json():
    rendered = render_reply(ANSWER)
    out = plain(rendered.lines)
    assert out.splitlines() == [
        "SEN Support is the help a school gives [a child].",  # brackets kept, not markup
        "  Source: SEN support in schools - Oxfordshire County Council (Oxfordshire)",
        "Was this helpful?",
        "  1. Yes, it helped",
        "  2. No, it didn't",
        "  (type a number to choose, or ask something else)",
    ]
    assert "custom" not in out.lower() and "{" not in out
    assert [b["title"] for b in rendered.buttons] == ["Yes, it helped", "No, it didn't"]
    assert rendered.explanations == [EXPLANATION]


def test_the_explanation_shows_intents_crisis_check_actions_passages_and_threshold():
    out = plain(render_explanation([EXPLANATION], latest_turn(TRACKER)))
    assert "intent: sen_support 0.91" in out
    assert "ehc_assessment 0.05" in out
    assert "crisis check: did not fire (score 0.12)" in out
    assert "actions: action_answer_from_knowledge" in out
    assert "decline threshold 0.5" in out and "best similarity 0.72" in out
    first, second = (
        line
        for line in out.splitlines()
        if "sen-support >" in line or "ehc-needs-assessment >" in line
    )
    assert "1.270" in first and "0.720" in first and "what is sen support" in first
    assert "0.710" in second
    assert "contacts used: none" in out


def test_a_crisis_that_fired_says_which_layer_and_why():
    tracker = {
        "events": [
            {
                "event": "user",
                "parse_data": {
                    "intent": {"name": "crisis", "confidence": 1.0},
                    "intent_ranking": [{"name": "crisis", "confidence": 1.0}],
                    "safety": {
                        "kind": "crisis",
                        "layer": "phrase",
                        "evidence": "want to die",
                        "score": 1.0,
                    },
                },
            },
            {"event": "action", "name": "utter_crisis"},
        ]
    }
    out = plain(render_explanation([], latest_turn(tracker)))
    assert "FIRED: crisis by the phrase layer, score 1.0; evidence: want to die" in out
    assert "actions: utter_crisis" in out
    assert "knowledge: not searched" in out


def test_a_declined_question_and_a_contact_answer_are_explained():
    declined = {
        "kind": "declined",
        "reason": "nothing close enough",
        "decline_below": 0.55,
        "best_similarity": 0.31,
        "candidates": [],
    }
    contact = {"kind": "contact", "contacts": ["sendias_oxfordshire"]}
    out = plain(render_explanation([declined, contact], TrackerTurn(None, [], "API off")))
    assert (
        "DECLINED (nothing close enough); best similarity 0.31 against the decline "
        "threshold 0.55" in out
    )
    assert "contacts used: sendias_oxfordshire" in out
    assert "intent ranking: not available (API off)" in out


def test_a_question_on_a_subject_no_article_covers_shows_that_subject():
    declined = {
        "kind": "declined",
        "reason": "not covered",
        "decline_below": 0.45,
        "best_similarity": 0.44,
        "candidates": [],
        "not_covered": {
            "similarity": 0.92,
            "subject": "home-to-school transport",
            "question": "how do i apply for school transport",
        },
    }
    out = plain(render_explanation([declined], TrackerTurn(None, [], "API off")))
    assert "DECLINED (not covered)" in out
    assert (
        "nearest subject no article covers: home-to-school transport (0.92, like 'how do i "
        "apply for school transport')" in out
    )


class FakeClient:
    rasa_url = "http://rasa"

    def __init__(self):
        self.sent: list[str] = []
        self.sender = "staff-1"

    def send(self, message):
        self.sent.append(message)
        return ANSWER

    def latest_turn(self):
        return latest_turn(TRACKER)


def test_typing_a_number_sends_that_button_and_other_text_is_a_new_question():
    client = FakeClient()
    console = Console(file=io.StringIO(), width=160, color_system=None)
    session = Session(client, console)
    session.run(
        ["what is sen support", "2", "3", "/explain", "and funding?", "/quit", "never sent"]
    )
    assert client.sent == [
        "what is sen support",
        '/give_feedback{"helpful": "no"}',
        "3",
        "and funding?",
    ]
    out = console.file.getvalue()
    assert "(chose: No, it didn't)" in out
    assert out.count("why:") == 1  # only after /explain


def test_no_reply_is_said_plainly():
    assert plain(render_reply([]).lines).strip() == "(no reply)"
    assert isinstance(render_reply([]), Rendered)
