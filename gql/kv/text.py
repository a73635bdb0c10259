"""The text rule of every store: no NUL character and no lone surrogate in anything written.

Postgres' jsonb and text refuse U+0000 while SQLite stores it, and a lone surrogate (U+D800 to
U+DFFF on its own) cannot be encoded as UTF-8 at all, so such a string would be a server
error on one store, or stored on one and impossible to move to the other. The repository
checks every string it is given to write (values and object keys, at any depth) once, before
the store sees it, so both stores answer the same clear error.
"""

from __future__ import annotations

import re
from typing import Any

_BAD = re.compile("[\x00\ud800-\udfff]")
_LONE = re.compile("[\ud800-\udfff]")


def _char_problem(text: str, bad: re.Pattern[str] = _BAD) -> str | None:
    """What is wrong with one string (None when it may be stored)."""
    found = bad.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (U+0000)"
    return f"contains a lone surrogate (U+{ord(found.group()):04X}), which is not valid Unicode"


def text_problem(value: Any, field: str, bad: re.Pattern[str] = _BAD) -> tuple[str, str] | None:
    """The path (`field`, `field.sub`, `field.2`) and reason of the first string in `value`
    that may not be stored, or None when every string is fine."""
    if isinstance(value, str):
        problem = _char_problem(value, bad)
        return None if problem is None else (field, f"{field} {problem}".strip())
    if isinstance(value, dict):
        for name, item in value.items():
            where = f"{field}.{name}" if field else str(name)
            if isinstance(name, str) and (problem := _char_problem(name, bad)) is not None:
                return field or "value", f"a field name in {field or 'the value'} {problem}"
            if (found := text_problem(item, where, bad)) is not None:
                return found
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            if (found := text_problem(item, f"{field}.{position}", bad)) is not None:
                return found
    return None


def surrogate_problem(value: Any, field: str) -> tuple[str, str] | None:
    """Like `text_problem`, for lone surrogates only: what no store can encode as UTF-8."""
    return text_problem(value, field, _LONE)
