"""Flask app that serves the chat widget and passes messages to Rasa.

This is the foundation's version: a placeholder demo page, a health check and
the chat API. The embeddable widget script has its own issue.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from bot.settings import get_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory, as in Flask's tutorial app."""
    settings = get_settings()
    app = Flask(__name__)
    app.config.from_mapping(
        RASA_URL=settings.rasa_url,
        RASA_TIMEOUT=15,
        MAX_MESSAGE_CHARS=1000,
    )
    if test_config:
        app.config.update(test_config)

    from web_widget import chat, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(chat.bp)
    return app
