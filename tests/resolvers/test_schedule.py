"""How itinerary times compare (zones, offsets, midnight) and which opening hours are read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gql.kv import models as m
from resolvers import schedule as s

LISBON = s.ZoneInfo("Europe/Lisbon")


def t(text: str) -> dt.datetime:
    """A stored date-time as kvgraph reads it (offset kept, or local)."""
    found = m.Item.model_validate({"id": "i", "tripId": "t", "title": "x", "startTime": text})
    assert found.start_time is not None
    return found.start_time


def when(start: str, end: str | None = None, zone: Any = None) -> s.When:
    return s.When(s.placed(t(start), zone), s.placed(t(end), zone) if end is not None else None)


def test_back_to_back_items_do_not_overlap() -> None:
    a = when("2026-06-10T10:00", "2026-06-10T12:00")
    b = when("2026-06-10T12:00", "2026-06-10T13:00")
    assert not s.overlap(a, b) and not s.overlap(b, a)
    assert s.overlap(a, when("2026-06-10T11:59", "2026-06-10T13:00"))


def test_an_item_spanning_midnight() -> None:
    night = when("2026-06-10T22:00", "2026-06-11T02:00")
    assert s.overlap(night, when("2026-06-11T01:00", "2026-06-11T03:00"))
    assert s.overlap(night, when("2026-06-10T23:00"))  # an instant inside it
    assert not s.overlap(night, when("2026-06-11T09:00", "2026-06-11T10:00"))
    assert not s.overlap(night, when("2026-06-11T02:00"))  # an instant at its end


def test_instants_never_overlap_each_other() -> None:
    assert not s.overlap(when("2026-06-10T10:00"), when("2026-06-10T10:00"))


def test_mixed_offset_and_local_times() -> None:
    local = ("2026-06-10T10:00", "2026-06-10T12:00")  # Lisbon wall clock: 09:00-11:00 UTC
    utc = ("2026-06-10T11:00:00Z", "2026-06-10T13:00:00Z")
    # Without a zone: compared by wall clock (10-12 against 11-13), they overlap.
    assert s.overlap(when(*local), when(*utc))
    # In Lisbon (UTC+1 in June) the local item ends when the other starts: no overlap.
    assert not s.overlap(when(*local, zone=LISBON), when(*utc, zone=LISBON))
    # Two offsets compare as instants.
    assert not s.overlap(
        when("2026-06-10T10:00:00+02:00", "2026-06-10T12:00:00+02:00"),
        when("2026-06-10T10:00:00Z", "2026-06-10T11:00:00Z"),
    )


def test_zones_are_read_from_the_first_record_naming_one() -> None:
    item = m.Item.model_validate({"id": "i", "tripId": "t", "title": "x"})
    trip = m.Trip.model_validate({"id": "t", "userId": "u", "title": "T", "timeZone": "Asia/Tokyo"})
    place = m.PLACES["restaurant"].model_validate({"id": "r", "name": "R", "tz": "Europe/Lisbon"})
    bad = m.Trip.model_validate({"id": "t", "userId": "u", "title": "T", "timezone": "Mars/Base"})
    assert s.first_zone(item, place, trip) == LISBON
    assert s.first_zone(item, None, trip) == s.ZoneInfo("Asia/Tokyo")
    assert s.first_zone(item, bad) is None  # not a zone: as if none were named


def test_outside_the_trips_dates() -> None:
    first, last = dt.date(2026, 6, 10), dt.date(2026, 6, 12)
    inside = [
        when("2026-06-10T00:00", "2026-06-10T02:00"),
        when("2026-06-12T22:00", "2026-06-13T00:00"),  # ends at midnight: the last day's
        when("2026-06-12T23:30"),
    ]
    outside = [
        when("2026-06-09T23:00", "2026-06-10T01:00"),
        when("2026-06-12T22:00", "2026-06-13T02:00"),  # a last night running past midnight
        when("2026-06-13T08:00"),
    ]
    assert [s.outside_dates(w, None, first, last) for w in inside] == [False] * 3
    assert [s.outside_dates(w, None, first, last) for w in outside] == [True] * 3
    # 23:30 UTC on the 12th is 00:30 on the 13th in Lisbon.
    late = when("2026-06-12T23:30:00Z")
    assert not s.outside_dates(late, None, first, last)
    assert s.outside_dates(late, LISBON, first, last)
    assert not s.outside_dates(when("2020-01-01T00:00"), None, None, None)


def test_items_at_events() -> None:
    starts, ends = t("2026-06-13T20:00:00Z"), t("2026-06-13T22:00:00Z")
    assert not s.outside_event(when("2026-06-13T19:30:00Z", "2026-06-13T21:00:00Z"), starts, ends)
    assert not s.outside_event(when("2026-06-13T21:00:00Z"), starts, ends)
    assert s.outside_event(when("2026-06-13T18:00:00Z", "2026-06-13T20:00:00Z"), starts, ends)
    assert s.outside_event(when("2026-06-13T22:00:00Z"), starts, ends)
    assert s.outside_event(when("2026-06-14T20:00:00Z"), starts, ends)
    assert not s.outside_event(when("2026-06-14T20:00:00Z"), starts, None)  # no end: open
    assert not s.outside_event(when("2026-06-14T20:00:00Z"), None, None)  # no start: unchecked


MONDAY = "2026-06-08"  # a Monday; the 14th is a Sunday


def closed(hours: Any, start: str, end: str | None = None) -> bool | None:
    found = s.read_hours(hours)
    assert found is not None
    return found.closed_for(t(start), t(end) if end else None)


@pytest.mark.parametrize(
    "hours",
    [
        "12:00-15:00, 19:00-23:00",
        "12:00 - 15:00,19:00\u201323:00",
        "Mo-Su 12:00-15:00,19:00-23:00",
        {d: ["12:00-15:00", "19:00-23:00"] for d in ("mon", "Tue", "WED", "th", "fri", "sa", "su")},
        {"monday": [{"open": "12:00", "close": "15:00"}, {"open": "19:00", "close": "23:00"}]},
        {
            "periods": [
                {"open": {"day": 1, "time": "1200"}, "close": {"day": 1, "time": "1500"}},
                {"open": {"day": 1, "hour": 19, "minute": 0}, "close": {"day": 1, "time": "2300"}},
            ]
        },
    ],
)
def test_each_form_of_opening_hours(hours: Any) -> None:
    assert closed(hours, f"{MONDAY}T12:00", f"{MONDAY}T14:00") is False
    assert closed(hours, f"{MONDAY}T19:30") is False
    assert closed(hours, f"{MONDAY}T16:00") is True  # between the two spans
    assert closed(hours, f"{MONDAY}T14:00", f"{MONDAY}T16:00") is True  # runs past closing
    assert closed(hours, f"{MONDAY}T23:00") is True  # closing time is closed


def test_a_place_closed_that_day() -> None:
    osm = "Mo-Fr 09:00-17:00; Sa 10:00-14:00; Su off"
    assert closed(osm, "2026-06-14T12:00") is True  # Sunday
    assert closed(osm, "2026-06-13T12:00") is False  # Saturday
    assert closed({"mon": "09:00-17:00", "sun": "closed"}, "2026-06-14T12:00") is True
    assert closed({"mon": "09:00-17:00", "sun": None}, "2026-06-14T12:00") is True
    assert closed("Mo-Fr 09:00-17:00", "2026-06-14T12:00") is True  # not named: closed
    google = {
        "periods": [{"open": {"day": 1, "time": "0900"}, "close": {"day": 1, "time": "1700"}}]
    }
    assert closed(google, "2026-06-09T12:00") is True  # a Tuesday without a period


def test_hours_past_midnight() -> None:
    late = "18:00-02:00"
    assert closed(late, f"{MONDAY}T23:00", "2026-06-09T01:30") is False
    assert closed(late, "2026-06-09T01:00") is False  # Monday's night, early Tuesday
    assert closed(late, "2026-06-09T03:00") is True
    google = {
        "periods": [{"open": {"day": 5, "time": "2200"}, "close": {"day": 6, "time": "0400"}}]
    }
    assert closed(google, "2026-06-13T03:00") is False  # Saturday 03:00, Friday's night
    assert closed(google, "2026-06-14T03:00") is True
    assert closed("24/7", f"{MONDAY}T03:00", "2026-06-10T03:00") is False  # two days, no break
    assert closed({"periods": [{"open": {"day": 0, "time": "0000"}}]}, f"{MONDAY}T03:00") is False


def test_a_day_the_hours_do_not_name_is_unknown() -> None:
    hours = {"mon": "09:00-17:00"}
    assert closed(hours, "2026-06-09T12:00") is None  # Tuesday: not named
    assert closed(hours, f"{MONDAY}T12:00") is False
    assert closed(hours, f"{MONDAY}T18:00") is True
    # Before Monday's first opening, Sunday's unknown hours might still run: unknown.
    assert closed(hours, f"{MONDAY}T01:00") is None


@pytest.mark.parametrize(
    "hours",
    [
        ["Monday: 9:00 AM - 5:00 PM"],
        "9am to 5pm",
        "Mo-Fr 09:00-17:00; PH off",
        {"weekdays": "09:00-17:00"},
        {"mon": "25:00-26:00"},
        {"mon": 9},
        {"periods": [{"open": {"day": 9, "time": "0900"}}]},
        {"periods": "always"},
        42,
    ],
)
def test_other_forms_are_unknown_never_guessed(hours: Any) -> None:
    with pytest.raises(s.UnknownHours):
        s.read_hours(hours)


def test_no_hours() -> None:
    assert [s.read_hours(v) for v in (None, "", {}, [])] == [None] * 4


def test_overlaps_far_apart_on_the_wall_clock_are_found() -> None:
    from resolvers import conflicts

    trip = m.Trip.model_validate({"id": "t", "userId": "u", "title": "T"})

    def item(id_: str, start: str, end: str) -> m.Item:
        data = {"id": id_, "tripId": "t", "title": id_, "startTime": start, "endTime": end}
        return m.Item.model_validate(data)

    # 06:00-08:00 UTC in Honolulu's offset, and 07:00-08:00 UTC in Tonga's: a day apart on
    # the wall clock, overlapping in time.
    items = [
        item("hnl", "2026-06-10T20:00:00-10:00", "2026-06-10T22:00:00-10:00"),
        *(item(f"x{n}", f"2026-06-11T0{n}:00", f"2026-06-11T0{n}:30") for n in range(5)),
        item("tbu", "2026-06-11T20:00:00+13:00", "2026-06-11T21:00:00+13:00"),
    ]
    found, _ = conflicts.find(trip, items, [None] * len(items))
    assert [f["itemIds"] for f in found] == [["hnl", "tbu"]]
