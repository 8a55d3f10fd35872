"""Hypothesis strategies for malformed chat requests: what a broken or hostile client sends."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Bounded: each example is a real HTTP request or socket.io event to the running stack.
# SENBOT_FUZZ_EXAMPLES runs a longer hunt (e.g. 2000) outside the test command.
FUZZ = settings(
    max_examples=int(os.environ.get("SENBOT_FUZZ_EXAMPLES", "100")),
    deadline=None,
    database=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+"
    r"|\b(?:KeyError|TypeError|AttributeError|ValueError|RecursionError"
    r"|UnicodeEncodeError|UnicodeDecodeError)\b"
)

MARKUP = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<b>bold</b>",
        "javascript:alert(1)",
        "{{7*7}}",
        "${7*7}",
        "{% raw %}",
        "%s%s%s%n",
        "'; DROP TABLE events; --",
        "\x00",
        "\u202etxet",
        "\ufeff",
        "\r\n\r\n",
        "../../etc/passwd",
        "[link](javascript:x)",
        "/restart",
        "/session_start",
        "/",
        "//",
        "/nlu_fallback",
        "/greet",
        "/inform_area",
        '/inform_area{"area": "<script>x</script>"}',
        '/inform_area{"area": [1, {"a": null}]}',
        "/ask_who_pays{not json",
        '/greet{"a": ' + "[" * 200 + "]" * 200 + "}",
        "/action_listen",
        "/utter_crisis",
        "who pays for SEN support?",
    ]
)
LONE_SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
ANY_CHAR = st.one_of(st.characters(), LONE_SURROGATE)
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=200),
    st.text(max_size=50),
    MARKUP,
    st.tuples(MARKUP, st.text(ANY_CHAR, max_size=20)).map("".join),
    st.builds(
        lambda name, body: "/" + name + json.dumps(body),
        st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
        st.dictionaries(
            st.text(max_size=8),
            st.one_of(st.none(), st.text(max_size=20), st.integers()),
            max_size=3,
        ),
    ),
)
# Huge strings are built, not drawn character by character.
HUGE = st.builds(
    lambda c, n: c * n,
    st.sampled_from(["a", "é", "😀", "<b>", " ", "\n"]),
    st.integers(1_001, 200_000),
)
JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.integers(min_value=10**30, max_value=10**40),
    TEXT,
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def deep(n: int, kind: str) -> Any:
    """A value nested ``n`` levels deep (lists or objects)."""
    value: Any = "x"
    for _ in range(n):
        value = [value] if kind == "list" else {"a": value}
    return value


DEEP_JSON = st.builds(
    lambda n, k: "[" * n + "]" * n if k == "raw" else deep(min(n, 500), k),
    st.integers(2, 50_000),
    st.sampled_from(["raw", "list", "dict"]),
)
FIELD = st.one_of(TEXT, JSON_VALUE, HUGE, DEEP_JSON.filter(lambda v: not isinstance(v, str)))


def encode(value: Any, how: str) -> bytes:
    """JSON bytes, with lone surrogates escaped (\\ud800) or written as raw bytes."""
    if how == "raw-surrogates":
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if how == "ascii":
        return json.dumps(value).encode("ascii")
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value).encode("ascii")


def _body(fields: dict[str, Any], extra: dict[str, Any], how: str) -> bytes:
    return encode({**fields, **extra}, how)


ENCODING = st.sampled_from(["utf-8", "ascii", "raw-surrogates"])


def bodies(
    sender_key: str,
    message_key: str,
    good_sender: st.SearchStrategy[str],
    extra_keys: tuple[str, ...] = (),
) -> st.SearchStrategy[bytes]:
    """Request bodies: random bytes, any JSON, deep nesting, and near-valid objects."""
    near_valid = st.builds(
        _body,
        st.fixed_dictionaries(
            {}, optional={sender_key: st.one_of(good_sender, FIELD), message_key: FIELD}
        ),
        st.dictionaries(
            st.sampled_from(extra_keys + ("metadata", "input_channel", "x")), JSON_VALUE, max_size=2
        ),
        ENCODING,
    )
    valid_shape = st.builds(
        _body,
        st.fixed_dictionaries({sender_key: good_sender, message_key: st.one_of(TEXT, TEXT, HUGE)}),
        st.dictionaries(st.sampled_from(extra_keys + ("metadata",)), JSON_VALUE, max_size=1),
        ENCODING,
    )
    return st.one_of(
        st.binary(max_size=2_000),
        st.builds(encode, JSON_VALUE, ENCODING),
        DEEP_JSON.map(lambda v: v.encode() if isinstance(v, str) else encode(v, "utf-8")),
        near_valid,
        valid_shape,
        valid_shape,  # more likely: these reach furthest into the server
    )


CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "multipart/form-data",
    ]
)


def no_traceback(text: str) -> None:
    """Fail when a reply shows a Python traceback or exception name."""
    found = TRACEBACK.search(text)
    assert found is None, f"traceback text in a reply: {text[:500]!r}"
