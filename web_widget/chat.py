"""POST /api/chat: check the message, pass it to Rasa's REST channel, return replies.

GET /api/contacts: the SENDIAS and crisis contacts the widget shows when it
cannot reach the assistant, built from knowledge/contacts.yml (every entry names
its source).
"""

from __future__ import annotations

import json
import re

import requests
from flask import Blueprint, current_app, jsonify, request
from flask_limiter.util import get_remote_address

from bot.people.contacts import AREAS, Directory, directory
from bot.people.unavailable import cannot_connect, cannot_look_up

bp = Blueprint("chat", __name__, url_prefix="/api")
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Shown by the widget when it cannot connect, in this order.
CRISIS_IDS = ("emergency_999", "nhs_111_mental_health", "childline", "samaritans")


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def _json_body():
    """The request's JSON, or None when it is not JSON.

    ``get_json(silent=True)`` still raises ``RecursionError`` on deeply nested
    JSON (``[[[[...]]]]``, a few thousand levels), which would be a 500.
    """
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def session_key() -> str:
    """Rate-limit key: the conversation id, or the address when there is none."""
    payload = _json_body()
    session = payload.get("session") if isinstance(payload, dict) else None
    if isinstance(session, str) and SESSION_ID.match(session):
        return "session:" + session
    return address_key()


def address_key() -> str:
    """Rate-limit key for the client's address."""
    return "address:" + get_remote_address()


def _rasa(sender: str, message: str) -> list:
    reply = requests.post(
        current_app.config["RASA_URL"] + "/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=current_app.config["RASA_TIMEOUT"],
    )
    reply.raise_for_status()
    messages = reply.json()
    if not isinstance(messages, list):
        raise ValueError("Rasa did not return a list of messages")
    return messages


@bp.post("/chat")
def chat():
    """Forward one message to Rasa and return its messages.

    Body: ``{"session": "...", "message": "...", "area": "cornwall"}``; ``area``
    is optional and is set once in Rasa's ``area`` slot before the message.
    """
    if not request.is_json:
        return _error(415, "Send JSON with Content-Type: application/json.")
    try:
        request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "The request body must be UTF-8 encoded JSON.")
    payload = _json_body()
    if not isinstance(payload, dict):
        return _error(400, 'Send a JSON object: {"session": "...", "message": "..."}.')
    session = payload.get("session")
    if not isinstance(session, str) or not SESSION_ID.match(session):
        return _error(422, "'session' must be 8 to 64 letters, digits, - or _.")
    message = payload.get("message")
    if not isinstance(message, str) or not message.strip():
        return _error(422, "'message' must be a non-empty string.")
    limit = current_app.config["MAX_MESSAGE_CHARS"]
    if len(message) > limit:
        return _error(413, f"Messages can be at most {limit:,} characters.")
    area = payload.get("area")
    if area is not None and area not in AREAS:
        return _error(422, "'area' must be one of: " + ", ".join(AREAS) + ".")
    try:
        if area:
            # The area the site owner configured (data-area) goes into the same slot
            # a person fills by naming their county; the acknowledgement is dropped.
            _rasa(session, "/inform_area" + json.dumps({"area": area}))
        messages = _rasa(session, message.strip())
    except (requests.RequestException, ValueError) as err:
        current_app.logger.error("Rasa did not answer: %s", err)
        return jsonify({"error": "unavailable", "messages": [{"text": cannot_connect()}]}), 503
    if not messages:
        # Our Rasa channel never answers with nothing (channels/never_silent.py);
        # this covers a Rasa without it: silence must never reach the person.
        current_app.logger.error("Rasa sent no reply to %s", session)
        messages = [{"recipient_id": session, "text": cannot_look_up(area)}]
    return jsonify({"messages": messages})


def _contact_json(contact) -> dict:
    return {
        "id": contact.id,
        "service": contact.service,
        "area": contact.area,
        "phone": contact.phone,
        "text": contact.text,
        "web": contact.web,
        "hours": contact.hours,
        "search_hint": contact.search_hint,
        "source": f"{contact.source_title}, {contact.source_publisher}",
    }


@bp.get("/contacts")
def contacts():
    """Crisis lines and SENDIAS for the area (all areas when none is given)."""
    area = request.args.get("area", "").strip().lower()
    if area and area not in AREAS:
        return _error(422, "'area' must be one of: " + ", ".join(AREAS) + ".")
    path = current_app.config["CONTACTS_PATH"]
    found = Directory.load(path) if path else directory()
    crisis = [_contact_json(found[cid]) for cid in CRISIS_IDS if cid in found.by_id]
    areas = [area] if area and area != "elsewhere" else [a for a in AREAS if a != "elsewhere"]
    sendias = [_contact_json(c) for a in areas for c in found.find("sendias", a)]
    response = jsonify({"crisis": crisis, "sendias": sendias, "fallback": cannot_connect(found)})
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
