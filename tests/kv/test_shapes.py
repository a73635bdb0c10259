"""`check --shapes`: one pass that describes a table and proposes a mapping that fits it."""

from __future__ import annotations

import json

import pytest

from gql.kv import Store
from gql.kv import models as m
from gql.kv.mapping import parse_mapping
from gql.kv.shapes import FIELDS_KEPT, expectations, scan_shapes, time_format
from tests.support import APP_RECORDS, BACKENDS

on_both_stores = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


@on_both_stores
async def test_fields_types_and_values_are_counted(store: Store) -> None:
    await store.set_many({**APP_RECORDS, "hotel:hotel-9": {"id": "hotel-9"}, "item:broken": [1]})
    shapes = await scan_shapes(store)
    assert shapes.scanned == len(APP_RECORDS) + 2
    items = shapes.entities["item"]
    assert (items.records, items.not_objects) == (4, 1)
    assert items.fields["kind"].values == {"flight": 1, "stay": 1, "meal": 1}
    assert items.fields["startTime"].formats == {"offset": 1, "local": 1}
    assert items.fields["cost"].types == {"string": 1}
    trips = shapes.entities["trip"]
    assert trips.fields["updatedAt"].formats == {"epoch ms": 1}
    assert trips.fields["endDate"].formats == {"utc": 1}
    assert shapes.entities["restaurant"].fields["priceLevel"].types == {"string": 1}
    assert shapes.indexes["trips:index:{userId}"].elements == {"string": 3}
    assert shapes.unknown == {"hotel:": 1}
    assert dict(items.invalid) == {"not a JSON object (array)": 1}


@on_both_stores
async def test_the_proposal_maps_what_kvgraph_recognises(store: Store) -> None:
    await store.set_many(APP_RECORDS)
    proposal = (await scan_shapes(store)).proposal()
    assert proposal.names == {
        "event": {"title": "name"},
        "message": {"createdAt": "timestamp"},
        "profile": {"name": "displayName"},
        "suggestion": {"message": "content"},
    }
    assert proposal.values == {
        "collaborator": {"role": {"owner": "editor"}},
        "item": {"kind": {"flight": "transport"}},
        "message": {"role": {"model": "assistant"}},
        "suggestion": {"status": {"pending": "active"}},
    }
    assert any("'hotel'" in note for note in proposal.notes["item"])


@on_both_stores
async def test_the_proposed_file_loads_and_then_fits(store: Store) -> None:
    await store.set_many(APP_RECORDS)
    first = await scan_shapes(store)
    mapping = parse_mapping(first.proposal().toml(), "proposed")
    again = await scan_shapes(store, mapping)
    proposal = again.proposal()
    assert (proposal.names, proposal.values) == ({}, {})
    assert parse_mapping(proposal.toml(mapping)).tables() == mapping.tables()  # nothing lost


@on_both_stores
async def test_spelling_variants_and_common_names_are_proposed(store: Store) -> None:
    await store.set_many(
        {
            "trip:t1": {"id": "t1", "ownerId": "u", "title": "A", "start_date": "2025-01-01"},
            "trip:t2": {"id": "t2", "ownerId": "u", "title": "B", "start_date": "2025-02-01"},
            "item:i1": {"id": "i1", "TripID": "t1", "title": "x", "type": "Meal"},
        }
    )
    shapes = await scan_shapes(store)
    proposal = shapes.proposal()
    assert proposal.names == {
        "trip": {"ownerId": "userId", "start_date": "startDate"},
        "item": {"TripID": "tripId", "type": "kind"},
    }
    assert shapes.entities["trip"].invalid == {"userId: Field required": 2}
    mapped = await scan_shapes(store, parse_mapping(proposal.toml()))
    assert sum(mapped.entities["trip"].invalid.values()) == 0
    assert mapped.proposal().values == {"item": {"kind": {"Meal": "meal"}}}


@on_both_stores
async def test_json_output_is_plain_json(store: Store) -> None:
    await store.set_many(APP_RECORDS)
    out = json.loads(json.dumps((await scan_shapes(store)).to_json()))
    message = out["entities"]["message"]
    assert message["fields"]["createdAt"]["status"] == "synonym"
    assert message["fields"]["createdAt"]["readAs"] == "timestamp"
    assert message["fields"]["role"]["values"] == {"user": 1, "model": 1}
    assert message["fields"]["role"]["expects"]["values"] == list(m.MESSAGE_ROLES)
    assert out["entities"]["item"]["fields"]["location"]["status"] == "embedded"
    assert "[message.values.role]" in out["proposal"]["toml"]


def test_time_formats_and_expectations() -> None:
    formats = [
        time_format(v)
        for v in (
            1732550400000,
            1732550400,
            "2025-06-05",
            "2025-06-05T10:00:00Z",
            "2025-06-05T10:00+02:00",
            "2025-06-05 10:00",
            "soon",
            "1732550400000",
        )
    ]
    assert formats == [
        "epoch ms",
        "epoch s",
        "date",
        "utc",
        "offset",
        "local",
        "text",
        "epoch (text)",
    ]
    trip = expectations(m.Trip)
    assert (trip["userId"].text(), trip["endDate"].text(), trip["updatedAt"].text()) == (
        "string, required",
        "date",
        "date-time",
    )
    assert expectations(m.Rental)["bedrooms"].type == "integer"
    assert expectations(m.Message)["role"].text() == "one of user|assistant|system|tool"


@on_both_stores
async def test_records_keyed_by_data_stay_small(store: Store) -> None:
    days = {f"2025-06-{d:02d}": d for d in range(1, 31)}
    await store.set_many(
        {
            f"job:j{i}": {"id": f"j{i}", **{f"{i}-{d}": v for d, v in days.items()}}
            for i in range(10)
        }
    )
    job = (await scan_shapes(store)).entities["job"]
    assert len(job.fields) == FIELDS_KEPT + 1
    assert job.fields["…"].records == 10 * 31 - 10 - (FIELDS_KEPT - 1)  # all but id and 199
