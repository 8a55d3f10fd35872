"""POST /api/chat refuses malformed bodies with a 4xx, never a 500 (found by tests/fuzz)."""

from __future__ import annotations

import pytest

from tests.conftest import free_port
from web_widget import create_app


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"session": "abcdefgh12", "message": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
)
def test_deeply_nested_json_is_a_400_not_a_500(body: bytes) -> None:
    # Rasa is never reached: the body is refused before.
    app = create_app({"RASA_URL": f"http://127.0.0.1:{free_port()}", "TESTING": True})
    reply = app.test_client().post("/api/chat", data=body, content_type="application/json")
    assert reply.status_code == 400, reply.get_data(as_text=True)[:200]
    assert "JSON object" in reply.get_json()["error"]
