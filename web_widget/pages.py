"""Health check and the demo page."""

from __future__ import annotations

import requests
from flask import Blueprint, current_app, jsonify, render_template

bp = Blueprint("pages", __name__)


@bp.get("/healthz")
def healthz():
    """Says the widget app is up, and whether Rasa answers."""
    try:
        rasa_ok = requests.get(current_app.config["RASA_URL"] + "/", timeout=2).ok
    except requests.RequestException:
        rasa_ok = False
    return jsonify({"status": "ok", "rasa": "up" if rasa_ok else "down"})


@bp.get("/demo")
def demo():
    """A sample school page (the widget script arrives with its own issue)."""
    return render_template("demo.html")
