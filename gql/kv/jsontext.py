"""Stored JSON text, decoded and encoded again without losing or altering anything.

orjson is what makes reads fast, but on its own it changes or refuses data that tables
really hold: a number a double cannot hold (`123456789012345678901234567890`, a 20-digit
decimal from a Postgres `numeric`) comes back rounded, a value nested deeper than 1,024
levels or a string with a lone surrogate escape (`"\\ud800"`, which SQLite stores) is
refused. Every read of a stored value goes through `decode`, every write through `encode`:

- text orjson reads exactly takes orjson's path; a cheap look at the raw text (a run of 16
  or more digits, a three-digit exponent) sends any number it might round to the exact path
  (Python's parser), where such a number becomes a `Number`: a float for whoever reads it,
  written back with its own digits;
- a member of a stored object or array (the top level only) that is nested too deep or holds
  a lone surrogate becomes `Kept`: its stored text, checked to be JSON, written back byte for
  byte; the rest of the value reads as usual (a record stays readable and that field is
  reported as unreadable);
- text that is not JSON at all, or whose top level itself cannot be read, raises
  `Undecodable` (`read` returns it as an `Unreadable` value instead).

`canonical` is the one encoding used to compare values (and by `export`): sorted keys, no
whitespace, every number by its exact value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson

from gql.kv.text import surrogate_problem

JSON = Any
# A number orjson may alter: 16 or more digits (15 significant digits always survive a
# double), or below 1e-99 (where doubles lose digits, then reach 0; too large a number makes
# orjson fail, which takes the exact path anyway). Looked for in C: digits and dots become
# \x00, e and E \x01, then two substring searches; an `e-NNN` inside a string (a UUID's
# "...e-123...") is told apart by a regex only when one is there.
_MARKS = bytes.maketrans(b"0123456789.eE", b"\x00" * 11 + b"\x01\x01")
_LONG = b"\x00" * 16
_TINY = b"\x01-\x00\x00\x00"
_TINY_NUMBER = re.compile(r"[0-9.][eE]-[0-9]{3,}(?=[\s,\]}]|$)")
_WS = re.compile(r"[ \t\n\r]*")
_TOKEN = re.compile(
    r"""[ \t\n\r]*(?:
      (?P<string>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")
    | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)
    | (?P<literal>true|false|null)
    | (?P<punct>[\[\]{},:])
    )""",
    re.VERBOSE,
)
INT_RANGE = (-(2**63), 2**64 - 1)  # the integers orjson reads and writes as integers
POSITIONAL = 100  # exact numbers within 10^±100 are written out in full by `canonical`
_SCANNER = json.decoder.JSONDecoder()


class Undecodable(ValueError):
    """A stored value kvgraph cannot decode at all; the message says why."""


class Why(StrEnum):
    """Why a part of a value is kept as stored text instead of being read."""

    DEEP = "deep"
    NOT_TEXT = "not_text"


class Number(float):
    """A JSON number a double does not hold exactly: reads as the nearest double, and is
    written back (and compared) with the digits it was stored with."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> Number:
        number = super().__new__(cls, float(text))
        number.text = text
        return number

    def __repr__(self) -> str:
        return f"Number({self.text})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Number, (self.text,))


class Kept:
    """A member of a stored object or array that cannot be read: its stored text (JSON),
    written back exactly as it was, and why it was not read."""

    __slots__ = ("raw", "reason", "why")

    def __init__(self, raw: str, why: Why, reason: str) -> None:
        self.raw, self.why, self.reason = raw, why, reason

    def __repr__(self) -> str:
        return f"Kept({self.reason})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Kept) and self.raw == other.raw

    def __hash__(self) -> int:
        return hash(self.raw)


class Partial(dict[str, Any]):
    """A decoded object some of whose members are Kept (a plain dict otherwise, so that
    whoever reads records can tell at once whether to look for them)."""

    __slots__ = ()


class Unreadable:
    """A stored value that cannot be decoded, with its stored text and why (never written)."""

    __slots__ = ("raw", "reason")

    def __init__(self, raw: str | bytes, reason: str) -> None:
        self.raw, self.reason = raw, reason

    def __repr__(self) -> str:
        return f"Unreadable({self.reason})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unreadable) and self.raw == other.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    @property
    def text(self) -> str:
        """The stored text (bytes that are not UTF-8 shown with U+FFFD)."""
        raw = self.raw
        return raw if isinstance(raw, str) else raw.decode(errors="replace")


# ------------------------------------------------------------------------------ decoding


def decode(raw: str | bytes, *, exact: bool = True, lone_surrogates: bool = False) -> JSON:
    """Decode stored JSON text (see the module docstring); Undecodable if it cannot be.

    `exact=False` is the read path's: orjson alone unless it refuses the text, so a number it
    rounds is read rounded (the read path shows numbers as doubles anyway, and never writes
    what it reads). With `lone_surrogates`, strings holding lone surrogates are returned as
    they are (for a caller that reports them itself) instead of being kept as stored text.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode()
        except UnicodeDecodeError as exc:
            raise Undecodable(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not (exact and _risky(raw)):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return _slow(raw, lone_surrogates)


def read(raw: str | bytes, *, exact: bool = True) -> JSON | Unreadable:
    """`decode`, with a value that cannot be decoded returned as Unreadable."""
    try:
        return decode(raw, exact=exact)
    except Undecodable as exc:
        return Unreadable(raw, str(exc))


def _risky(text: str) -> bool:
    """Whether `text` may hold a number orjson would not read exactly (see `_MARKS`)."""
    marks = text.encode(errors="surrogatepass").translate(_MARKS)
    return _LONG in marks or (_TINY in marks and _TINY_NUMBER.search(text) is not None)


def _slow(text: str, lone_surrogates: bool) -> JSON:
    """The exact path: Python's parser, then the top level member by member if need be."""
    try:
        value = _exact(text)
    except RecursionError:
        return _split(text, lone_surrogates)
    except ValueError as exc:
        raise Undecodable(f"not valid JSON ({_short(exc)})") from None
    if lone_surrogates or _encodable(value):
        return value
    return _split(text, lone_surrogates)


def _exact(text: str) -> JSON:
    return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_no_constant)


def _int(text: str) -> int | Number:
    if len(text) <= 20:
        number = int(text)
        if INT_RANGE[0] <= number <= INT_RANGE[1]:
            return number
    return Number(text)


def _float(text: str) -> float:
    number = float(text)
    return number if _double_holds(number, text) else Number(text)


def _double_holds(number: float, text: str) -> bool:
    """Whether the double `number` (read from `text`) is written back with `text`'s value."""
    return math.isfinite(number) and Decimal(repr(number)) == Decimal(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _short(exc: BaseException) -> str:
    return str(exc).split(": line ")[0]


def _encodable(value: JSON) -> bool:
    """Whether `value` can be written as UTF-8 (no string holds a lone surrogate)."""
    try:
        orjson.dumps(value, default=_default)
    except orjson.JSONEncodeError:
        return False
    return True


def _split(text: str, lone_surrogates: bool) -> JSON:
    """Read the top-level object or array member by member, keeping unreadable members."""
    at = _WS.match(text).end()  # type: ignore[union-attr]
    opener = text[at : at + 1]
    if opener not in ("{", "["):
        _, end = _walk(text, at)  # a scalar: not JSON, or a string with a lone surrogate
        raise Undecodable(_unreadable_scalar(text[at:end], text[end:]))
    closer = "}" if opener == "{" else "]"
    out: dict[str, JSON] | list[JSON] = Partial() if opener == "{" else []
    at = _WS.match(text, at + 1).end()  # type: ignore[union-attr]
    first = True
    while True:
        if text[at : at + 1] == closer and first:
            at += 1
            break
        name = ""
        if isinstance(out, dict):
            name, at = _name(text, at)
        _, end = _walk(text, at)
        member = _member(text[at:end], name or str(len(out)), lone_surrogates)
        if isinstance(out, dict):
            out[name] = member
        else:
            out.append(member)
        at = _WS.match(text, end).end()  # type: ignore[union-attr]
        first = False
        sign = text[at : at + 1]
        at = _WS.match(text, at + 1).end()  # type: ignore[union-attr]
        if sign == closer:
            break
        if sign != ",":
            raise Undecodable(f"not valid JSON (expected ',' or '{closer}' at {at})")
    if text[at:].strip(" \t\n\r"):
        raise Undecodable(f"not valid JSON (extra data at {at})")
    return out


def _name(text: str, at: int) -> tuple[str, int]:
    """A member name and where its value starts."""
    token = _TOKEN.match(text, at)
    if token is None or token.lastgroup != "string":
        raise Undecodable(f"not valid JSON (expected a field name at {at})")
    name, at = json.loads(token.group("string")), token.end()
    if (problem := surrogate_problem(name, "")) is not None:
        raise Undecodable(f"a field name {problem[1]}")
    at = _WS.match(text, at).end()  # type: ignore[union-attr]
    if text[at : at + 1] != ":":
        raise Undecodable(f"not valid JSON (expected ':' at {at})")
    return name, _WS.match(text, at + 1).end()  # type: ignore[union-attr]


def _member(text: str, where: str, lone_surrogates: bool) -> JSON:
    """One top-level member (already checked to be JSON): read, or Kept with why not."""
    try:
        value = _exact(text) if _risky(text) else orjson.loads(text)
    except (orjson.JSONDecodeError, RecursionError):
        try:
            value = _exact(text)
        except RecursionError:
            return Kept(text, Why.DEEP, "nested too deep to read (1,000+ levels)")
    if lone_surrogates or _encodable(value):
        return value
    found = surrogate_problem(value, where)
    reason = found[1] if found else f"{where} is not text"
    reason = reason.removeprefix(f"{where} ") if reason.startswith(f"{where} contains") else reason
    return Kept(text, Why.NOT_TEXT, reason)


def _unreadable_scalar(token: str, rest: str) -> str:
    if rest.strip(" \t\n\r"):
        return "not valid JSON (extra data after the value)"
    found = surrogate_problem(json.loads(token), "")
    return f"a string that {found[1]}" if found else "not valid JSON"


# ------------------------------------------------------------- checking and canonical text


def _walk(text: str, at: int, *, emit: bool = False) -> tuple[str, int]:
    """Check one JSON value starting at `at`, without recursion however deep it is; return
    its canonical text (only with `emit`, else "") and where it ends. Undecodable if it is
    not JSON."""
    stack: list[dict[str, str] | list[str]] = []  # open containers, their members' texts
    names: list[str] = []  # for each open object: the name token awaiting its value
    expect = "value"
    while True:
        token = _TOKEN.match(text, at)
        if token is None:
            where = _WS.match(text, at).end()  # type: ignore[union-attr]
            raise Undecodable(f"not valid JSON (unexpected text at {where})")
        at, kind = token.end(), token.lastgroup or ""
        part = token.group(kind)
        top = stack[-1] if stack else None
        done: str | None = None
        if expect == "name":
            if kind == "string":
                names[-1], expect = part, "colon"
            elif part == "}" and not top:
                done = _close(stack, names, emit)
            else:
                raise Undecodable(f"not valid JSON (expected a field name at {at})")
        elif expect == "colon":
            if part != ":":
                raise Undecodable(f"not valid JSON (expected ':' at {at})")
            expect = "value"
        elif expect == "value":
            if part in ("{", "["):
                stack.append({} if part == "{" else [])
                names.append("")
                expect = "name" if part == "{" else "value"
            elif part == "]" and isinstance(top, list) and not top:
                done = _close(stack, names, emit)
            elif kind in ("string", "number", "literal"):
                done = _scalar(kind, part) if emit else ""
            else:
                raise Undecodable(f"not valid JSON (expected a value at {at})")
        elif part == "," and top is not None:
            expect = "name" if isinstance(top, dict) else "value"
        elif part in ("]", "}") and top is not None and isinstance(top, dict) == (part == "}"):
            done = _close(stack, names, emit)
        else:
            raise Undecodable(f"not valid JSON (expected ',' or a closing bracket at {at})")
        if done is not None:
            if not stack:
                return done, at
            _add(stack, names, done)
            expect = "after"


def _add(stack: list[dict[str, str] | list[str]], names: list[str], text: str) -> None:
    top = stack[-1]
    if isinstance(top, dict):
        top[names[-1]] = text
    else:
        top.append(text)


def _close(stack: list[dict[str, str] | list[str]], names: list[str], emit: bool) -> str:
    top = stack.pop()
    names.pop()
    if not emit:
        return ""
    if isinstance(top, list):
        return "[" + ",".join(top) + "]"
    members = {json.loads(name): value for name, value in top.items()}  # the last name wins
    return "{" + ",".join(f"{_string(n)}:{members[n]}" for n in sorted(members)) + "}"


def _scalar(kind: str, token: str) -> str:
    if kind == "number":
        return _number(token)
    if kind == "string":
        return _string(json.loads(token))
    return token


def _string(value: str) -> str:
    """A string's canonical text (orjson's; one with a lone surrogate keeps its escapes)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace").decode()


def _number(token: str) -> str:
    """A number's canonical text: orjson's, or its exact value when a double cannot hold it."""
    value = _exact(token)
    return _exact_number(value.text) if isinstance(value, Number) else orjson.dumps(value).decode()


def _exact_number(text: str) -> str:
    """The one spelling of a number's exact value: orjson's when a double holds it, else
    its digits without trailing zeros, written out in full within 10^±100."""
    number = float(text)
    if _double_holds(number, text):
        return orjson.dumps(number).decode()
    sign, digit_tuple, exponent = Decimal(text).as_tuple()
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0") or "0"
    exponent = int(exponent) + len(digits) - len(stripped)
    digits, minus = stripped, "-" if sign else ""
    magnitude = exponent + len(digits) - 1  # the power of ten of the first digit
    if not -POSITIONAL <= magnitude < POSITIONAL:
        tail = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{minus}{digits[0]}{tail}e{magnitude}"
    if exponent >= 0:
        return f"{minus}{digits}{'0' * exponent}"
    point = len(digits) + exponent
    if point > 0:
        return f"{minus}{digits[:point]}.{digits[point:]}"
    return f"{minus}0.{'0' * -point}{digits}"


def canonical_text(raw: str) -> str:
    """The canonical text of stored JSON text of any depth; Undecodable if it is not JSON."""
    at = _WS.match(raw).end()  # type: ignore[union-attr]
    found, end = _walk(raw, at, emit=True)
    if raw[end:].strip(" \t\n\r"):
        raise Undecodable("not valid JSON (extra data after the value)")
    return found


# ------------------------------------------------------------------------------ encoding


def _default(value: Any) -> Any:
    if isinstance(value, Number):
        return orjson.Fragment(value.text)
    if isinstance(value, Kept):
        return orjson.Fragment(value.raw)
    if isinstance(value, Unreadable):
        raise TypeError(f"a value kvgraph cannot read is never written ({value.reason})")
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _canonical_default(value: Any) -> Any:
    if isinstance(value, Number):
        return orjson.Fragment(_exact_number(value.text))
    if isinstance(value, Kept):
        return orjson.Fragment(canonical_text(value.raw))
    return _default(value)


def encode(value: JSON) -> str:
    """Compact JSON text of a value: numbers and kept members written as they were read."""
    return _dumps(value, 0, _default).decode()


def canonical(value: JSON) -> bytes:
    """The one encoding of a value, to compare values and to export them: sorted object keys,
    no whitespace, UTF-8, numbers by their exact value."""
    return _dumps(value, orjson.OPT_SORT_KEYS, _canonical_default)


def _dumps(value: JSON, option: int, default: Callable[[Any], Any]) -> bytes:
    try:
        return orjson.dumps(value, option=option, default=default)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
    return orjson.dumps(_big_ints(value), option=option, default=default)


def _big_ints(value: JSON) -> JSON:
    """`value` with every integer orjson cannot write as a Number (written with its digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if INT_RANGE[0] <= value <= INT_RANGE[1] else Number(str(value))
    if isinstance(value, dict):
        return {name: _big_ints(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_big_ints(item) for item in value]
    return value


def kept(value: JSON) -> dict[str, Kept]:
    """The members of a decoded value kept as stored text, by name (an array's: position)."""
    if type(value) is Partial:
        return {name: v for name, v in value.items() if type(v) is Kept}
    if isinstance(value, list):
        return {str(n): v for n, v in enumerate(value) if type(v) is Kept}
    return {}
