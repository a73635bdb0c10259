"""`jsontext`: stored JSON text decoded and encoded again without losing or altering anything:
exact numbers, members nested too deep or holding lone surrogates kept as their text, values
that are not JSON reported; and one canonical encoding that compares exact values."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gql.kv.jsontext import (
    Kept,
    Number,
    Undecodable,
    Unreadable,
    Why,
    canonical,
    canonical_text,
    decode,
    encode,
    kept,
    read,
)

DEEP = "[" * 5_000 + "]" * 5_000

# Numbers orjson rounds (or refuses, or turns into 0): each comes back with its own digits.
INEXACT = [
    "123456789012345678901234567890",
    "18446744073709551616",  # 2**64
    "-9223372036854775809",  # below i64
    "3.14159265358979323846",
    "9007199254740993.0",  # 2**53 + 1
    "12345678.123456789",
    "1e400",
    "1e-400",
    "-2.5e-999",
    "1" + "0" * 5_000,  # more digits than Python's int() reads by default
]


def orjson_round_trip(text: str) -> str | None:
    """What orjson alone makes of a number's text (None: it refuses it)."""
    try:
        return orjson.dumps(orjson.loads(text)).decode()
    except orjson.JSONDecodeError:
        return None


@pytest.mark.parametrize("text", INEXACT)
def test_numbers_keep_their_digits(text: str) -> None:
    assert orjson_round_trip(text) != text  # the class of bug: orjson alone alters it
    value = decode(text)
    assert isinstance(value, Number) and isinstance(value, float)
    assert encode(value) == text
    assert encode({"n": [value]}) == f'{{"n":[{text}]}}'
    assert value == float(text)  # read as the nearest double by whoever uses it


def test_ordinary_numbers_take_orjson_s_path() -> None:
    text = '{"i":9007199254740993,"u":18446744073709551615,"f":0.1,"e":1.5e+300,"z":-0.0}'
    value = decode(text)
    assert value == orjson.loads(text)
    assert not any(isinstance(v, Number) for v in value.values())
    assert encode(value) == text


def test_canonical_compares_exact_values() -> None:
    a, b = decode("123456789012345678901234567890"), decode("123456789012345678901234567891")
    assert orjson.loads(b"123456789012345678901234567890") == orjson.loads(
        b"123456789012345678901234567891"
    )  # orjson alone cannot tell them apart
    assert canonical(a) != canonical(b)
    # One spelling per value, whatever the store wrote (Postgres prints numerics in full).
    same = [
        ("1.5e300", "15" + "0" * 299),
        ("1e400", "1" + "0" * 400),
        ("123456789012345678901234567890.000", "123456789012345678901234567890"),
        ("3.141592653589793238460", "3.14159265358979323846"),
        ("1.00000000000000000000001e-5", "0.0000100000000000000000000001"),
    ]
    for left, right in same:
        assert canonical(decode(left)) == canonical(decode(right)), (left, right)
    assert canonical(decode("1" + "0" * 400)) == b"1e400"
    assert canonical(decode("-123456789012345678901234567890")) == (
        b"-123456789012345678901234567890"
    )


def test_a_member_nested_too_deep_is_kept_byte_for_byte() -> None:
    text = '{"id":"t1","notes":' + DEEP + ', "n":123456789012345678901234567890,"ok":[1]}'
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(text)
    value = decode(text)
    assert value["id"] == "t1" and value["ok"] == [1]
    assert isinstance(value["notes"], Kept) and value["notes"].why is Why.DEEP
    assert value["notes"].raw == DEEP
    assert list(kept(value)) == ["notes"]
    assert encode(value) == text.replace(", ", ",")  # the kept member as it was stored
    assert decode(DEEP) == [Kept(DEEP[1:-1], Why.DEEP, "")]
    assert encode(decode(DEEP)) == DEEP
    assert kept(decode('{"a": 1}')) == {}


def test_lone_surrogates_are_kept_where_they_are() -> None:
    value = decode('{"id":"t1","title":"x\\ud800","tags":["a","\\udfff"],"n":1}')
    assert kept(value).keys() == {"title", "tags"}
    assert "lone surrogate (U+D800)" in value["title"].reason
    assert value["tags"].reason.startswith("tags.1 contains a lone surrogate (U+DFFF)")
    assert value["title"].why is Why.NOT_TEXT
    assert encode(value) == '{"id":"t1","title":"x\\ud800","tags":["a","\\udfff"],"n":1}'
    nested = decode('{"a":{"\\udc00":1}}')
    assert "a field name in a contains a lone surrogate (U+DC00)" in nested["a"].reason
    assert decode('"\\ud800"', lone_surrogates=True) == "\ud800"  # for import to refuse
    assert decode('{"a":"\\ud800"}', lone_surrogates=True) == {"a": "\ud800"}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("this is not json", "not valid JSON"),
        ("", "not valid JSON"),
        ('{"a":1', "not valid JSON"),
        ('{"a":NaN}', "not valid JSON"),
        ('"\\ud800"', "a string that contains a lone surrogate (U+D800)"),
        ('{"\\ud800":1}', "a field name contains a lone surrogate (U+D800)"),
        ('{"a":' + DEEP[:-1] + "}", "not valid JSON"),  # deep, and broken
        ('{"a":' + DEEP + "} x", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_values_that_cannot_be_decoded(text: str | bytes, why: str) -> None:
    with pytest.raises(Undecodable, match=re.escape(why)):
        decode(text)
    found = read(text)
    assert isinstance(found, Unreadable) and found.raw == text and why in found.reason
    with pytest.raises(orjson.JSONEncodeError, match="Unreadable"):
        encode({"k": found})  # never written back


def test_canonical_text_handles_any_depth() -> None:
    assert canonical_text(
        ' { "b" : [1, 2.50, 1e400, "é"], "a" : {"z": null, "\\u0061": true} } '
    ) == ('{"a":{"a":true,"z":null},"b":[1,2.5,1e400,"é"]}')
    assert canonical_text(DEEP) == DEEP
    deep_object = '{"z":1,"a":' + '{"b":' * 3_000 + "1" + "}" * 3_000 + "}"
    assert canonical_text(deep_object).startswith('{"a":{"b":{"b":')
    assert canonical(decode(deep_object)) == canonical_text(deep_object).encode()
    assert canonical_text('"x\\ud800"') == '"x\\ud800"'


@pytest.mark.parametrize(
    "text", ["[1,]", '{"a":1,}', "[01]", '{"a" 1}', "[1 2]", "{,}", "[", '"abc', "tru", "[NaN]"]
)
def test_canonical_text_refuses_what_is_not_json(text: str) -> None:
    with pytest.raises(Undecodable):
        canonical_text(text)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(text)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_ordinary_values_read_and_compare_as_orjson_does(value: Any) -> None:
    text = orjson.dumps(value).decode()
    spaced = json.dumps(value, ensure_ascii=False)  # another spelling of the same value
    assert decode(text) == orjson.loads(text)
    assert encode(decode(text)) == text
    expected = orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)
    assert canonical(decode(text)) == expected
    assert canonical_text(text).encode() == expected
    assert canonical(decode(spaced)) == canonical(decode(text))
