"""knowledge/not_covered.yml: the words that name a subject no article covers."""

from __future__ import annotations

from bot.knowledge.articles import not_covered_of, uses_word
from bot.settings import REPO_ROOT

KNOWLEDGE = REPO_ROOT / "knowledge"


def test_no_article_or_written_question_uses_a_word_that_names_an_uncovered_subject():
    # A question using one of these words is declined as that subject (from a lower
    # similarity than other questions), so a word the articles use would decline
    # questions they answer.
    rows = not_covered_of(KNOWLEDGE / "not_covered.yml")
    words = {w for row in rows for w in row["words"]}
    assert len(words) > 50
    texts = [p.read_text(encoding="utf-8") for p in (KNOWLEDGE / "articles").glob("*.md")]
    texts += [p.read_text(encoding="utf-8") for p in (KNOWLEDGE / "questions").glob("*.yml")]
    used = {w for w in words for text in texts if uses_word(text, w)}
    assert used == set()


def test_every_uncovered_subject_has_questions_and_words():
    rows = not_covered_of(KNOWLEDGE / "not_covered.yml")
    subjects = {row["subject"] for row in rows}
    assert len(subjects) >= 20
    assert all(row["words"] for row in rows)
    assert all(sum(r["subject"] == s for r in rows) >= 3 for s in subjects)
