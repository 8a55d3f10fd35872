"""The service's front page, health check, the demo school page and the privacy notice."""

from __future__ import annotations

import requests
from flask import Blueprint, current_app, jsonify, render_template, request

from bot.people.contacts import AREAS

bp = Blueprint("pages", __name__)


def _answers(url: str, timeout: float) -> bool:
    try:
        return requests.get(url, timeout=timeout).ok
    except requests.RequestException:
        return False


@bp.get("/")
def index():
    """What the service is, whether Rasa and the action server answer, the embed line.

    Both are asked at once with a short timeout (``STATUS_TIMEOUT``), so the page
    comes back quickly even when a part is down.
    """
    from concurrent.futures import ThreadPoolExecutor

    config = current_app.config
    parts = [
        ("Rasa server", config["RASA_URL"].rstrip("/") + "/"),
        ("action server", config["ACTIONS_HEALTH_URL"]),
    ]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        states = list(pool.map(lambda part: _answers(part[1], config["STATUS_TIMEOUT"]), parts))
    rows = [{"name": name, "url": url, "up": up} for (name, url), up in zip(parts, states)]
    snippet = f'<script src="{request.url_root}widget.js" defer></script>'
    response = current_app.make_response(
        render_template(
            "index.html", parts=rows, all_up=all(states), snippet=snippet, url_root=request.url_root
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


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
    """A sample school page that embeds the widget with one script tag.

    ``?area=cornwall`` sets ``data-area``; ``?exit=/path`` points Quick exit at a
    page on this site (the browser test uses it so it never leaves the machine).
    """
    area = request.args.get("area", "oxfordshire")
    exit_url = request.args.get("exit", "")
    if not exit_url.startswith("/") or exit_url.startswith("//"):
        exit_url = ""
    return render_template(
        "demo.html", area=area if area in AREAS else "oxfordshire", exit_url=exit_url
    )


@bp.get("/privacy")
def privacy():
    """What the assistant keeps, where, for how long, and what it never does."""
    return render_template("privacy.html", retention_days=current_app.config["RETENTION_DAYS"])
