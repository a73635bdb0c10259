"""The text rule: no NUL and no lone surrogate anywhere in a value, with the field named."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv.text import text_problem


@pytest.mark.parametrize(
    "value",
    ["", "plain", "emoji 🙂 and ü", {"tags": ["a", "b"], "n": 1, "x": None}, [1, 2.5, True]],
)
def test_ordinary_values_pass(value: Any) -> None:
    assert text_problem(value, "field") is None


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ("a\x00b", "title", "title contains a NUL character (U+0000)"),
        ("\udc00", "notes", "notes contains a lone surrogate (U+DC00), which is not valid Unicode"),
        (
            {"title": "ok", "tags": ["a", "b\x00"]},
            "tags.1",
            "tags.1 contains a NUL character (U+0000)",
        ),
        ({"action": {"label": "x\ud800"}}, "action.label", "lone surrogate (U+D800)"),
        ({"ok": 1, "bad\x00key": 2}, "value", "a field name in the value contains a NUL"),
    ],
)
def test_the_first_bad_string_is_named(value: Any, field: str, message: str) -> None:
    top = "" if isinstance(value, dict) else field
    found = text_problem(value, top)
    assert found is not None
    assert found[0] == field
    assert message in found[1]


def test_a_surrogate_pair_is_fine_but_half_of_one_is_not() -> None:
    assert text_problem("🙂", "t") is None  # one code point, no surrogates in Python
    assert text_problem("\ud83d\ude42", "t") is not None  # two halves, still lone in Python
