"""Ingest builds the index from the articles, reuses unchanged ones, and fails safe."""

from __future__ import annotations

import json
import shutil

import pytest

from bot.knowledge import adapted, index, ingest
from bot.knowledge.articles import passages_of, source_checksum
from bot.knowledge.embeddings import MODEL_NAME, search_model_name
from bot.knowledge.search import abbreviations_checksum
from bot.settings import REPO_ROOT

ARTICLES = REPO_ROOT / "knowledge" / "articles"


@pytest.fixture(scope="module")
def built(tmp_path_factory, knowledge_index):
    root = tmp_path_factory.mktemp("ingest")
    articles = root / "articles"
    shutil.copytree(ARTICLES, articles)
    index_dir = root / "index"
    shutil.copytree(knowledge_index, index_dir)  # ingest re-embeds only what changed
    assert ingest.main([str(articles), "--index-dir", str(index_dir)]) == 0
    return articles, index_dir


def test_every_article_is_indexed_with_its_source(built):
    articles, index_dir = built
    manifest = json.loads((index_dir / "manifest.json").read_text())
    # the search model's name: the bundled MiniLM, adapted when prepare has trained it
    assert manifest["model"] == search_model_name()
    assert manifest["model"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert manifest["dimension"] == 384
    assert set(manifest["sources"]) == {p.name for p in articles.glob("*.md")}
    passages = [json.loads(line) for line in (index_dir / "passages.jsonl").open()]
    assert len(passages) == manifest["passages"]
    funding = [p for p in passages if p["slug"] == "funding-elements"]
    assert any("6,000" in p["text"] for p in funding)
    assert all(p["source_title"] and p["source_publisher"] for p in passages)


def test_check_says_up_to_date_until_an_article_changes(built):
    articles, index_dir = built
    assert ingest.main([str(articles), "--index-dir", str(index_dir), "--check"]) == 0
    extra = articles / "zz-new.md"
    extra.write_text(
        "---\ntitle: New\narea: England\nsource_title: T\n"
        "source_publisher: P\n---\n## A heading\nSome new words here.\n"
    )
    try:
        assert ingest.main([str(articles), "--index-dir", str(index_dir), "--check"]) == 1
        assert ingest.main([str(articles), "--index-dir", str(index_dir)]) == 0
        manifest = json.loads((index_dir / "manifest.json").read_text())
        assert manifest["reused_sources"] == len(manifest["sources"]) - 1
    finally:
        extra.unlink()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"---\ntitle: \xe9\n---\n", "UTF-8"),
        (b"no front matter here", "front matter"),
    ],
)
def test_a_bad_file_is_named_and_the_old_index_keeps_working(
    built, tmp_path, capsys, content, words
):
    articles, index_dir = built
    before = (index_dir / "manifest.json").read_text()
    bad = tmp_path / "bad.md"
    bad.write_bytes(content)
    assert ingest.main([str(articles), str(bad), "--index-dir", str(index_dir)]) == 2
    err = capsys.readouterr().err
    assert "bad.md" in err and words in err
    assert (index_dir / "manifest.json").read_text() == before
    assert (index_dir / "index.faiss").exists()


def test_passages_carry_the_pages_address_date_and_status():
    by_slug = {p.slug: p for path in sorted(ARTICLES.glob("*.md")) for p in passages_of(path)}
    old = by_slug["sen-and-disability"]
    assert (old.source_date, old.source_url, old.no_longer_maintained) == (
        "2018-03-08",
        (
            "https://www2.oxfordshire.gov.uk/cms/content/"
            "introduction-send-and-oxfordshires-action-plan"
        ),
        False,
    )
    law = by_slug["ehc-needs-assessment-timescales"]
    assert law.source_url == "https://legislation.gov.uk/uksi/2014/1530/regulation/5/data.htm"
    assert (law.source_date, law.source_status) == ("2014-06-04", "in force")
    cornwall = by_slug["cornwall-sen-support"]
    assert cornwall.no_longer_maintained and cornwall.source_date == "undated"
    assert all(p.source_date for p in by_slug.values())


def one_article_and_an_index(tmp_path):
    """One article, and an index folder whose manifest the test writes."""
    article = tmp_path / "articles" / "one.md"
    article.parent.mkdir()
    article.write_text(
        "---\ntitle: One\narea: England\nsource_title: T\n"
        "source_publisher: P\nsource_date: 2018-03-08\n---\n## A\nText.\n"
    )
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / index.INDEX).write_bytes(b"")
    return article, index_dir


def test_an_index_in_an_older_format_is_not_up_to_date(tmp_path):
    article, index_dir = one_article_and_an_index(tmp_path)
    manifest = {
        "model": search_model_name(),
        "dimension": 384,
        "sources": {"one.md": source_checksum(article, False)},
        "abbreviations": abbreviations_checksum(),
    }
    for version, up_to_date in ((None, False), (1, False), (index.FORMAT_VERSION, True)):
        if version is not None:
            manifest["format"] = version
        (index_dir / index.MANIFEST).write_text(json.dumps(manifest))
        assert ingest.is_up_to_date([article.parent], index_dir) is up_to_date


def test_an_index_built_with_other_abbreviations_is_not_up_to_date(tmp_path):
    # Questions are embedded with knowledge/abbreviations.yml written out: a changed
    # table means stale question vectors.
    article, index_dir = one_article_and_an_index(tmp_path)
    manifest = {
        "model": search_model_name(),
        "dimension": 384,
        "format": index.FORMAT_VERSION,
        "sources": {"one.md": source_checksum(article, False)},
    }
    for table, up_to_date in (("an older table", False), (abbreviations_checksum(), True)):
        manifest["abbreviations"] = table
        (index_dir / index.MANIFEST).write_text(json.dumps(manifest))
        assert ingest.is_up_to_date([article.parent], index_dir) is up_to_date


def test_question_vectors_are_embedded_again_when_the_abbreviations_change(
    tmp_path, knowledge_index
):
    # A question is embedded spelled out, but its vector is kept by the text as
    # written: after "camhs" left the abbreviations, "what does camhs stand for"
    # kept the vector of "what does child and adolescent mental health services stand
    # for" (cosine 0.27 with its own), and a "what does camhs mean" question missed it.
    import numpy as np

    from bot.knowledge.embeddings import search_embed
    from bot.knowledge.search import spelled_out

    index_dir = tmp_path / "index"
    shutil.copytree(knowledge_index, index_dir)
    stored = np.load(index_dir / index.QUESTION_VECTORS)
    np.save(index_dir / index.QUESTION_VECTORS, np.roll(stored, 1, axis=0))  # all wrong
    manifest = json.loads((index_dir / index.MANIFEST).read_text())
    manifest["abbreviations"] = "another table"
    (index_dir / index.MANIFEST).write_text(json.dumps(manifest))
    assert ingest.main([str(ARTICLES), "--index-dir", str(index_dir)]) == 0
    questions = [json.loads(line) for line in (index_dir / index.QUESTIONS).open()]
    vectors = np.load(index_dir / index.QUESTION_VECTORS)
    fresh = search_embed([spelled_out(q["question"]) for q in questions[:5]])
    assert np.allclose(vectors[:5], fresh, atol=1e-4)


def test_an_index_from_another_search_model_is_not_up_to_date(tmp_path, monkeypatch):
    # Vectors of the bundled MiniLM and of the adapted one are not comparable: an
    # index built with one is rebuilt before the other searches it.
    article, index_dir = one_article_and_an_index(tmp_path)
    manifest = {
        "model": f"{MODEL_NAME} adapted (search-0123456789abcdef)",
        "dimension": 384,
        "format": index.FORMAT_VERSION,
        "sources": {"one.md": source_checksum(article, False)},
        "abbreviations": abbreviations_checksum(),
    }
    (index_dir / index.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setenv(adapted.SETTING, "base")
    assert search_model_name() == MODEL_NAME
    assert not ingest.is_up_to_date([article.parent], index_dir)
    with pytest.raises(index.IndexMismatch, match="adapted"):
        index.load(index_dir)
    manifest["model"] = MODEL_NAME
    (index_dir / index.MANIFEST).write_text(json.dumps(manifest))
    assert ingest.is_up_to_date([article.parent], index_dir)


def test_questions_on_uncovered_subjects_are_indexed_apart_and_checked(built):
    articles, index_dir = built
    not_covered = articles.parent / "not_covered.yml"
    run = [str(articles), "--index-dir", str(index_dir)]
    not_covered.write_text('school uniform grants:\n  - "is there help with uniform costs"\n')
    try:
        assert ingest.main([*run, "--check"]) == 1  # a new file: the index is stale
        assert ingest.main(run) == 0
        assert ingest.main([*run, "--check"]) == 0
        rows = [json.loads(line) for line in (index_dir / "questions.jsonl").open()]
        assert [r for r in rows if "subject" in r] == [
            {
                "subject": "school uniform grants",
                "question": "is there help with uniform costs",
                "words": [],
            }
        ]
        from bot.knowledge.search import Retriever

        retriever = Retriever(index_dir)
        similarity, subject, _ = retriever.not_covered(retriever.embed("help with uniform costs"))
        assert subject == "school uniform grants" and similarity > 0.7
        # The written questions of the articles do not include it.
        assert all(
            "uniform" not in q
            for _, q in retriever.question_matches(
                retriever.embed("help with uniform costs")
            ).values()
        )
        # The other form: words that name the subject, and its questions.
        not_covered.write_text(
            "school uniform grants:\n"
            '  words: ["uniform", "blazer"]\n'
            '  questions: ["is there help with uniform costs"]\n'
        )
        assert ingest.main(run) == 0
        retriever = Retriever(index_dir)
        assert retriever.named_subject("Do we get help buying Blazers?") == (
            "school uniform grants",
            "blazer",
        )
        assert retriever.named_subject("can school help with his reading") == ("", "")
        for wrong in ("- a list, not subjects\n", "uniform grants:\n  words: [uniform]\n"):
            not_covered.write_text(wrong)
            assert ingest.main(run) == 2  # named; the index built before stays
            assert ingest.main([*run, "--check"]) == 1
        not_covered.write_text("- a list, not subjects\n")
        assert ingest.main(run) == 2
        assert ingest.main([*run, "--check"]) == 1
        assert Retriever(index_dir).not_covered(retriever.embed("uniform"))[1] == (
            "school uniform grants"
        )
    finally:
        not_covered.unlink()
    assert ingest.main(run) == 0
