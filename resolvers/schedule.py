"""When itinerary times clash: time zones, comparing times, and the opening-hours forms read.

Stored date-times are kept as written (`gql/kv/scalars.py`): with an offset they are instants,
without one they are local wall-clock times. To compare them, a local time is placed in the
first time zone known for it: the item's own, then its place's, then its trip's, each an IANA
name (`Europe/Lisbon`) in a field `timeZone` (also read: `timezone`, `tz`, `timeZoneId`): a
trip's is a field of its own (`Trip.timeZone`, set by `createTrip`/`updateTrip`), an item's or
a place's is read where the app stores it beside the record's fields. Without a zone, a local
time and one with an offset compare by their wall-clock readings (`models.earlier`: the offset
is ignored, since a local time is usually the time at the place the other names).

Opening hours (a place's `openingHours`) are read in these forms, and only these; anything
else is reported as unknown, never guessed:

- a text for every day: `"09:00-17:00"`, several spans `"12:00-15:00, 19:00-23:00"`,
  `"24/7"` or `"open 24 hours"`;
- an OpenStreetMap-style text of rules `"Mo-Fr 09:00-17:00; Sa 10:00-14:00; Su off"`
  (days `Mo Tu We Th Fr Sa Su`, ranges `Mo-Fr` and lists `Sa,Su`; `off`/`closed`); a day no
  rule names is closed, as in OpenStreetMap;
- an object by weekday, `{"mon": "09:00-17:00", "sunday": "closed", "sat": ["10:00-14:00"]}`
  (English names or their first two or three letters, any case); a day's value is a text as
  above, a list of them, `{"open": "09:00", "close": "17:00"}` objects, or
  `"closed"`/`"off"`/`false`/`null`/`[]` for closed; a day the object does not name is
  unknown (reported when an item falls on it);
- Google Places' `{"periods": [{"open": {"day": 1, "time": "0900"}, "close": {...}}]}` (or
  just the list of periods; `day` 0 is Sunday, `hour`/`minute` instead of `time` also read;
  an `open` without `close` is open all the time); a day without a period is closed.

Times are `H:MM` or `HH:MM` on a 24-hour clock (`HHMM` in Google's form), `24:00` closes at
midnight, and a span whose close is not after its open runs past midnight
(`"18:00-02:00"`). A visit that fits no open stretch is "closed" unless a day it touches has
unknown hours; the day before counts only for a visit starting before 06:00 and before its own
day's first opening (a night running past midnight is taken to end by then).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gql.kv import models as m

ZONE_FIELDS = ("timeZone", "timezone", "tz", "timeZoneId")
DAY = 24 * 60
NIGHT_ENDS = 6 * 60  # see Hours._reached
_TIME = re.compile(r"^(\d{1,2}):?(\d{2})$")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ALL_DAY = frozenset({"24/7", "24h", "24 hours", "open 24 hours", "always open", "00:00-24:00"})
_CLOSED = frozenset({"closed", "off", ""})
Span = tuple[int, int]  # minutes from the day's midnight: open, close (past DAY: next day)
_WHOLE_DAY: tuple[Span, ...] = ((0, DAY),)


class UnknownHours(ValueError):
    """Opening hours in a form kvgraph does not read (the message says what it met)."""


# ---------------------------------------------------------------- zones and times
def zone_of(record: m.Record | None) -> ZoneInfo | None:
    """The IANA time zone a record names (a trip's `timeZone`, or one of ZONE_FIELDS kept
    beside another record's fields); None: none, or not a zone."""
    if record is None:
        return None
    extra = record.model_extra or {}
    found = [getattr(record, "time_zone", None), *(extra.get(name) for name in ZONE_FIELDS)]
    for value in found:
        if isinstance(value, str) and value.strip():
            try:
                return ZoneInfo(value.strip())
            except (ZoneInfoNotFoundError, ValueError):
                return None
    return None


def first_zone(*records: m.Record | None) -> ZoneInfo | None:
    """The first zone these records name (an item, its place, its trip)."""
    for record in records:
        if (zone := zone_of(record)) is not None:
            return zone
    return None


def placed(at: dt.datetime, zone: ZoneInfo | None) -> dt.datetime:
    """A local time made an instant in `zone` when it is known; other times as they are."""
    return at.replace(tzinfo=zone) if m.is_local(at) and zone is not None else at


def wall(at: dt.datetime, zone: ZoneInfo | None) -> dt.datetime:
    """The wall-clock reading (naive) of a time at the place: an instant seen in `zone` if
    it is known, else as written in its own offset; a local time as it is."""
    if m.is_local(at):
        return at
    return (at.astimezone(zone) if zone is not None else at).replace(tzinfo=None)


@dataclass(frozen=True)
class When:
    """When an item happens: its start, and its end (an item without an end is an instant)."""

    start: dt.datetime
    end: dt.datetime | None = None

    @property
    def last(self) -> dt.datetime:
        return self.end or self.start


def overlap(a: When, b: When) -> bool:
    """Whether two items overlap: each starts before the other ends. Back-to-back items (one
    ends when the next starts) do not; an instant overlaps only what strictly contains it."""
    return m.earlier(a.start, b.last) and m.earlier(b.start, a.last)


def outside_dates(
    span: When, zone: ZoneInfo | None, first: dt.date | None, last: dt.date | None
) -> bool:
    """Whether an item falls outside a trip's dates, by the calendar at the place: it starts
    before the first day or ends after the last (an end at exactly midnight belongs to the day
    before, so a night ending at 00:00 stays inside)."""
    start = wall(span.start, zone)
    end = wall(span.last, zone)
    end_day = end.date()
    if span.end is not None and end.time() == dt.time(0) and end > start:
        end_day -= dt.timedelta(days=1)
    return (first is not None and start.date() < first) or (last is not None and end_day > last)


def outside_event(span: When, starts: dt.datetime | None, ends: dt.datetime | None) -> bool:
    """Whether an item at an event misses it: it ends (or, an instant, is) before the event
    starts, or starts once the event has ended. Without a start, an event is not checked."""
    if starts is None:
        return False
    if span.end is not None:
        before = not m.earlier(starts, span.end)  # ends no later than the event starts
    else:
        before = m.earlier(span.start, starts)
    after = ends is not None and not m.earlier(span.start, ends)
    return before or after


# ---------------------------------------------------------------- opening hours
@dataclass(frozen=True)
class Hours:
    """Opening hours by weekday (0 = Monday): each day's open spans, or None (not known)."""

    days: tuple[tuple[Span, ...] | None, ...]

    def closed_for(self, start: dt.datetime, end: dt.datetime | None) -> bool | None:
        """Whether the place is closed for some of a visit (wall-clock times at the place): a
        visit with an end must fit in one open stretch, an instant must fall in one. None when
        it does not fit and a day it touches has unknown hours."""
        day, last = start.date() - dt.timedelta(days=1), (end or start).date()
        stretches: list[tuple[dt.datetime, dt.datetime]] = []
        unknown = False
        while day <= last:
            spans = self.days[day.weekday()]
            if spans is None:
                unknown = unknown or day >= start.date() or self._reached(start)
            else:
                midnight = dt.datetime.combine(day, dt.time(0))
                stretches += [
                    (midnight + dt.timedelta(minutes=a), midnight + dt.timedelta(minutes=b))
                    for a, b in spans
                ]
            day += dt.timedelta(days=1)
        for opens, closes in _merged(stretches):
            if opens <= start and (end <= closes if end is not None else start < closes):
                return False
        return None if unknown else True

    def _reached(self, start: dt.datetime) -> bool:
        """Whether the unknown hours of the day before could still be open at `start`: only
        before the first opening of its own day, and before NIGHT_ENDS (a night spilling past
        midnight from a day of unknown hours is taken to end by then)."""
        own = self.days[start.weekday()]
        minute = start.hour * 60 + start.minute
        return minute < min([NIGHT_ENDS, *(a for a, _ in own or ())])


def _merged(
    stretches: Iterable[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Open stretches with those that touch or overlap joined (24:00 meets the next 00:00)."""
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for opens, closes in sorted(stretches):
        if out and opens <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], closes))
        else:
            out.append((opens, closes))
    return out


def read_hours(value: Any) -> Hours | None:
    """A place's opening hours in one of the forms this module reads; None when it has none;
    UnknownHours for any other form."""
    if value is None or value == "" or value == {} or value == []:
        return None
    if isinstance(value, str):
        return _from_text(value)
    if isinstance(value, Mapping):
        if "periods" in value:
            return _from_periods(value["periods"])
        return _from_days(value)
    if isinstance(value, list) and all(isinstance(p, Mapping) and "open" in p for p in value):
        return _from_periods(value)
    raise UnknownHours(f"opening hours as {_shown(value)}")


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _minutes(text: str) -> int:
    found = _TIME.match(text.strip())
    if found is None:
        raise UnknownHours(f"a time {text.strip()!r} (expected HH:MM)")
    hour, minute = int(found.group(1)), int(found.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise UnknownHours(f"a time {text.strip()!r} (expected HH:MM)")
    return hour * 60 + minute


def _span(text: str) -> Span:
    """`09:00-17:00` (also with an en or em dash, or ` to `); a close not after the open runs
    past midnight."""
    parts = re.split(r"\s*(?:-|\u2013|\u2014|\bto\b)\s*", text.strip())
    if len(parts) != 2:
        raise UnknownHours(f"a time range {text.strip()!r} (expected HH:MM-HH:MM)")
    opens, closes = _minutes(parts[0]), _minutes(parts[1])
    if opens == DAY:
        raise UnknownHours(f"a time range {text.strip()!r} opening at 24:00")
    return opens, closes if closes > opens else closes + DAY


def _day_text(text: str) -> tuple[Span, ...]:
    """One day's hours as text: spans separated by commas, all day, or closed."""
    lowered = text.strip().lower()
    if lowered in _CLOSED:
        return ()
    if lowered in _ALL_DAY:
        return _WHOLE_DAY
    return tuple(_span(part) for part in lowered.split(","))


_OSM_DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_OSM_RULE = re.compile(r"^([A-Za-z]{2}(?:\s*[-,]\s*[A-Za-z]{2})*)\s+(.+)$")


def _from_text(text: str) -> Hours:
    """A text for every day, or OpenStreetMap-style rules."""
    if text.strip().lower() in _ALL_DAY:
        return Hours((_WHOLE_DAY,) * 7)
    rules = [rule.strip() for rule in text.split(";") if rule.strip()]
    if len(rules) == 1 and _OSM_RULE.match(rules[0]) is None:
        return Hours((_day_text(rules[0]),) * 7)
    days: list[tuple[Span, ...]] = [()] * 7  # a day no rule names is closed
    for rule in rules:
        found = _OSM_RULE.match(rule)
        if found is None:
            raise UnknownHours(f"an opening-hours rule {rule!r}")
        spans = _day_text(found.group(2))
        for day in _osm_days(found.group(1)):
            days[day] = spans
    return Hours(tuple(days))


def _osm_days(text: str) -> list[int]:
    """`Mo-Fr`, `Sa,Su`, `Mo`: weekday numbers (0 = Monday)."""
    out: list[int] = []
    for part in re.split(r"\s*,\s*", text.strip().lower()):
        ends = [p.strip() for p in part.split("-")]
        if any(end not in _OSM_DAYS for end in ends) or len(ends) > 2:
            raise UnknownHours(f"days {part!r} (expected Mo, Tu, ... Su)")
        first, last = _OSM_DAYS.index(ends[0]), _OSM_DAYS.index(ends[-1])
        out += [(first + n) % 7 for n in range((last - first) % 7 + 1)]
    return out


def _weekday(name: str) -> int:
    lowered = name.strip().lower()
    for number, day in enumerate(_DAY_NAMES):
        if len(lowered) >= 2 and day.startswith(lowered):
            return number
    raise UnknownHours(f"a day {name!r}")


def _day_value(value: Any) -> tuple[Span, ...]:
    """One day's value in the by-weekday object."""
    if value is None or value is False:
        return ()
    if value is True:
        return _WHOLE_DAY
    if isinstance(value, str):
        return _day_text(value)
    if isinstance(value, Mapping) and set(value) >= {"open", "close"}:
        opens, closes = value["open"], value["close"]
        if isinstance(opens, str) and isinstance(closes, str):
            return (_span(f"{opens}-{closes}"),)
    if isinstance(value, list):
        return tuple(span for part in value for span in _day_value(part))
    raise UnknownHours(f"a day's hours as {_shown(value)}")


def _from_days(value: Mapping[str, Any]) -> Hours:
    days: list[tuple[Span, ...] | None] = [None] * 7  # a day not named is unknown
    for name, hours in value.items():
        days[_weekday(str(name))] = _day_value(hours)
    return Hours(tuple(days))


def _google_point(point: Any) -> tuple[int, int]:
    """Google's `{"day": 0-6 (Sunday first), "time": "HHMM"}` as (weekday from Monday, minute)."""
    if not isinstance(point, Mapping) or not isinstance(point.get("day"), int):
        raise UnknownHours(f"a period point {_shown(point)}")
    day = point["day"]
    if not 0 <= day <= 6:
        raise UnknownHours(f"a period day {day!r}")
    if isinstance(point.get("time"), str):
        minute = _minutes(point["time"])
    elif isinstance(point.get("hour"), int):
        minute = point["hour"] * 60 + int(point.get("minute") or 0)
    else:
        raise UnknownHours(f"a period point {_shown(point)}")
    return (day - 1) % 7, minute


def _from_periods(periods: Any) -> Hours:
    if not isinstance(periods, list):
        raise UnknownHours(f"periods as {_shown(periods)}")
    days: list[list[Span]] = [[] for _ in range(7)]  # a day without a period is closed
    for period in periods:
        if not isinstance(period, Mapping):
            raise UnknownHours(f"a period {_shown(period)}")
        day, opens = _google_point(period.get("open"))
        if period.get("close") is None:
            return Hours((_WHOLE_DAY,) * 7)  # Google's "always open"
        close_day, closes = _google_point(period["close"])
        closes += ((close_day - day) % 7) * DAY
        if closes <= opens:
            closes += 7 * DAY if close_day == day else DAY
        days[day].append((opens, closes))
    return Hours(tuple(tuple(spans) for spans in days))
