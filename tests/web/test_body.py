"""Request JSON: orjson's fast path decodes exactly what the bounded `json` decoding does,
and refuses what it refuses."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gql.web.body import BodyError, decode, decode_bounded

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def outcome(decoder: Any, data: str | bytes) -> tuple[str, Any]:
    try:
        return "value", decoder(data)
    except BodyError as exc:
        return "refused", str(exc)
    except json.JSONDecodeError:
        return "syntax", None


@settings(max_examples=300, deadline=None)
@given(values, st.booleans())
def test_the_fast_path_decodes_as_json_does(value: Any, as_bytes: bool) -> None:
    text = json.dumps(value, ensure_ascii=False)
    data: str | bytes = text.encode("utf-8", "surrogatepass") if as_bytes else text
    assert outcome(decode, data) == outcome(decode_bounded, data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"n": NaN}',
        b'{"n": -Infinity}',
        b'{"n": 123456789012345678901234567890}',
        b'{"s": "\\ud800"}',
        '{"s": "\\udfff x"}',
        b'{"n": 1' + b"0" * 1_000 + b"}",
        b'{"x": 1.' + b"5" * 1_000 + b"}",
        b'{"a": ' + b"[" * 101 + b"]" * 101 + b"}",
        b'{"a": ' + b"[" * 2_000 + b"]" * 2_000 + b"}",
        b"\xef\xbb\xbf{}",
        b'{"a": 1,}',
        b'{"a": "\xff"}',
        '{"a": 1}'.encode("utf-16"),
        b'{"a": 1} {"b": 2}',
        b'{"a": 1e400}',
        b'{"n": 18446744073709551615, "m": -9223372036854775808}',
        b'{"n": 18446744073709551616}',
        b'{"n": -9223372036854775809}',
        b'{"n": 1234567890123456789012, "x": [1, 2.5]}',
        b'{"s": "' + b"1" * 2_000 + b'"}',
        b'{"a": ' + b"[" * 101 + b"1" + b"0" * 1_000 + b"]" * 101 + b"}",
        b'{"a": ' + b"[" * 101 + b"1.5" + b"]" * 101 + b"}",
        b'{"a": ' + b"[" * 101 + b"12345678901234567890123" + b"]" * 101 + b"}",
        b"2.5",
        b"1" + b"0" * 1_000,
    ],
)
def test_what_orjson_refuses_is_answered_as_json_does(data: str | bytes) -> None:
    fast, bounded = outcome(decode, data), outcome(decode_bounded, data)
    if fast[0] == "value" and isinstance(fast[1], dict) and "a" in fast[1]:
        a = fast[1]["a"]
        if isinstance(a, float) and math.isinf(a):
            assert bounded == ("value", {"a": math.inf})
            return
    assert fast == bounded
