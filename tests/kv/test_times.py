"""Times keep their meaning: offsets kept, local times stay local, stamps keep their format."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import asyncpg
import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.repo import Repository, stamp_like
from resolvers.validate import iso_datetime, ordered
from tests.support import BACKENDS, EVERY_BACKEND, PG_SKIP, PG_URL

AT = dt.datetime(2025, 3, 14, 19, 0, 0, 123000, tzinfo=dt.UTC)


def start_time(value: object) -> dt.datetime:
    item = m.validate(
        m.Item, "item:i", {"id": "i", "tripId": "t", "title": "x", "startTime": value}
    )
    assert isinstance(item, m.Item) and item.start_time is not None, item
    return item.start_time


# ---------------------------------------------------------------- reading
def test_an_offset_is_kept_not_converted() -> None:
    value = start_time("2025-03-14T20:00:00+02:00")
    assert (value.hour, value.utcoffset()) == (20, dt.timedelta(hours=2))
    assert not m.is_local(value)
    assert value.isoformat() == "2025-03-14T20:00:00+02:00"


@pytest.mark.parametrize("given", ["2025-03-14T20:00", "2025-03-14 20:00", "2025-03-14T20:00:00"])
def test_a_time_without_offset_stays_local(given: str) -> None:
    value = start_time(given)
    assert value == dt.datetime(2025, 3, 14, 20, 0)
    assert m.is_local(value)


def test_microseconds_are_kept() -> None:
    assert start_time("2025-03-14T20:00:00.123456+02:00").microsecond == 123456


@pytest.mark.parametrize("given", [1741982400000, "1741982400000", 1741982400])
def test_epoch_numbers_read_as_utc(given: object) -> None:
    value = start_time(given)
    assert value == dt.datetime(2025, 3, 14, 20, 0, tzinfo=dt.UTC)
    assert value.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("a", "b", "before"),
    [
        ("2025-03-14T20:00:00+02:00", "2025-03-14T19:00:00Z", True),  # instants: 18:00Z < 19:00Z
        ("2025-03-14T20:00", "2025-03-14T19:00", False),  # two local times: wall clocks
        ("2025-03-14T20:00", "2025-03-14T21:00:00+05:00", True),  # mixed: wall clocks
        ("2025-03-14T20:00", "2025-03-14T19:00:00-05:00", False),
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z", True),  # calendar edge
    ],
)
def test_earlier_compares_any_two_times(a: str, b: str, before: bool) -> None:
    assert m.earlier(start_time(a), start_time(b)) is before


# Postgres prints a timestamptz as text with a space and a short offset (`+00`, `+05:30`, a
# historical zone's `+05:53:28`), a timestamp without time zone without one: apps copy either
# into their JSON (`now()::text`). Each reads as the ISO form with the same offset, or local.
POSTGRES_TEXT = [
    ("2024-12-24 10:00:00+00", "2024-12-24T10:00:00+00:00"),
    ("2024-12-24 10:00:00.123456+05:30", "2024-12-24T10:00:00.123456+05:30"),
    ("2024-12-24 10:00:00.5-08", "2024-12-24T10:00:00.500-08:00"),
    ("1900-01-01 00:00:00+05:53:28", "1900-01-01T00:00:00+05:53:28"),
    ("2024-12-24 10:00:00", "2024-12-24T10:00:00"),
]


@pytest.mark.parametrize(("stored", "iso"), POSTGRES_TEXT)
def test_postgres_text_reads_as_its_iso_form(stored: str, iso: str) -> None:
    value, same = start_time(stored), dt.datetime.fromisoformat(iso)
    assert value == same and value.utcoffset() == same.utcoffset()
    assert m.is_local(value) is m.is_local(same)


@pytest.mark.parametrize(
    "stored",
    [
        "2024-13-45 99:00",
        "2024-13-45 99:00:00+00",
        "2024-12-24 10:00:00+25",
        "2024-12-24 10:00:00+0",
    ],
)
def test_garbage_in_postgres_form_is_still_reported(stored: str) -> None:
    item = m.validate(
        m.Item, "item:i", {"id": "i", "tripId": "t", "title": "x", "startTime": stored}
    )
    assert isinstance(item, m.Item) and item.start_time is None
    assert list(item.dropped_fields) == ["startTime"]


def test_a_date_stored_as_postgres_text_reads_as_its_date() -> None:
    trip = m.validate(
        m.Trip,
        "trip:t",
        {"id": "t", "userId": "u", "title": "x", "startDate": "2024-12-24 23:00:00+00"},
    )
    assert isinstance(trip, m.Trip) and trip.start_date == dt.date(2024, 12, 24)


# ---------------------------------------------------------------- writing what users give
@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("2025-03-14T20:00:00+02:00", "2025-03-14T20:00:00.000+02:00"),
        ("2025-03-14T20:00:00Z", "2025-03-14T20:00:00.000Z"),
        ("2025-03-14T20:00:00.5-03:30", "2025-03-14T20:00:00.500-03:30"),
        ("2025-03-14T20:00:00.123456+02:00", "2025-03-14T20:00:00.123456+02:00"),
        ("2025-03-14T20:00", "2025-03-14T20:00:00.000"),
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00.000+01:00"),
        ("9999-12-31T23:59:59.999999-01:00", "9999-12-31T23:59:59.999999-01:00"),
    ],
)
def test_user_times_are_written_as_given(given: str, written: str) -> None:
    value = dt.datetime.fromisoformat(given)
    assert iso_datetime(value) == written
    assert start_time(written) == value  # and read back as the same time


def test_order_check_never_crashes_on_mixed_times() -> None:
    local, aware = dt.datetime(2025, 3, 14, 20), dt.datetime(2025, 3, 14, 19, tzinfo=dt.UTC)
    assert ordered(local, aware, "startTime", "endTime")  # 19:00 is before 20:00 on the clock
    assert ordered(aware, local, "startTime", "endTime") == []
    edge = dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert ordered(edge, dt.datetime(1, 1, 1), "startTime", "endTime") == []


# ---------------------------------------------------------------- kvgraph's own stamps
@pytest.mark.parametrize(
    ("previous", "stamp"),
    [
        (1732550400000, 1741978800123),  # epoch ms stays epoch ms
        (1732550400000.0, 1741978800123),
        (1732550400, 1741978800),  # epoch seconds stay seconds
        ("1732550400000", "1741978800123"),  # a numeric string stays one
        ("2024-11-25T16:00:00.000Z", "2025-03-14T19:00:00.123Z"),
        ("2024-11-25T17:00:00+01:00", "2025-03-14T19:00:00.123Z"),
        ("2024-11-25 16:00:00+00", "2025-03-14 19:00:00.123+00"),  # Postgres' text stays so
        ("2024-11-25 16:00:00.5+01", "2025-03-14 19:00:00.123+00"),
        ("2024-11-25 16:00:00", "2025-03-14 19:00:00.123+00"),
        (None, "2025-03-14T19:00:00.123Z"),
        (True, "2025-03-14T19:00:00.123Z"),
    ],
)
def test_stamps_keep_the_format_in_use(previous: Any, stamp: Any) -> None:
    assert stamp_like(previous, AT) == stamp


on_both_stores = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


@on_both_stores
async def test_numeric_updated_at_stays_numeric(store: Store) -> None:
    trip = {"id": "t1", "userId": "u", "title": "T", "createdAt": 1732550400000}
    await store.set("trip:t1", {**trip, "updatedAt": 1732550400000})
    await store.set("trip:t2", {**trip, "id": "t2"})  # no updatedAt yet: follows createdAt
    repo = Repository(store)
    for key in ("t1", "t2"):
        await repo.update(e.TRIP, [key], {"title": "Renamed"})
        stored = await store.get(f"trip:{key}")
        assert isinstance(stored["updatedAt"], int)
        assert stored["updatedAt"] > 1732550400000
        assert stored["createdAt"] == 1732550400000


@on_both_stores
async def test_iso_stamps_stay_iso_and_new_records_get_iso(store: Store) -> None:
    repo = Repository(store)
    await store.set("conversation:c1", {"id": "c1", "userId": "u", "updatedAt": 1732550400000})
    created = await repo.create(e.TRIP, {"userId": "u", "title": "New"})
    stored = await store.get(f"trip:{created.id}")  # type: ignore[attr-defined]
    assert stored["createdAt"].endswith("Z") and stored["updatedAt"].endswith("Z")
    await repo.update(e.TRIP, [created.id], {"title": "Again"})  # type: ignore[attr-defined]
    assert (await store.get(f"trip:{created.id}"))["updatedAt"].endswith("Z")  # type: ignore[attr-defined]
    await repo.create_all(
        [(e.MESSAGE, {"conversationId": "c1", "content": "hi"}, None)],
        touch=[(e.CONVERSATION, "c1")],
    )
    assert isinstance((await store.get("conversation:c1"))["updatedAt"], int)


@on_both_stores
async def test_offset_and_local_times_round_trip_through_the_store(store: Store) -> None:
    times = {"startTime": "2025-03-14T20:00:00.000+02:00", "endTime": "2025-03-14T22:30:00.123456"}
    repo = Repository(store)
    await store.set("trip:t1", {"id": "t1", "userId": "u", "title": "Lisbon"})
    await repo.create(e.ITEM, {"id": "i1", "tripId": "t1", "title": "Dinner", **times})
    stored = await store.get("item:i1")
    assert {k: stored[k] for k in times} == times
    item = await repo.get(e.ITEM, "i1")
    assert isinstance(item, m.Item)
    assert item.start_time == dt.datetime(
        2025, 3, 14, 20, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    assert item.end_time == dt.datetime(2025, 3, 14, 22, 30, 0, 123456)  # local, microseconds


@pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)
async def test_an_update_keeps_postgres_text_times_it_does_not_change(store: Store) -> None:
    """Times an app copied from Postgres stay as stored; the stamp kvgraph writes follows them."""
    times = {"startTime": "2024-12-24 10:00:00+00", "endTime": "2024-12-24 12:30:00.123456+05:30"}
    stored = {"id": "i1", "tripId": "t1", "title": "Dinner", **times}
    await store.set("item:i1", {**stored, "updatedAt": "2024-12-20 08:00:00.123456+00"})
    updated = await Repository(store).update(e.ITEM, ["i1"], {"title": "Supper"})
    assert isinstance(updated, m.Item)
    assert updated.start_time == dt.datetime(2024, 12, 24, 10, tzinfo=dt.UTC)
    raw = await store.get("item:i1")
    assert {name: raw[name] for name in times} == times
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00", raw["updatedAt"])
    assert raw["updatedAt"] > "2024-12-20 08:00:00.123456+00"  # still sorts as text


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
async def test_what_postgres_prints_reads_as_the_instant_it_names() -> None:
    """The text forms come from Postgres itself, in zones with whole, half and odd offsets."""
    conn = await asyncpg.connect(PG_URL)
    try:
        for zone in ("UTC", "Asia/Kolkata", "America/Los_Angeles"):
            await conn.execute(f"SET TIME ZONE '{zone}'")
            for moment in ("2024-12-24 10:00:00.123456+00", "1900-01-01 00:00:00+00"):
                text = await conn.fetchval("SELECT $1::text::timestamptz::text", moment)
                naive = await conn.fetchval("SELECT $1::text::timestamptz::timestamp::text", moment)
                instant = dt.datetime.fromisoformat(moment)
                assert start_time(text) == instant and not m.is_local(start_time(text)), text
                assert start_time(naive) == dt.datetime.fromisoformat(naive), naive
    finally:
        await conn.close()
