"""Ordinary app values (issue 6) read with their records visible and survive kvgraph's writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.check import scan
from gql.kv.repo import Repository
from resolvers.loaders import Loaders
from tests.support import APP_RECORDS, APP_USER, BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))

# key -> {Python field: what the record reads as}
EXPECTED: dict[str, dict[str, Any]] = {
    f"profile:{APP_USER}": {"display_name": "Ana Costa"},
    "trip:trip-1": {
        "end_date": dt.date(2025, 6, 5),
        "updated_at": dt.datetime(2024, 11, 25, 16, tzinfo=dt.UTC),
    },
    f"collaborator:trip-2:{APP_USER}": {"role": "owner"},
    "item:item-flight": {
        "kind": "flight",
        "cost": 189.9,
        "start_time": dt.datetime(2025, 6, 1, 8, 15, tzinfo=PLUS_ONE),
    },
    "item:item-hotel": {"location_type": "hotel", "coordinates": (38.7114, -9.13)},
    "item:item-dinner": {"start_time": dt.datetime(2025, 6, 2, 20, 0)},
    "restaurant:rest-1": {"price_level": 2},
    "event:event-1": {"name": "Fado night"},
    "rental:rental-1": {"bedrooms": 2, "price_per_night": 95.0},
    "message:msg-2": {
        "role": "model",
        "timestamp": dt.datetime(2025, 5, 20, 18, 0, 2, 500000, tzinfo=dt.UTC),
    },
    "ai_run:run-1": {"duration_ms": 850.7},
    "suggestion:sug-1": {"content": "Book the fado show early.", "status": "pending"},
}


async def loaded(store: Store, key: str) -> m.Record:
    parsed = k.parse(key)
    assert parsed is not None
    spec = e.SPECS[parsed.pattern.name]
    record = await Loaders(store).entity(spec, *parsed.params.values())
    assert isinstance(record, spec.model), f"{key}: {record}"
    return record


@pytest.mark.parametrize("key", sorted(EXPECTED))
async def test_each_app_record_reads_with_its_values(store: Store, key: str) -> None:
    await store.set_many(APP_RECORDS)
    record = await loaded(store, key)
    assert {name: getattr(record, name) for name in EXPECTED[key]} == EXPECTED[key]
    assert record.dropped_fields == {}


async def test_every_app_record_is_valid_and_unknown_fields_are_kept(store: Store) -> None:
    await store.set_many(APP_RECORDS)
    report = await scan(store)
    assert [p for p in report.problems if p.kind == "invalid"] == []
    trip = await loaded(store, "trip:trip-1")
    assert trip.to_json()["coverColor"] == "#1d4ed8"


async def test_writes_keep_the_apps_values(store: Store) -> None:
    await store.set_many(APP_RECORDS)
    repo = Repository(store)
    await repo.update(e.ITEM, ["item-flight"], {"title": "TP 1351"})
    await repo.update(e.ITEM, ["item-hotel"], {"notes": "late check-in"})
    await repo.update(e.TRIP, ["trip-1"], {"destination": "Lisbon"})
    flight, hotel, trip = await store.get_many(
        ["item:item-flight", "item:item-hotel", "trip:trip-1"]
    )
    before = APP_RECORDS["item:item-flight"]
    assert {f: flight[f] for f in ("kind", "cost", "startTime")} == {
        f: before[f] for f in ("kind", "cost", "startTime")
    }
    assert hotel["location"] == {"lat": 38.7114, "lng": -9.13}
    assert hotel["locationType"] == "hotel"
    assert trip["endDate"] == "2025-06-05T22:00:00.000Z"
    assert isinstance(trip["updatedAt"], int) and trip["updatedAt"] > 1732550400000
    assert trip["coverColor"] == "#1d4ed8"
