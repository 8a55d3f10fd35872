"""How a chosen section becomes the reply text: :func:`compose` and :func:`second_part`.

:func:`bot.knowledge.answers.answer` chooses the section (and, on a near tie, the
runner-up); this module cuts them to fit: a section of at most
:data:`~bot.knowledge.search.MAX_ANSWER_WORDS` words whole, a longer one to its first
sentence and the sentences nearest the question, in their own order (a sentence that
leans on the one before kept with it, a list cut at its items with its lead-in), a
very short one followed by the next section of its article, and the runner-up as a
second paragraph under its heading, naming its page.
"""

from __future__ import annotations

import re
from typing import Any

from bot.knowledge.search import MAX_ANSWER_WORDS, Hit, Retriever, shorten, tokens

SHORT_WORDS = 25  # a section this short is followed by the next one of its article
TIE_SAME = 0.75  # share of the runner-up's words already in the reply
TIE_MAX_WORDS = MAX_ANSWER_WORDS  # the whole reply, both sections, at most


def second_part(retriever: Retriever, best: Hit, other: Hit, first: str, vector: Any) -> str:
    """The runner-up section as a second paragraph, named, or "" when it adds nothing.

    Headed by its section heading; its source is named in the text when it is not
    the best section's page (the source line after the reply names that one). Cut
    to the sentences nearest the question so both fit in :data:`TIE_MAX_WORDS`;
    nothing when no whole sentence fits or its text is already in the reply.
    """
    budget = TIE_MAX_WORDS - len(first.split())
    body = other.text.strip()
    words = set(tokens(body))
    if not words or budget < 15 or len(words & set(tokens(first))) >= TIE_SAME * len(words):
        return ""
    body = _nearest_sentences(retriever, body, vector, budget)
    if not body:
        return ""
    part = f"{_labelled(other.heading)} {body}"
    if (other.source_title, other.source_publisher) != (best.source_title, best.source_publisher):
        part += f" (Source: {other.source_title}, {other.source_publisher}.)"
    return part


def _labelled(heading: str) -> str:
    """A heading to start a paragraph: "Heading:", or as it is when it is a question."""
    heading = heading.strip()
    return heading if heading.endswith(("?", "!", ".")) else f"{heading}:"


SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LEADING_JOINER = re.compile(
    r"^(?:also|and|but|so|however|this|these|that|those|it|they|then)\b[,\s]*", re.I
)


def compose(retriever: Retriever, hit: Hit, question: str, vector: Any = None) -> str:
    """The answer text from the chosen section.

    A section of at most :data:`MAX_ANSWER_WORDS` words is given whole; a longer
    one is cut to its first sentence and the sentences nearest the question, in
    their own order (a sentence starting "This", "It", "Also" ... only with the
    one before it); a section under :data:`SHORT_WORDS` words is followed by the
    next section of the same article when that keeps it under the limit.
    """
    text = hit.text.strip()
    if len(text.split()) < SHORT_WORDS:
        following = retriever.next_passage(hit)
        if following is not None and len((text + " " + following.text).split()) <= MAX_ANSWER_WORDS:
            text = f"{text} {_labelled(following.heading)} {following.text.strip()}"
    if len(text.split()) <= MAX_ANSWER_WORDS:
        return text
    vector = vector if vector is not None else retriever.embed(question)
    return shorten(_nearest_sentences(retriever, text, vector, MAX_ANSWER_WORDS, first=True))


def _nearest_sentences(
    retriever: Retriever, text: str, vector: Any, limit: int, first: bool = False
) -> str:
    """``text`` cut to its sentences nearest the query (in their own order) within
    ``limit`` words; with ``first`` its first sentence is always kept. "" when
    nothing fits.

    A list ("...: an item; another item; the last.", as ingest writes one) is cut
    at its items: an item comes with the words that introduce the list, and the
    last item kept ends the sentence.
    """
    if len(text.split()) <= limit:
        return text
    units, lead_ins = _units(text)
    similarities = retriever.similarities(units, vector)
    keep: set[int] = set()
    words = 0
    if first:
        keep.add(0)
        words = len(units[0].split())
    for i in sorted(range(len(units)), key=lambda j: -similarities[j]):
        # An item comes with its list's lead-in; a sentence that leans on the one
        # before ("This ...", "It ...") comes with it.
        lead_in = lead_ins[i]
        group: list[int] = [i] if lead_in is None else [lead_in, i]
        while (
            group[0] > 0
            and group[0] - 1 not in keep
            and lead_ins[group[0]] is None
            and _LEADING_JOINER.match(units[group[0]])
        ):
            group.insert(0, group[0] - 1)
        group = [j for j in group if j not in keep]
        n = sum(len(units[j].split()) for j in group)
        if not group or words + n > limit:
            continue
        keep.update(group)
        words += n
    kept = sorted(keep)
    parts = []
    for k, i in enumerate(kept):
        part = units[i]
        following = kept[k + 1] if k + 1 < len(kept) else None
        if (
            lead_ins[i] is not None
            and part.endswith(";")
            and (following is None or lead_ins[following] != lead_ins[i])
        ):
            part = part[:-1] + "."  # the last item kept ends the list
        parts.append(part)
    return " ".join(parts)


_LIST = re.compile(r"^(.*?:)\s+(.+;.*)$")
_ITEM_END = re.compile(r"(?<=;)\s+")


def _units(text: str) -> tuple[list[str], list[int | None]]:
    """The sentences of ``text``, a list's items apart, with each item's lead-in index."""
    units: list[str] = []
    lead_ins: list[int | None] = []
    for sentence in (s for s in SENTENCE_END.split(text) if s.strip()):
        found = _LIST.match(sentence)
        if found is None:
            units.append(sentence)
            lead_ins.append(None)
            continue
        lead_in = len(units)
        units.append(found.group(1))
        lead_ins.append(None)
        for item in _ITEM_END.split(found.group(2)):
            if item.strip():
                units.append(item.strip())
                lead_ins.append(lead_in)
    return units, lead_ins
