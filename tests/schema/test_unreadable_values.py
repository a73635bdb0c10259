"""Through the API, a record with a field nested too deep for any decoder (or holding a lone
surrogate escape) is a record: shown with that field reported unreadable, and its owner can
update it (the field's stored bytes kept) and delete it. A value that is not JSON at all is an
invalid record: no owner can be known."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from tests.support import (
    EVERY_BACKEND,
    TEXT_BACKENDS,
    Gateway,
    mutation,
    read_raw,
    write_raw,
)

OWNER, STRANGER = "owner-1", "stranger-1"
DEEP = "[" * 5_000 + "]" * 5_000
TRIP = '{"id":"%s","userId":"owner-1","title":"%s","notes":%s}'
UPDATE_TRIP = mutation("updateTrip", "trip { id title }")
DELETE_TRIP = mutation("deleteTrip", "trip { id title }")
TRIPS = "{ viewer { trips { nodes { id title } } } }"


async def written(gw: Gateway, query: str, input_: dict[str, Any], key: str) -> Any:
    """Run a mutation that must succeed on a record with a field it cannot read: the only
    error is that field's INVALID_RECORD report; return the entity."""
    result = await gw.run(query, {"input": input_}, viewer=OWNER)
    assert reported(result) == [("INVALID_RECORD", key, ["notes"])]
    (out,) = result.data.values()  # type: ignore[union-attr]
    assert out["userErrors"] == []
    return out["trip"]


def reported(result: Any) -> list[tuple[str, str, list[str]]]:
    """(code, key, unreadable fields) of each error of a result."""
    return [
        (e.extensions["code"], e.extensions.get("key", ""), e.extensions.get("fields", []))
        for e in result.errors or []
    ]


@pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)
async def test_the_owner_reads_updates_and_deletes_a_record_nested_too_deep(
    gw: Gateway, store: Store, store_url: tuple[str, str]
) -> None:
    rows = {"trip:deep": TRIP % ("deep", "Deep", DEEP), "trips:index:owner-1": '["deep"]'}
    await write_raw(store_url, rows)
    result = await gw.run(TRIPS, viewer=OWNER)
    assert result.data == {"viewer": {"trips": {"nodes": [{"id": "deep", "title": "Deep"}]}}}
    assert reported(result) == [("INVALID_RECORD", "trip:deep", ["notes"])]

    # A stranger still finds nothing to delete.
    stranger = await gw.ok(DELETE_TRIP, {"input": {"id": "deep"}}, viewer=STRANGER)
    assert stranger["deleteTrip"]["userErrors"][0]["code"] == "NOT_FOUND"

    await written(gw, UPDATE_TRIP, {"id": "deep", "title": "Deeper"}, "trip:deep")
    (raw,) = await read_raw(store_url, ["trip:deep"])
    assert raw is not None and DEEP in raw and "Deeper" in raw

    deleted = await written(gw, DELETE_TRIP, {"id": "deep"}, "trip:deep")
    assert deleted == {"id": "deep", "title": "Deeper"}
    assert await read_raw(store_url, ["trip:deep", "trips:index:owner-1"]) == [None, "[]"]


@pytest.mark.parametrize("store_url", TEXT_BACKENDS, indirect=True)  # jsonb holds neither
async def test_a_lone_surrogate_field_and_a_value_that_is_not_json(
    gw: Gateway, store: Store, store_url: tuple[str, str]
) -> None:
    rows = {
        "trip:sur": TRIP % ("sur", "Surrogate", '"x\\ud800"'),
        "trip:bad": "not json",
        "trips:index:owner-1": '["sur","bad"]',
    }
    await write_raw(store_url, rows)
    result = await gw.run(TRIPS, viewer=OWNER)
    assert result.data == {"viewer": {"trips": {"nodes": [{"id": "sur", "title": "Surrogate"}]}}}
    assert sorted(reported(result)) == [
        ("INVALID_RECORD", "trip:bad", []),
        ("INVALID_RECORD", "trip:sur", ["notes"]),
    ]
    await written(gw, DELETE_TRIP, {"id": "sur"}, "trip:sur")
    refused = await gw.ok(DELETE_TRIP, {"input": {"id": "bad"}}, viewer=OWNER)
    assert refused["deleteTrip"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert await read_raw(store_url, ["trip:sur", "trip:bad"]) == [None, "not json"]
