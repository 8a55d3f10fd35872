"""How the answer function composes a reply: near ties, sentence choice, synonyms, contacts.

These need no index or model: a small fake retriever stands in for the embeddings
(each sentence's similarity to the question is given by the test).
"""

from __future__ import annotations

from bot.knowledge import answers, compose
from bot.knowledge.answers import Scored, near_ties, second_part
from bot.knowledge.search import Hit, query_tokens, spelled_out, synonyms


def hit(heading: str, text: str, slug: str = "article", source: str = "Page A", dense=0.7) -> Hit:
    return Hit(
        slug=slug,
        title="Title",
        heading=heading,
        text=text,
        area="England",
        audience="parents",
        source_title=source,
        source_publisher="Council",
        source_section=heading,
        dense=dense,
    )


def scored(h: Hit, score: float, question: float = 0.0) -> Scored:
    return Scored(h, question, "", score, {})


class FakeRetriever:
    """Sentence similarities by keyword: a sentence with ``near`` in it is nearest."""

    def __init__(self, near: str = "") -> None:
        self.near = near

    def similarities(self, texts, vector):
        return [1.0 if self.near and self.near in t else 0.1 for t in texts]

    def next_passage(self, h):
        return None


def test_a_near_tie_gives_the_runner_up_a_clear_margin_does_not():
    best = scored(hit("Who can ask", "You can ask yourself."), 1.20)
    close = scored(hit("What it is", "It is a detailed look."), 1.20 - answers.TIE_MARGIN + 0.01)
    far = scored(hit("What it is", "It is a detailed look."), 1.20 - answers.TIE_MARGIN - 0.01)
    assert near_ties([best, close], threshold=0.5) == [close]
    assert near_ties([best, far], threshold=0.5) == []
    assert near_ties([best], threshold=0.5) == []


def test_a_runner_up_too_far_in_meaning_to_answer_alone_is_not_given():
    best = scored(hit("A", "First text here."), 1.0)
    weak = scored(hit("B", "Second text here.", dense=0.3), 0.99, question=0.2)
    assert near_ties([best, weak], threshold=0.5) == []


def test_the_second_part_is_headed_and_names_another_page_as_its_source():
    best = hit("Who can ask", "You can ask for one yourself.")
    other = hit(
        "Time limits", "The council must decide within 6 weeks.", slug="other", source="Page B"
    )
    part = second_part(FakeRetriever(), best, other, best.text, vector=None)
    assert part.startswith("Time limits: The council must decide within 6 weeks.")
    assert part.endswith("(Source: Page B, Council.)")
    same_page = hit("Time limits", "The council must decide within 6 weeks.")
    assert "Source" not in second_part(FakeRetriever(), best, same_page, best.text, vector=None)


def test_a_heading_that_is_a_question_is_not_followed_by_a_colon():
    best = hit("A", "One thing.")
    other = hit("Can a young person ask?", "Yes, from 16 they can ask themselves.")
    part = second_part(FakeRetriever(), best, other, best.text, vector=None)
    assert part.startswith("Can a young person ask? Yes,")


def test_a_runner_up_saying_what_the_reply_already_says_is_left_out():
    text = "If your child has a support plan, you can ask the school for a copy in writing."
    best, other = hit("Copy", text), hit("Getting a copy", text, slug="other")
    assert second_part(FakeRetriever(), best, other, text, vector=None) == ""


def test_the_runner_up_is_cut_to_its_nearest_sentences_to_fit_the_limit():
    best = hit("A", " ".join(["word"] * (compose.TIE_MAX_WORDS - 30)) + ".")
    filler = " ".join(["Filler sentence with several more words in it."] * 6)
    other = hit("B", f"{filler} The deadline is 20 weeks. {filler}", slug="other")
    part = second_part(FakeRetriever(near="deadline"), best, other, best.text, vector=None)
    assert "The deadline is 20 weeks." in part
    assert len(best.text.split()) + len(part.split()) <= compose.TIE_MAX_WORDS + 5


def test_a_sentence_leaning_on_the_one_before_is_kept_with_it():
    text = (
        "Schools get money for SEN. "
        + "Other facts about many things follow here. " * 20
        + "Element 3 is top-up money from the council. This is called the high needs block."
    )
    cut = compose.compose(FakeRetriever(near="This is called"), hit("Funding", text), "q", [0.0])
    assert "Element 3 is top-up money from the council. This is called" in cut
    assert cut.startswith("Schools get money for SEN.")


def test_everyday_words_widen_the_keyword_search():
    table = synonyms()
    assert table, "knowledge/synonyms.yml is read"
    widened = query_tokens("is sen support funded by the LA")
    assert widened[:4] == ["sen", "support", "funded", "la"]
    assert {"local", "authority", "council", "funding"} <= set(widened)
    assert len(widened) == len(set(widened))


def test_the_synonym_table_is_general_vocabulary_one_word_keys():
    for word, wanted in synonyms().items():
        assert word.isalnum() and word == word.lower()
        assert wanted, f"{word} expands to nothing"


def test_a_contact_person_someone_has_is_not_a_request_for_details():
    assert answers.contact_answer("does our school have a named camhs contact?", None) is None
    asked = answers.contact_answer("what is the camhs contact number", None)
    assert asked is not None and asked.kind == "contact"
    assert answers.contact_answer("who is the camhs contact", None) is not None


def test_abbreviations_are_written_out_before_embedding_whole_words_only():
    assert spelled_out("the LA's panel said no") == "the local authority's panel said no"
    assert spelled_out("we asked the la and the LEA") == (
        "we asked the local authority and the local education authority"
    )
    plain = "Lane and Lara asked about a plan"
    assert spelled_out(plain) is plain  # unchanged: the message's own vector still fits


def test_a_long_list_is_cut_at_its_items_with_the_words_that_introduce_it():
    items = "; ".join(f"item number {n} with a few more words in it" for n in range(20))
    text = (
        "Support looks different for each child. The page gives these examples: "
        f"{items}; help with using the toilet and eating."
    )
    reply = compose.compose(FakeRetriever(near="toilet"), hit("Examples", text), "toilet", vector=1)
    assert reply.startswith("Support looks different for each child.")
    assert "The page gives these examples:" in reply
    # The item asked about is there, and the list ends as a sentence.
    assert reply.endswith("help with using the toilet and eating.")
    assert len(reply.split()) <= compose.MAX_ANSWER_WORDS


def test_list_items_read_as_clauses_of_one_sentence():
    from bot.knowledge.articles import punctuated

    lines = ["It names two areas:", "- communication and interaction", "- physical and sensory"]
    assert " ".join(punctuated(lines)) == (
        "It names two areas: communication and interaction; physical and sensory."
    )
    # Numbered items keep their numbers; an item with its own full stop keeps it.
    assert punctuated(["1. universal support", "2. Record of concern."]) == [
        "1. universal support;",
        "2. Record of concern.",
    ]
