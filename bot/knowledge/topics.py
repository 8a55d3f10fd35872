"""The SEND topics people ask about: one per question intent.

Each topic has a short title (for "Did you mean ...?" buttons) and a plain question
that is searched for when the person pressed a button instead of typing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    intent: str
    title: str
    question: str
    articles: tuple[str, ...] = ()  # the articles that answer it, best first


TOPICS = {
    t.intent: t
    for t in (
        Topic(
            "what_is_sen_support",
            "What SEN Support is",
            "What is SEN Support?",
            ("what-is-sen-support", "sen-support-k-code"),
        ),
        Topic(
            "sen_vs_disability",
            "SEN and disability",
            "What is the difference between SEN and a disability?",
            ("sen-and-disability", "what-is-sen"),
        ),
        Topic(
            "levels_of_support",
            "Levels of support and the K code",
            "What are the levels of support and the K code?",
            ("levels-of-support", "sen-support-k-code"),
        ),
        Topic(
            "graduated_approach",
            "Assess, plan, do, review",
            "What is the graduated approach: assess, plan, do, review?",
            ("graduated-approach", "cornwall-graduated-response"),
        ),
        Topic(
            "sen_support_examples",
            "What support can look like",
            "What can SEN support at school look like?",
            ("sen-support-examples", "group-support-maths", "buckinghamshire-good-practice"),
        ),
        Topic(
            "school_duties",
            "What schools must do",
            "What must schools do for pupils with SEN?",
            ("school-duties-code-of-practice", "senco-and-who-is-responsible"),
        ),
        Topic(
            "senco_role",
            "The SENCo",
            "What does the SENCo do?",
            ("senco-and-who-is-responsible", "cornwall-who-is-responsible"),
        ),
        Topic(
            "support_plan",
            "SEN Support plans",
            "What goes in a SEN Support plan?",
            ("sen-support-plans",),
        ),
        Topic(
            "meetings_and_reviews",
            "Meetings and reviews",
            "How often should school meet us to review SEN support?",
            ("meetings-and-reviews", "cornwall-who-is-responsible", "ehc-plan-annual-review"),
        ),
        Topic(
            "raise_concern",
            "Raising a concern",
            "How do I raise a concern about my child's SEN with the school?",
            ("raising-concerns", "how-school-decides-sen-support"),
        ),
        Topic(
            "diagnosis_needed",
            "Is a diagnosis needed?",
            "Does my child need a diagnosis to get SEN support?",
            ("diagnosis-not-needed",),
        ),
        Topic(
            "mental_health_help",
            "Mental health help",
            "Where can a young person get mental health help?",
            (
                "mental-health-urgent-help",
                "camhs-buckinghamshire",
                "mental-health-support-teams-buckinghamshire",
                "mental-health-informal-help-buckinghamshire",
            ),
        ),
        Topic(
            "funding",
            "Who pays for support",
            "Who pays for SEN support: funding elements 1, 2 and 3?",
            ("funding-elements", "sen-funding-in-schools", "group-support-maths"),
        ),
        Topic(
            "request_ehc_assessment",
            "Asking for an EHC needs assessment",
            "How do I ask for an EHC needs assessment?",
            (
                "ehc-needs-assessment-request",
                "when-sen-support-is-not-enough",
                "ehc-needs-assessment-who-can-ask",
                "ehc-needs-assessment-timescales",
                "ehc-refusal",
                "ehc-draft-plan",
                # the rest of the statutory process the intent's examples ask about:
                # a re-assessment, and the appeal after a refusal
                "ehc-plan-annual-review",
                "mediation-and-send-tribunal-appeals",
            ),
        ),
        Topic(
            "ehcp_vs_sen_support",
            "EHC plans and SEN Support",
            "What if SEN Support is not enough, and how is an EHC plan different?",
            ("when-sen-support-is-not-enough", "ehc-needs-assessment-request", "levels-of-support"),
        ),
        Topic("local_offer", "The local offer", "What is the local offer?", ("local-offer",)),
        Topic(
            "senss",
            "SENSS in Oxfordshire",
            "What does Oxfordshire's Special Educational Needs Support Service (SENSS) do?",
            (
                "senss-oxfordshire",
                "senss-costs-and-confidentiality",
                "senss-impact-and-survey",
                "senss-comments-and-complaints",
            ),
        ),
        Topic(
            "inspection_action_plan",
            "Oxfordshire's inspection and action plan",
            "What did Oxfordshire's SEND inspection find and what is the action plan?",
            ("oxfordshire-send-inspection-2017", "oxfordshire-send-programme-board"),
        ),
    )
}


def question_for(intent: str | None, text: str) -> str:
    """What to search for: the text typed, or the topic's question for a button press."""
    text = (text or "").strip()
    if text.startswith("/") and intent in TOPICS:
        return TOPICS[intent].question
    return text


# Trust the classifier's topic above this confidence (after the fallback classifier
# has let the message through).
TRUST_TOPIC = 0.6


def answer_for(retriever, question: str, intent: str | None, confidence: float, area: str | None):
    """Retrieval's answer, kept on the topic the classifier is sure of.

    When the classifier is confident of a SEND topic and retrieval's best passage
    comes from an article about something else, the best passage from the topic's own
    articles is used instead (it is still the one retrieval ranked highest among them).
    """
    from bot.knowledge.search import CANDIDATES, MAX_QUERY_CHARS, Answer, answer_from, shorten

    if not question.strip():
        return Answer(abstained=True)
    # One search serves both: its top three give retrieval's own answer, the rest
    # the topic's best passage.
    hits = retriever.search(question[:MAX_QUERY_CHARS], area=area, k=CANDIDATES)
    answer = answer_from(hits)
    topic = TOPICS.get(intent or "")
    if topic is None or confidence < TRUST_TOPIC:
        return answer
    if not answer.abstained and answer.hit is not None and answer.hit.slug in topic.articles:
        return answer
    on_topic = [h for h in hits if h.slug in topic.articles]
    if not on_topic:
        return answer
    return Answer(abstained=False, text=shorten(on_topic[0].text), hit=on_topic[0])
