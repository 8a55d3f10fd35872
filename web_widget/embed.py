"""GET /widget.js: the one-file embed script, cached briefly by browsers."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_file

bp = Blueprint("embed", __name__)
WIDGET_JS = Path(__file__).parent / "static" / "widget.js"


@bp.get("/widget.js")
def widget_js():
    """The embed script; any site may load it, only allowed sites may call the API."""
    response = send_file(
        WIDGET_JS, mimetype="text/javascript", conditional=True, etag=True, max_age=300
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
