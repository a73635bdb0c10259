"""Input checks shared by the mutations: each failure becomes a userError, nothing is written."""

from __future__ import annotations

import datetime as dt
import math
import re
import urllib.parse
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gql.kv.models import earlier
from resolvers.common import Problem, clean_text

CURRENCY = re.compile(r"^[A-Z]{3}$")
TITLE_MAX = 200
NOTES_MAX = 5_000
CONTENT_MAX = 10_000
URL_MAX = 2_000


def iso_datetime(value: dt.datetime) -> str:
    """ISO-8601 as the user gave it: the offset kept (UTC as `Z`), none for a local time.

    Never converted, so "20:00 in Lisbon" stays 20:00 and no calendar edge can overflow;
    milliseconds as the seed writes them, microseconds when the value has them.
    """
    text = value.isoformat(timespec="milliseconds" if value.microsecond % 1000 == 0 else "auto")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def text_fields(
    data: dict[str, Any], limits: dict[str, tuple[int, bool]], *, partial: bool = False
) -> list[Problem]:
    """Trim and length-check text fields in place: {field: (limit, required)}.

    `partial` (an update): fields left out are fine, but a required one that is given must
    not be null or empty.
    """
    problems = []
    for name, (limit, required) in limits.items():
        if name not in data and (partial or not required):
            continue
        result = clean_text(data.get(name), name, required=required, limit=limit)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            data[name] = result
    return problems


def currency(data: dict[str, Any]) -> list[Problem]:
    """Check an ISO-4217 style currency code (three capital letters)."""
    value = data.get("currency")
    if value is None:
        return []
    data["currency"] = value = value.strip().upper()
    if not CURRENCY.match(value):
        return [Problem("currency", "currency must be a 3-letter code such as EUR")]
    return []


def ordered(start: Any, end: Any, start_name: str, end_name: str) -> list[Problem]:
    """Check that `end` is not before `start` when both are set (dates, or date-times by
    `models.earlier`: a local time and one with an offset compare by wall clock)."""
    if start is None or end is None:
        return []
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        backwards = earlier(end, start)
    else:
        backwards = end < start
    return [Problem(end_name, f"{end_name} must not be before {start_name}")] if backwards else []


def amount(data: dict[str, Any], name: str) -> list[Problem]:
    """Check a money amount: a finite number, not negative."""
    value = data.get(name)
    if value is not None and (not math.isfinite(value) or value < 0):
        return [Problem(name, f"{name} must be a number >= 0")]
    return []


def position(value: int | None) -> list[Problem]:
    """Check a list position (0 = first)."""
    if value is not None and value < 0:
        return [Problem("position", "position must be >= 0")]
    return []


def is_web_url(value: str) -> bool:
    """Whether `value` is an absolute http(s) URL with a host (an avatar, an image)."""
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def time_zone(data: dict[str, Any]) -> list[Problem]:
    """Check a time zone: an IANA name such as `Europe/Lisbon` (trimmed in place)."""
    value = data.get("timeZone")
    if value is None:
        return []
    data["timeZone"] = value = value.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return [Problem("timeZone", "timeZone must be an IANA time zone such as Europe/Lisbon")]
    return []
