"""Lenient scalars: numbers, dates and times read the way apps really write them.

Apart from the record models (`models.py`) so that the catalog table (`catalog.py`), which
the models are built from, can name them too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)


def number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric string; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _whole(value: Any, handler: ValidatorFunctionWrapHandler) -> int:
    """An int; a number with a fraction (850.7, "2.5") is rounded half up."""
    try:
        result: int = handler(value)
    except ValidationError:
        found = number(value)
        if found is None:
            raise
        return math.floor(found + 0.5)
    return result


PRICE_SIGNS = frozenset("$€£¥₹")
# Google Places (new API) price levels, as apps copy them.
PRICE_NAMES = {
    "PRICE_LEVEL_FREE": 0,
    "PRICE_LEVEL_INEXPENSIVE": 1,
    "PRICE_LEVEL_MODERATE": 2,
    "PRICE_LEVEL_EXPENSIVE": 3,
    "PRICE_LEVEL_VERY_EXPENSIVE": 4,
}


def _price_level(value: Any) -> Any:
    """`"$$"` (or `€€`, ...) counts its signs; Google's `PRICE_LEVEL_*` names their level."""
    if isinstance(value, str):
        text = value.strip()
        if text and len(set(text)) == 1 and text[0] in PRICE_SIGNS:
            return len(text)
        return PRICE_NAMES.get(text.upper(), value)
    return value


# Postgres' text form of a timestamptz (`now()::text`): a space before the time and an offset
# in whole hours (`+00`, `-08`), with minutes (`+05:30`) or seconds (`+05:53:28`, a historical
# zone's) only when it has them. Pydantic reads the form with minutes and the one without an
# offset (a `timestamp`'s) itself, not the two matched here.
_POSTGRES_TEXT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d:\d\d)?")


def is_postgres_text(value: str) -> bool:
    """Whether a stored date-time is written as Postgres prints one (a space before the time)."""
    return len(value) > 10 and value[10] == " " and value[4:5] == "-"


def _postgres_text(value: Any) -> Any:
    """A date-time in Postgres' text form with an offset, read with that offset; any other
    value as it is (pydantic reads it, or reports it)."""
    if isinstance(value, str) and _POSTGRES_TEXT.fullmatch(value):
        return dt.datetime.fromisoformat(value)  # a ValueError is reported as unreadable
    return value


def postgres_utc(at: dt.datetime) -> str:
    """An aware time as UTC in Postgres' text form: `2025-03-14 19:00:00.123+00` (the fraction
    as Postgres prints it, without trailing zeros; none when it is zero)."""
    utc = at.astimezone(dt.UTC)
    fraction = f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else ""
    return f"{utc:%Y-%m-%d %H:%M:%S}{fraction}+00"


# A date-time as given: an offset stays (`+02:00` is not converted to UTC), a time without
# one stays a local wall-clock time (naive), microseconds are kept, epoch ms/s read as UTC.
# Postgres' text form (`2024-12-24 10:00:00+00`) reads as the ISO form with the same offset.
DateTime = Annotated[dt.datetime, BeforeValidator(_postgres_text)]
_DATETIME: TypeAdapter[dt.datetime] = TypeAdapter(DateTime)


def _calendar_date(value: Any) -> Any:
    """A date-time where a date is expected gives the date it names in its own offset.

    `"2025-06-05T22:00:00.000Z"` is 2025-06-05 (the date as written, what `value[:10]`
    gives, never shifted by the server's zone); epoch numbers are read as UTC.
    """
    timed_text = isinstance(value, str) and len(value) > 10 and value[10] in "Tt "
    epoch = not isinstance(value, str) and number(value) is not None
    if not (timed_text or epoch):
        return value
    try:
        return _DATETIME.validate_python(value).date()
    except ValidationError:
        return value  # fails as a date, and is reported as unreadable


# Whole numbers: 2.0, "3" and 850.7 (rounded half up: 851) all read.
Count = Annotated[int, WrapValidator(_whole)]
# A price level 0-4: a number, `"$$"` (counts the signs) or `PRICE_LEVEL_MODERATE`.
PriceLevel = Annotated[Count, BeforeValidator(_price_level)]
# A calendar date: `2025-06-05`, or a date-time / epoch number (see `_calendar_date`).
Date = Annotated[dt.date, BeforeValidator(_calendar_date)]


def is_local(value: dt.datetime) -> bool:
    """Whether a date-time is a local wall-clock time (stored without an offset)."""
    return value.utcoffset() is None


def earlier(a: dt.datetime, b: dt.datetime) -> bool:
    """Whether `a` is before `b`.

    Two times with offsets compare as instants, two local times by their wall clocks; a
    local time and one with an offset compare by their wall-clock readings (the offset is
    ignored), since a local time is usually the time at the place the other one names.
    """
    if is_local(a) != is_local(b):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a < b
