"""Staff can check an answer and its evidence in the terminal without Rasa."""

import dataclasses

from bot import __main__ as cli
from bot.knowledge import search as retrieval
from bot.settings import Settings


def test_ask_explain_prints_answer_source_and_scored_passages(knowledge_index, monkeypatch, capsys):
    settings = dataclasses.replace(Settings.from_env(), index_dir=knowledge_index)
    monkeypatch.setattr(retrieval, "get_settings", lambda: settings)
    assert cli.main(["ask", "who pays for extra help, school or council?", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "6,000" in out
    assert "Source: SEN Support in school" in out
    assert "funding-elements" in out and "dense" in out and "bm25" in out


def test_ask_abstains_on_an_unrelated_question(knowledge_index, monkeypatch, capsys):
    settings = dataclasses.replace(Settings.from_env(), index_dir=knowledge_index)
    monkeypatch.setattr(retrieval, "get_settings", lambda: settings)
    cli.main(["ask", "what's the weather in Leeds tomorrow"])
    assert "(declines)" in capsys.readouterr().out


def test_ask_shows_the_decline_the_person_reads(knowledge_index, monkeypatch, capsys):
    settings = dataclasses.replace(Settings.from_env(), index_dir=knowledge_index)
    monkeypatch.setattr(retrieval, "get_settings", lambda: settings)
    cli.main(["ask", "how do i apply for school transport for my autistic son"])
    out = capsys.readouterr().out
    assert out.startswith("(declines) I'm sorry, I can't help with home-to-school transport:")
    cli.main(["ask", "what's the weather in Leeds tomorrow", "--intent", "out_of_scope"])
    assert "I can only help with questions about special educational needs" in (
        capsys.readouterr().out
    )
