"""Flask app that serves the embeddable chat widget and passes messages to Rasa.

One blueprint per concern: ``pages`` (front page, health check, demo page, privacy notice),
``embed`` (the ``/widget.js`` script), ``chat`` (``POST /api/chat`` and
``GET /api/contacts``). Security comes from well-kept libraries: flask-cors lets
only the configured sites call the API, Flask-Limiter limits messages per
conversation and per address, flask-talisman sets the Content-Security-Policy
(``frame-ancestors`` from the same site list). The app sets no cookies.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman

from bot.people.unavailable import rate_limited
from bot.settings import get_settings


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory, as in Flask's tutorial app.

    Args:
        test_config: Settings to override (tests pass the Rasa URL, limits, origins).
    """
    settings = get_settings()
    app = Flask(__name__)
    app.config.from_mapping(
        RASA_URL=settings.rasa_url,
        RASA_TIMEOUT=15,
        MAX_MESSAGE_CHARS=1000,
        ALLOWED_ORIGINS=list(settings.allowed_origins),
        RATE_LIMIT_SESSION=settings.rate_limit_session,
        RATE_LIMIT_ADDRESS=settings.rate_limit_address,
        FORCE_HTTPS=not _is_loopback(settings.host),
        CONTACTS_PATH=None,  # None: knowledge/contacts.yml from settings
        RETENTION_DAYS=settings.retention_days,  # stated on /privacy
        # The front page (/) says whether these answer, waiting at most this long.
        ACTIONS_HEALTH_URL=settings.actions_url.removesuffix("/webhook") + "/health",
        STATUS_TIMEOUT=1.5,
    )
    if test_config:
        app.config.update(test_config)

    from web_widget import chat, embed, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(chat.bp)

    origins = list(app.config["ALLOWED_ORIGINS"])
    CORS(app, resources={r"/api/*": {"origins": origins}}, supports_credentials=False)
    Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        session_cookie_secure=False,
        frame_options=None,  # frame-ancestors below says who may frame our pages
        content_security_policy={
            "default-src": "'self'",
            "script-src": "'self'",
            # The widget styles its own shadow root with a <style> element.
            "style-src": "'self' 'unsafe-inline'",
            "img-src": "'self' data:",
            "connect-src": "'self'",
            "form-action": "'self'",
            "base-uri": "'none'",
            "object-src": "'none'",
            "frame-ancestors": " ".join(["'self'", *origins]),
        },
        referrer_policy="no-referrer",
    )

    limiter = Limiter(
        app=app,
        key_func=get_remote_address,
        storage_uri="memory://",
        headers_enabled=True,
        default_limits=[],
    )
    view: Callable[..., Any] = app.view_functions["chat.chat"]
    view = limiter.limit(lambda: app.config["RATE_LIMIT_SESSION"], key_func=chat.session_key)(view)
    view = limiter.limit(lambda: app.config["RATE_LIMIT_ADDRESS"], key_func=chat.address_key)(view)
    app.view_functions["chat.chat"] = view

    @app.errorhandler(429)
    def too_many(_error):
        return jsonify({"error": "rate_limited", "messages": [{"text": rate_limited()}]}), 429

    @app.errorhandler(404)
    def not_found(_error):
        return jsonify({"error": "Not found."}), 404

    @app.errorhandler(405)
    def wrong_method(_error):
        return jsonify({"error": "That method is not allowed here."}), 405

    @app.after_request
    def no_cookies(response):
        # Nothing here needs a cookie; make sure no extension adds one.
        response.headers.pop("Set-Cookie", None)
        return response

    return app
