"""Request JSON (a POST body, the `variables` and `extensions` of a GET), decoded with bounds.

Python's `json` recurses once per nesting level and refuses integers of more than 4,300
digits, so a body nested 2,000 deep or a 5,000-digit number ended as a plain-text 500. Both
are the client's request: they are refused here as `BodyError` (a 400 `BAD_REQUEST` with a
GraphQL-shaped body), with fixed bounds no real request comes near: GraphQL variables are a
few levels deep and a double has 17 significant digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

MAX_DEPTH = 100  # arrays and objects nested in one another
MAX_NUMBER_CHARS = 1_000  # characters of one number literal


class BodyError(ValueError):
    """Request JSON kvgraph refuses (the message is safe to show)."""


def _bounded(parse: Callable[[str], object]) -> Callable[[str], object]:
    def number(text: str) -> object:
        if len(text) > MAX_NUMBER_CHARS:
            raise BodyError(
                f"A number in the request JSON has more than {MAX_NUMBER_CHARS:,} characters."
            )
        return parse(text)

    return number


_INT, _FLOAT = _bounded(int), _bounded(float)
TOO_DEEP = f"The request JSON is nested more than {MAX_DEPTH} levels deep."


# Decoded the slow way: a run of number characters that may be a number past the bound, or
# 19 digits in a row (orjson reads an integer past 64 bits as a float, losing digits).
_SLOW = re.compile(rb"[0-9]{19}|[-+.eE0-9]{%d}" % (MAX_NUMBER_CHARS + 1))


def decode(data: str | bytes) -> object:
    """The JSON value of `data`; BodyError when it is too deep, has too long a number or is not
    UTF-8 (a syntax error stays `json.JSONDecodeError`).

    orjson decodes the common body; what it refuses (NaN, lone surrogates, other encodings,
    deep nesting, bad syntax) goes through `json` with the bounds, which gives the answer and
    the error. So do bodies that might hold a long integer or a number past the bound: orjson
    reads every integer it gives as an integer exactly, so only a body in which it found a
    float (or one nested too deep) is searched for such numbers.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return decode_bounded(data)
    deep, floats = _shape(value)
    if (deep or floats) and _SLOW.search(raw):
        return decode_bounded(data)
    if deep:
        raise BodyError(TOO_DEEP)
    return value


def _shape(value: object, limit: int = MAX_DEPTH) -> tuple[bool, bool]:
    """(whether arrays and objects nest more than `limit` levels, whether a float was met on
    the way), without recursion."""
    if not isinstance(value, dict | list):
        return False, isinstance(value, float)
    floats = False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True, floats
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif isinstance(child, float):
                floats = True
    return False, floats


def decode_bounded(data: str | bytes) -> object:
    """`decode` by Python's `json` alone, numbers and nesting bounded."""
    try:
        value = json.loads(data, parse_int=_INT, parse_float=_FLOAT)
    except RecursionError:
        raise BodyError(TOO_DEEP) from None
    except UnicodeDecodeError:
        raise BodyError("The request body is not valid UTF-8.") from None
    if _shape(value)[0]:
        raise BodyError(TOO_DEEP)
    return value
