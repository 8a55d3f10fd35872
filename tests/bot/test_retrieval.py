"""Retrieval finds the right article for questions asked in parents' own words."""

from __future__ import annotations

import json

import pytest
import yaml

from bot.knowledge.search import ABSTAIN_BELOW, IndexMismatch, Retriever, shorten
from bot.settings import REPO_ROOT

CASES = yaml.safe_load((REPO_ROOT / "evaluation" / "retrieval_cases.yml").read_text())


@pytest.fixture(scope="module")
def retriever(knowledge_index):
    return Retriever(knowledge_index)


def test_recall_at_3_is_at_least_0_90(retriever):
    misses = []
    reciprocal = 0.0
    for case in CASES["cases"]:
        slugs = [h.slug for h in retriever.search(case["q"], area=case.get("area"), k=3)]
        if case["expect"] in slugs:
            reciprocal += 1 / (slugs.index(case["expect"]) + 1)
        else:
            misses.append((case["q"], case["expect"], slugs))
    n = len(CASES["cases"])
    recall = 1 - len(misses) / n
    print(f"recall@3 {recall:.3f}, MRR@3 {reciprocal / n:.3f} over {n} questions")
    assert recall >= 0.90, misses


def test_unrelated_questions_are_mostly_declined(retriever):
    answered = [q for q in CASES["unrelated"] if not retriever.answer(q).abstained]
    assert len(answered) / len(CASES["unrelated"]) <= 0.15, answered


def test_who_pays_gets_the_funding_elements_with_their_source(retriever):
    answer = retriever.answer("who pays for the extra help at school, them or the council?")
    assert not answer.abstained
    assert answer.hit.slug == "funding-elements"
    assert "6,000" in answer.text
    assert all(f"Element {n}" in answer.text for n in (1, 2, 3)), answer.text
    assert answer.hit.source_publisher
    assert len(answer.text.split()) <= 121


def test_empty_question_abstains_without_error(retriever):
    assert retriever.answer("   ").abstained


@pytest.mark.parametrize("question", ["é" * 1534, "is it the?", "!!!", "😀😀"])
def test_a_question_with_no_searchable_words_is_searched_without_error(retriever, question):
    # bm25s raised IndexError on an empty token list: the action server answered 500.
    hits = retriever.search(question, k=3)
    assert all(hit.slug for hit in hits)


def test_threshold_is_a_real_cosine():
    assert 0.0 < ABSTAIN_BELOW < 1.0


def test_another_countys_local_facts_are_demoted(retriever):
    question = "what does the council's special needs support service do for schools"
    oxford = retriever.search(question, area="Oxfordshire", k=3)
    cornwall = retriever.search(question, area="Cornwall", k=3)
    assert oxford[0].area in ("Oxfordshire", "England")
    assert cornwall[0].area in ("Cornwall", "England")


def test_an_index_from_another_model_is_refused(knowledge_index, tmp_path):
    for name in ("index.faiss", "passages.jsonl"):
        (tmp_path / name).write_bytes((knowledge_index / name).read_bytes())
    manifest = json.loads((knowledge_index / "manifest.json").read_text())
    manifest["model"] = "some-other-model"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match=r"bot\.knowledge\.ingest"):
        Retriever(tmp_path).search("funding")


def test_shorten_keeps_whole_sentences():
    text = "One two three. " * 100
    short = shorten(text, limit=10)
    assert short.endswith(".") and len(short.split()) <= 10


def test_each_search_mode_uses_its_own_scores(retriever):
    question = "what is the K code on the school census"
    dense = retriever.search(question, mode="dense", k=5)
    bm25 = retriever.search(question, mode="bm25", k=5)
    assert all(h.bm25 == 0 for h in dense)
    assert all(h.bm25 > 0 for h in bm25)
    assert [h.bm25 for h in bm25] == sorted((h.bm25 for h in bm25), reverse=True)
    assert "sen-support-k-code" in [h.slug for h in bm25[:3]]


def test_a_question_of_only_unknown_words_finds_no_keyword_hits(retriever):
    assert retriever.search("zzqx wibblefrob", mode="bm25") == []


def test_the_la_is_read_as_the_local_authority(retriever):
    # MiniLM does not know "LA"; written out, the parent's abbreviation finds what the
    # words would (bot/knowledge/abbreviations.yml).
    from bot.knowledge.answers import answer

    short = answer(retriever, "the LA said no to assessing my son, what can i do", None, 0.0, None)
    full = answer(
        retriever, "the local authority said no to assessing my son, what can i do", None, 0.0, None
    )
    assert short.kind == full.kind == "knowledge"
    assert short.hit.slug == full.hit.slug == "ehc-refusal"
    assert short.evidence["question_vector"] == "spelled out"


@pytest.mark.parametrize(
    ("message", "asking"),
    [
        ("im 17. can i ask for an assessment myself?", "can i ask for an assessment myself?"),
        ("My son is 6. He bites staff. Who can help", "Who can help"),
        ("what is sen support", ""),  # one sentence: nothing more to search
        ("He is 6. He bites staff.", ""),  # nothing asked
        # a lead-in before a dash or colon is not part of the question
        (
            "Quick one from a nursery manager near Thame - do we get charged when SENSS come in?",
            "do we get charged when SENSS come in?",
        ),
        ("Question for you: can school refuse to meet me?", "can school refuse to meet me?"),
        ("Year 6 - 11 pupils", ""),  # nothing asked
    ],
)
def test_the_asking_sentence_of_a_story_is_found(message, asking):
    from bot.knowledge.answers import asking_sentence

    assert asking_sentence(message) == asking


def test_a_story_then_a_question_is_searched_for_the_question_too(retriever):
    from bot.knowledge.answers import answer

    reply = answer(
        retriever,
        "my son is autistic and has a TA in class and his review is soon. "
        "can i ask the school what they spend his sen money on?",
        None,
        0.0,
        None,
    )
    assert reply.evidence["asking_sentence"] == (
        "can i ask the school what they spend his sen money on?"
    )
    assert reply.hit is not None and reply.hit.slug == "sen-funding-in-schools"


# Long messages written for these tests (2026-12-07): background, with the SEN part
# in one sentence and no question asked.
LONG_VENTS = [
    (
        (
            "Long day. Dropped the twins at breakfast club, work was mad, the car is making a "
            "noise again and the dog got out. Then a letter from school saying my eldest is "
            "going on the SEN register and they will be writing an SEN Support plan with me. "
            "Tea is burning so I will read it properly later."
        ),
        "sen-support-plans",
    ),
    (
        (
            "Just venting really. Third meeting this term, third new teacher, the head was late "
            "again and the coffee was cold. They keep using the words ordinarily available "
            "provision and I had to pretend I knew what that meant. Anyway, home now, kids fed, "
            "feet up."
        ),
        "ordinarily-available-provision-buckinghamshire",
    ),
]


@pytest.mark.parametrize(("message", "article"), LONG_VENTS)
def test_a_long_message_too_vague_as_a_whole_is_answered_from_its_clearest_sentence(
    retriever, monkeypatch, message, article
):
    from bot.knowledge import answers

    reply = answers.answer(retriever, message, None, 0.0, None)
    assert reply.hit is not None and reply.hit.slug == article
    assert reply.evidence["answered_sentence"] in message
    monkeypatch.setattr(answers, "LONG_WORDS", 10_000)  # the whole message alone
    assert answers.answer(retriever, message, None, 0.0, None).declined


def test_a_sentence_of_background_does_not_answer_instead_of_the_question(retriever):
    from bot.knowledge.answers import answer

    reply = answer(
        retriever,
        "I want to ask the council for an EHC needs assessment for my son. He is 9, "
        "autistic and the school have tried everything in his SEN Support plan for two "
        "years. Nothing has worked and the school agree he needs more. I have heard there "
        "is a time limit for the council to reply to me about it.",
        None,
        0.0,
        None,
    )
    assert reply.hit is not None and reply.hit.slug == "ehc-needs-assessment-timescales"
    assert "6 weeks" in reply.text
    assert "answered_sentence" not in reply.evidence


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        (
            "how do i apply for school transport for my autistic son, his school is 12 miles away",
            "home-to-school transport",
        ),
        (
            "our daughter is in year 10, can she have extra time in her gcses, she's dyslexic",
            "exam access arrangements such as extra time, readers or scribes",
        ),
        # Closer to an article (EHC plans) than to any not-covered question, but it
        # names a subject no article covers.
        (
            "how do I get a blue badge, my son has an ehcp",
            "Blue Badges and disabled parking",
        ),
        # Declined in any case, and nearer the subject it names than any article.
        (
            "we just moved to swansea, how does the ALN system work in wales",
            "SEND support in Wales, Scotland or Northern Ireland, which have their own systems",
        ),
    ],
)
def test_a_question_on_a_subject_no_article_covers_is_declined_naming_it(
    retriever, question, subject
):
    from bot.knowledge.answers import NOT_COVERED, answer

    reply = answer(retriever, question, "request_ehc_assessment", 0.8, None)
    assert reply.declined
    assert reply.evidence["reason"] == NOT_COVERED
    assert reply.evidence["subject"] == subject


@pytest.mark.parametrize(
    "question",
    [
        "my son has dyslexia, what help should school give?",
        "can a school use a calm room for a child with adhd",
        "does my son need a diagnosis to get help",
        # It names a subject no article covers (a taxi), but asks about support.
        "he gets a taxi to school but struggles all day in class, how do I get him more support",
    ],
)
def test_a_question_the_articles_answer_is_not_taken_for_an_uncovered_subject(retriever, question):
    from bot.knowledge.answers import NOT_COVERED, answer

    # Each came within 0.10 of a not-covered question (university finance, exam
    # access arrangements) when the rule was tried at lower thresholds.
    reply = answer(retriever, question, "what_is_sen_support", 0.8, None)
    assert reply.evidence.get("reason") != NOT_COVERED, reply.evidence


@pytest.mark.parametrize(
    "question",
    [
        # exam access arrangements and medicines at school: no article covers them
        "how do i get extra time in my gcses? i have adhd and run out of time every mock",
        "who gives him his ADHD medication at lunch?",
    ],
)
def test_a_question_nearer_an_uncovered_subject_than_any_article_is_declined(
    retriever, question, monkeypatch
):
    from bot.knowledge import answers, decline

    reply = answers.answer(retriever, question, "nlu_fallback", 0.4, None)
    assert reply.declined, reply.evidence
    # Without the rule (and the learned decline) the nearest section, about
    # something else, was the answer.
    monkeypatch.setattr(answers, "NOT_COVERED_NEARER_BELOW", 0.0)
    with decline.disabled():
        assert not answers.answer(retriever, question, "nlu_fallback", 0.4, None).declined


def test_a_contact_answer_shows_staff_the_nearest_passages_too(retriever):
    from bot.knowledge.answers import answer

    reply = answer(retriever, "whats the phone number for senss", "senss", 0.9, None)
    assert reply.kind == "contact" and reply.hit is None  # the details: contacts.yml
    articles = [c["article"] for c in reply.evidence["candidates"]]
    assert "senss-comments-and-complaints" in articles[:5]


def test_every_candidate_carries_its_bm25_score_however_it_was_found(retriever, monkeypatch):
    from bot.knowledge.answers import answer

    scores = retriever.section_bm25("what is the K code on the school census")
    assert scores[("sen-support-k-code", "The K code on the school census")] > 0
    assert retriever.section_bm25("   ") == {}
    # Search finds nothing here, so every candidate comes from its written questions;
    # those with the question's words still weigh them.
    monkeypatch.setattr(retriever, "search", lambda *args, **kwargs: [])
    reply = answer(retriever, "what does the K code on the census mean", None, 0.0, None)
    best = reply.evidence["candidates"][0]
    assert (best["article"], best["heading"]) == (
        "sen-support-k-code",
        "The K code on the school census",
    )
    assert best["features"]["bm25"] > 0


def test_a_long_sections_sentences_are_embedded_once_and_score_the_same(retriever, monkeypatch):
    import bot.knowledge.embeddings as embeddings

    sentences = ["Schools must use their best endeavours.", "Parents should be told."]
    query = retriever.embed("what must schools do")
    first = retriever.similarities(sentences, query)
    calls = []
    real = embeddings.search_embed
    monkeypatch.setattr(embeddings, "search_embed", lambda t: calls.append(t) or real(t))
    assert retriever.similarities(sentences, query) == first  # the same vectors
    assert calls == []  # from the cache, not embedded again
    retriever.similarities(sentences[:1], query)  # another list is embedded
    assert calls == [sentences[:1]]


def test_a_request_for_a_recommendation_is_declined_unless_an_article_answers_it_closely(
    retriever,
):
    from bot.knowledge.answers import OUT_OF_SCOPE_REPLY, answer, decline_response

    hairdresser = answer(
        retriever,
        "can anyone recommend a good hairdresser in Henley who is patient with autistic kids?",
    )
    assert hairdresser.declined
    assert decline_response(hairdresser, None) == OUT_OF_SCOPE_REPLY  # says what it is for
    # Worded as a request for a suggestion, but the articles answer it.
    refused = answer(
        retriever, "can anyone suggest what to do if the council refuses an EHC needs assessment?"
    )
    assert not refused.declined
    assert "appeal" in refused.text
