"""The index on disk (bot.knowledge.index): what is saved loads back, and a manifest
from another model or format is reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.knowledge import index
from bot.knowledge.embeddings import DIMENSION
from bot.knowledge.index import IndexMismatch, Passage


def _passage(n: int, **more) -> Passage:
    return Passage(
        slug=f"article-{n}",
        title="A title",
        heading=f"Heading {n}",
        text=f"Some text {n}.",
        area="England",
        audience="everyone",
        source_title="A page",
        source_publisher="A council",
        source_section="",
        **more,
    )


def _save(index_dir, passages):
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((len(passages), DIMENSION)).astype("float32")
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    questions = [{"slug": "article-0", "heading": "Heading 0", "question": "What?"}]
    index.save(
        index_dir,
        passages,
        matrix,
        index.manifest(passages=len(passages)),
        questions=(questions, matrix[:1]),
    )
    return matrix, questions


def test_what_is_saved_loads_back(tmp_path):
    passages = [_passage(0), _passage(1, source_date="2018-03-08", no_longer_maintained=True)]
    index_dir = tmp_path / "index"
    assert not index.exists(index_dir)
    matrix, questions = _save(index_dir, passages)
    assert index.exists(index_dir)
    loaded = index.load(index_dir)
    assert [index.passage_of(row) for row in loaded.passages] == passages
    assert np.array_equal(np.asarray(loaded.vectors), matrix)
    assert loaded.questions == questions
    assert np.array_equal(loaded.question_vectors, matrix[:1])
    assert loaded.manifest == index.read_manifest(index_dir)
    assert loaded.manifest["index_type"] == "IndexFlatIP"  # chosen by save
    assert loaded.index.ntotal == len(passages)
    assert index.mismatch(loaded.manifest, rows=True) is None
    assert not list(tmp_path.glob(".index-*"))  # the staging folder is gone


def test_a_rebuild_may_reuse_the_vectors(tmp_path):
    index_dir = tmp_path / "index"
    _save(index_dir, [_passage(0)])
    manifest = index.read_manifest(index_dir) or {}
    manifest |= {"passage_counts": {"a.md": 1}, "text_checksums": {"a.md": "abc"}}
    (index_dir / index.MANIFEST).write_text(json.dumps(manifest))
    manifest["abbreviations"] = "spelling"
    (index_dir / index.MANIFEST).write_text(json.dumps(manifest))
    by_text, by_question = index.reusable_vectors(index_dir, "spelling")
    assert list(by_text) == ["abc"] and list(by_question) == ["What?"]
    # Questions are embedded spelled out: with other abbreviations none is reused.
    by_text, by_question = index.reusable_vectors(index_dir, "another spelling")
    assert list(by_text) == ["abc"] and by_question == {}
    manifest["model"] = "some-other-model"
    (index_dir / index.MANIFEST).write_text(json.dumps(manifest))
    assert index.reusable_vectors(index_dir, "spelling") == ({}, {})


def test_a_manifest_mismatch_is_reported(tmp_path):
    index_dir = tmp_path / "index"
    _save(index_dir, [_passage(0)])
    manifest = index.read_manifest(index_dir) or {}
    assert index.mismatch({**manifest, "format": 1}) is None  # search reads older rows
    assert "format 1" in (index.mismatch({**manifest, "format": 1}, rows=True) or "")
    assert "some-other-model" in (index.mismatch({**manifest, "model": "some-other-model"}) or "")
    assert index.mismatch({**manifest, "dimension": 768}) is not None
    assert index.mismatch(None) is not None
    (index_dir / index.MANIFEST).write_text(json.dumps({**manifest, "model": "some-other-model"}))
    with pytest.raises(IndexMismatch, match=r"some-other-model.*bot\.knowledge\.ingest"):
        index.load(index_dir)


def test_rows_of_an_older_index_get_the_defaults():
    newer = ("source_file", "source_url", "source_date", "source_status", "no_longer_maintained")
    row = {k: v for k, v in vars(_passage(0)).items() if k not in newer}
    assert index.passage_of(row) == _passage(0)
