"""Raw pages (HTML, text, Markdown) are cleaned of site furniture and indexed safely."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.knowledge import ingest
from bot.knowledge.pages import FURNITURE_LINES, is_furniture, read_page
from bot.settings import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "raw"
PAGES = FIXTURES / "pages"
BAD = FIXTURES / "bad"
# What a parent must never be shown as an answer: site furniture from the pages.
FURNITURE_STRINGS = [
    "Print entire guide",
    "Skip to main content",
    "Was this page",
    "Rate this page",
    "Very poor",
    "no longer maintained",
    "cookies",
    "Share this page",
    "Give us feedback",
    "PrintPrint",
    "Access key details",
    "Bins and recycling",
    "Parking permits",
    "Terms and conditions",
    "trackPage",
    "font-family",
]


def _seeds() -> Path | None:
    for folder in (REPO_ROOT.parent / "shared" / "seeds", Path("/work/shared/seeds")):
        if folder.is_dir() and any(folder.glob("*.txt")):
            return folder
    return None


SEEDS = _seeds()
needs_seeds = pytest.mark.skipif(
    SEEDS is None,
    reason="the seed pages are not here (looked in ../shared/seeds and /work/shared/seeds)",
)


def _from(knowledge_index: Path, index_dir: Path) -> Path:
    """A copy of the session's article index, so ingest only embeds what is new."""
    shutil.copytree(knowledge_index, index_dir)
    return index_dir


def _passages(index_dir: Path) -> list[dict]:
    with open(index_dir / "passages.jsonl", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _text(passage: dict) -> str:
    return f"{passage['title']} {passage['heading']} {passage['text']}"


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory, knowledge_index):
    index_dir = _from(knowledge_index, tmp_path_factory.mktemp("raw") / "index")
    assert (
        ingest.main(
            [
                str(REPO_ROOT / "knowledge" / "articles"),
                "--raw",
                str(PAGES),
                "--index-dir",
                str(index_dir),
            ]
        )
        == 0
    )
    return index_dir


def test_html_page_keeps_its_content_and_drops_every_kind_of_furniture():
    page = read_page(PAGES / "council-page.html")
    assert page.title == "Help at school for children with SEN"
    assert page.publisher == "Example County Council"
    headings = [h for h, _ in page.sections]
    assert headings == [
        "Help at school for children with SEN",
        "Who to talk to first",
        "Reviews",
        "Comments and complaints",
    ]
    text = " ".join(" ".join(lines) for _, lines in page.sections)
    assert "at least three times a year" in text
    assert "bring any reports you already have" in text
    for furniture in FURNITURE_STRINGS:
        assert furniture.lower() not in text.lower(), furniture


def test_text_and_markdown_pages_are_split_under_their_headings_with_an_area():
    text_page = read_page(PAGES / "help-line.txt")
    assert text_page.title == "Talking to someone about SEN in Oxfordshire"
    assert text_page.area == "Oxfordshire"
    assert [h for h, _ in text_page.sections] == ["Getting advice"]
    assert "it is confidential." in text_page.sections[0][1]
    markdown = read_page(PAGES / "plan-notes.md")
    assert markdown.area == "Cornwall"
    assert [h for h, _ in markdown.sections] == ["What the plan should say", "Who keeps a copy"]
    body = " ".join(markdown.sections[0][1])
    assert "See the review guide for more." in body and "](" not in body and "**" not in body


def test_content_whose_class_only_resembles_furniture_is_kept(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><main><h1>Transport</h1>"
        "<div class='shared-content blueprint'><p>Buses are free for pupils "
        "with an EHC plan who live far from school.</p></div>"
        "<div class='share-links'><p>Share on Facebook</p></div>"
        "</main></body></html>"
    )
    text = " ".join(" ".join(lines) for _, lines in read_page(page).sections)
    assert "Buses are free" in text and "Facebook" not in text


def test_a_page_naming_no_county_is_about_england():
    assert read_page(PAGES / "council-page.html").area == "England"


@pytest.mark.parametrize(
    "line",
    [
        "Print entire guide",
        "  • Skip to main content",
        "Was this page helpful?",
        "Very good",
        "This site is no longer maintained",
        "Home > Schools > SEN",
        "Rate this page",
    ],
)
def test_the_documented_furniture_list_catches_site_furniture(line):
    assert is_furniture(line)
    assert FURNITURE_LINES  # one list, documented in bot/knowledge/pages.py


@pytest.mark.parametrize(
    "line",
    [
        "Good practice",
        "Printing costs are paid by the school.",
        "Poor attendance can be a sign of unmet needs.",
    ],
)
def test_real_text_is_not_mistaken_for_furniture(line):
    assert not is_furniture(line)


def test_raw_pages_are_indexed_with_their_metadata(fixture_index):
    raw = [
        p
        for p in _passages(fixture_index)
        if p["source_file"].endswith(("council-page.html", "help-line.txt", "plan-notes.md"))
    ]
    assert {Path(p["source_file"]).name for p in raw} == {
        "council-page.html",
        "help-line.txt",
        "plan-notes.md",
    }
    reviews = next(p for p in raw if p["heading"] == "Reviews")
    assert reviews["title"] == reviews["source_title"] == "Help at school for children with SEN"
    assert reviews["source_publisher"] == "Example County Council"
    assert reviews["area"] == "England"
    assert all(p["text"].strip() for p in raw)
    manifest = json.loads((fixture_index / "manifest.json").read_text())
    assert sum(1 for key in manifest["sources"] if key.startswith("raw:")) == 3


def test_a_raw_page_can_be_found_by_a_question(fixture_index):
    from bot.knowledge.search import Retriever

    hits = Retriever(fixture_index).search(
        "who keeps a copy of my child's written plan in cornwall", area="Cornwall", k=3
    )
    assert "plan-notes" in [h.slug for h in hits]


def test_check_notices_a_changed_raw_page(tmp_path, knowledge_index):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "one.txt").write_text("Advice\n\nSchools must tell parents about SEN support.\n")
    index_dir = _from(knowledge_index, tmp_path / "index")
    articles = REPO_ROOT / "knowledge" / "articles"
    args = [str(articles), "--raw", str(pages), "--index-dir", str(index_dir)]
    assert ingest.main(args) == 0
    assert ingest.main(args + ["--check"]) == 0
    (pages / "one.txt").write_text("Advice\n\nSchools must involve parents in reviews.\n")
    assert ingest.main(args + ["--check"]) == 1
    assert ingest.main(args) == 0
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["reused_sources"] == len(manifest["sources"]) - 1  # only the page


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty.txt", "empty"),
        ("picture.html", "binary"),
        ("latin.txt", "not UTF-8"),
        ("only-furniture.html", "no text left"),
    ],
)
def test_a_bad_page_is_named_and_the_previous_index_keeps_working(
    fixture_index, capsys, name, words
):
    from bot.knowledge.search import Retriever

    before = (fixture_index / "manifest.json").read_text()
    code = ingest.main(
        [
            str(REPO_ROOT / "knowledge" / "articles"),
            "--raw",
            str(PAGES),
            str(BAD / name),
            "--index-dir",
            str(fixture_index),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert name in err and words in err and "Traceback" not in err
    assert (fixture_index / "manifest.json").read_text() == before
    answer = Retriever(fixture_index).answer("who pays for the first £6,000 of SEN support")
    assert not answer.abstained and "6,000" in answer.text


def test_a_file_of_another_kind_is_refused_by_name(tmp_path, capsys):
    pdf = tmp_path / "leaflet.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert ingest.main(["--raw", str(pdf), "--index-dir", str(tmp_path / "i")]) == 2
    assert "leaflet.pdf" in capsys.readouterr().err


def test_extra_sources_setting_is_ingested_by_default(tmp_path, monkeypatch, knowledge_index):
    from bot.settings import get_settings

    page = tmp_path / "extra.md"
    page.write_text(
        "# Extra page\n\n## Transport\n\nSchool transport is arranged by the council.\n"
    )
    monkeypatch.setenv("SENBOT_EXTRA_SOURCES", str(page))
    monkeypatch.setenv("SENBOT_INDEX_DIR", str(_from(knowledge_index, tmp_path / "index")))
    get_settings.cache_clear()
    try:
        assert ingest.main([]) == 0
        assert ingest.main(["--check"]) == 0
    finally:
        get_settings.cache_clear()
    assert any(p["slug"] == "extra" for p in _passages(tmp_path / "index"))


def test_ingest_chooses_ivf_above_the_size_threshold(tmp_path, knowledge_index):
    import faiss

    from bot.knowledge.search import Retriever

    articles = REPO_ROOT / "knowledge" / "articles"
    small = ingest.build([articles], _from(knowledge_index, tmp_path / "flat"), ivf_from=10**9)
    big = ingest.build([articles], _from(knowledge_index, tmp_path / "ivf"), ivf_from=50)
    assert small["index_type"] == "IndexFlatIP"
    assert big["index_type"] == "IndexIVFFlat" and big["nprobe"] >= 1
    assert isinstance(faiss.read_index(str(tmp_path / "ivf" / "index.faiss")), faiss.IndexIVFFlat)
    answer = Retriever(tmp_path / "ivf").answer(
        "who pays for the extra help at school, them or the council?"
    )
    assert answer.hit is not None and answer.hit.slug == "funding-elements"


# --- the real seed pages -------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, knowledge_index):
    index_dir = _from(knowledge_index, tmp_path_factory.mktemp("seeds") / "index")
    seeds = sorted(SEEDS.glob("*.txt"))
    assert (
        ingest.main(
            [
                "--raw",
                *map(str, seeds),
                "--index-dir",
                str(index_dir),
                str(REPO_ROOT / "knowledge" / "articles"),
            ]
        )
        == 0
    )
    return index_dir


def _seed_passages(index_dir: Path) -> list[dict]:
    return [p for p in _passages(index_dir) if Path(p["source_file"]).parent == SEEDS]


@needs_seeds
def test_every_seed_page_yields_passages(seed_index):
    found = {Path(p["source_file"]).name for p in _seed_passages(seed_index)}
    for seed in SEEDS.glob("*.txt"):
        assert seed.name in found, seed.name


@needs_seeds
def test_no_seed_passage_contains_furniture(seed_index):
    for passage in _seed_passages(seed_index):
        for furniture in FURNITURE_STRINGS:
            assert furniture.lower() not in _text(passage).lower(), (furniture, passage)


@needs_seeds
def test_a_phone_number_and_email_from_a_seed_survive(seed_index):
    senss = [
        p
        for p in _seed_passages(seed_index)
        if p["source_file"].endswith("000_642e97f71b79dfd4.txt")
    ]
    text = " ".join(p["text"] for p in senss)
    assert "01865 323070" in text and "senss@oxfordshire.gov.uk" in text
    assert all(p["area"] == "Oxfordshire" for p in senss)


@needs_seeds
def test_seed_pages_get_titles_and_the_county_they_are_about(seed_index):
    by_file = {}
    for p in _seed_passages(seed_index):
        by_file.setdefault(Path(p["source_file"]).name, p)
    assert by_file["001_e35a519b7f0bc7b9.txt"]["source_title"] == (
        "Introduction to SEND and Oxfordshire's action plan"
    )
    assert by_file["001_e35a519b7f0bc7b9.txt"]["source_publisher"] == "Oxfordshire County Council"
    assert by_file["004_67a9c1746ee9dd83.txt"]["area"] == "Cornwall"
    assert by_file["004_67a9c1746ee9dd83.txt"]["source_title"] == "Meeting Needs at SEN Support"
    assert by_file["003_a9549bfb166fddc8.txt"]["area"] == "Buckinghamshire"
    assert not any(re.search(r"\bPrint\b", p["text"]) for p in by_file.values())
