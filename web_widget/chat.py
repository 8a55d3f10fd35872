"""POST /api/chat: check the message, pass it to Rasa's REST channel, return replies."""

from __future__ import annotations

import re

import requests
from flask import Blueprint, current_app, jsonify, request

bp = Blueprint("chat", __name__, url_prefix="/api")
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CANNOT_CONNECT = (
    "Sorry, I can't connect right now. If you or someone else is in danger, call 999. "
    "For urgent mental health help call NHS 111 and choose the mental health option, "
    "Childline 0800 1111 (under 19s) or Samaritans 116 123. For SEND advice, search "
    "your council's local offer for 'SENDIAS'."
)


def _error(status: int, message: str):
    return jsonify({"error": message}), status


@bp.post("/chat")
def chat():
    """Forward one message to Rasa and return its messages."""
    if not request.is_json:
        return _error(415, "Send JSON with Content-Type: application/json.")
    try:
        request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "The request body must be UTF-8 encoded JSON.")
    payload = request.get_json(silent=True)
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
    try:
        reply = requests.post(
            current_app.config["RASA_URL"] + "/webhooks/rest/webhook",
            json={"sender": session, "message": message.strip()},
            timeout=current_app.config["RASA_TIMEOUT"],
        )
        reply.raise_for_status()
        messages = reply.json()
    except (requests.RequestException, ValueError):
        current_app.logger.exception("Rasa did not answer")
        return jsonify({"error": "unavailable", "messages": [{"text": CANNOT_CONNECT}]}), 503
    return jsonify({"messages": messages})
