"""/privacy states the real retention period and what is redacted before storing."""

from __future__ import annotations

import re

from web_widget import create_app


def _page(**config) -> str:
    app = create_app({"TESTING": True, **config})
    reply = app.test_client().get("/privacy")
    assert reply.status_code == 200
    return re.sub(r"\s+", " ", reply.get_data(as_text=True))


def test_privacy_page_states_the_retention_setting_in_days(monkeypatch) -> None:
    monkeypatch.delenv("SENBOT_RETENTION_DAYS", raising=False)
    from bot.settings import Settings

    assert Settings.from_env().retention_days == 30
    text = _page(RETENTION_DAYS=Settings.from_env().retention_days)
    assert "a conversation is deleted 30 days after its last message" in text
    assert "until the organisation running the assistant deletes them" not in text
    assert "deleted 7 days" in _page(RETENTION_DAYS=7)


def test_privacy_page_says_what_is_redacted() -> None:
    text = _page()
    for token in ("[email]", "[phone]", "[postcode]", "[name]", "[number]"):
        assert f"<code>{token}</code>" in text
    assert "still reads your message as you typed it" in text
