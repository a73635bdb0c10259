"""`check --shapes`: one pass that describes a table and proposes a mapping that fits it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.mapping import Entry, parse_mapping
from gql.kv.shapes import FIELDS_KEPT, expectations, scan_shapes, time_format
from resolvers.loaders import Loaders
from tests.support import APP_RECORDS, BACKENDS

on_both_stores = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


def short(table: dict[str, Any]) -> dict[str, Any]:
    """Proposal tables with each entry as kvgraph's name or value, plus `!` if written."""
    return {
        k: (v.means + ("!" if v.write else "")) if isinstance(v, Entry) else short(v)
        for k, v in table.items()
    }


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
    assert short(proposal.names) == {
        "event": {"title": "name!"},
        "message": {"createdAt": "timestamp!"},
        "profile": {"name": "displayName!"},
        "suggestion": {"message": "content!"},
    }
    # Only `model` means exactly a kvgraph value; the others are read only, with why.
    assert short(proposal.values) == {
        "collaborator": {"role": {"owner": "editor"}},
        "item": {"kind": {"flight": "transport"}},
        "message": {"role": {"model": "assistant!"}},
        "suggestion": {"status": {"pending": "active"}},
    }
    assert proposal.values["item"]["kind"]["flight"].why == (
        "read-only: may not mean exactly transport, so kvgraph writes transport (1 record)"
    )
    assert proposal.values["message"]["role"]["model"].why == (
        "same as assistant: kvgraph writes model (1 record)"
    )
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
    assert short(proposal.names) == {
        "trip": {"ownerId": "userId!", "start_date": "startDate!"},
        "item": {"TripID": "tripId!", "type": "kind!"},
    }
    assert shapes.entities["trip"].invalid == {"userId: Field required": 2}
    mapped = await scan_shapes(store, parse_mapping(proposal.toml()))
    assert sum(mapped.entities["trip"].invalid.values()) == 0
    assert short(mapped.proposal().values) == {"item": {"kind": {"Meal": "meal!"}}}


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
    assert out["proposal"]["values"]["item"]["kind"]["flight"] == {
        "means": "transport",
        "write": False,
        "why": "read-only: may not mean exactly transport, so kvgraph writes transport (1 record)",
    }
    assert out["proposal"]["fields"]["event"]["title"] == {
        "means": "name",
        "write": True,
        "why": "",
    }


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
    assert expectations(m.PLACES["rental"])["bedrooms"].type == "integer"
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


def trips(owners: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Trips `t0`, `t1`, ... with the given owner fields, listed in `trips:index:u1`."""
    out: dict[str, Any] = {"trips:index:u1": list(owners)}
    for id_, owner in owners.items():
        out[f"trip:{id_}"] = {"id": id_, "title": id_.upper(), **owner}
    return out


@on_both_stores
async def test_a_minority_spelling_is_proposed_read_only_with_its_count(store: Store) -> None:
    table = {f"t{i}": {"userId": "u1"} for i in range(7)} | {"t7": {"ownerId": "u1"}}
    await store.set_many(trips(table))
    first = await scan_shapes(store)
    assert first.entities["trip"].invalid == {"userId: Field required": 1}
    assert first.proposal().names == {
        "trip": {
            "ownerId": Entry("userId", False, "1 of 8 trips; 7 use userId, which kvgraph writes")
        }
    }
    mapping = parse_mapping(first.proposal().toml(), "proposed")
    again = await scan_shapes(store, mapping)
    assert sum(again.entities["trip"].invalid.values()) == 0
    assert again.to_json()["entities"]["trip"]["missing"] == []
    assert again.to_json()["entities"]["trip"]["fields"]["ownerId"]["status"] == "mapped read-only"
    assert (again.proposal().names, again.proposal().values) == ({}, {})
    loaders = Loaders(store, mapping)
    read = [await loaders.entity(e.TRIP, f"t{i}") for i in range(8)]
    assert [getattr(t, "user_id", t) for t in read] == ["u1"] * 8  # all 8, with their owner


@on_both_stores
async def test_the_majoritys_spelling_is_written_and_a_third_read_only(store: Store) -> None:
    table = (
        {f"t{i}": {"ownerId": "u1"} for i in range(5)}
        | {"t5": {"userId": "u1"}}
        | {"t6": {"uid": "u1"}, "t7": {"uid": "u1"}}
    )
    await store.set_many(trips(table))
    proposal = (await scan_shapes(store)).proposal()
    assert proposal.names == {
        "trip": {
            "ownerId": Entry("userId", True, "5 of 8 trips; 1 uses userId"),
            "uid": Entry("userId", False, "2 of 8 trips; 5 use ownerId, which kvgraph writes"),
        }
    }
    mapping = parse_mapping(proposal.toml())
    assert sum((await scan_shapes(store, mapping)).entities["trip"].invalid.values()) == 0
    assert mapping.outgoing(m.Trip, {"userId": "u2"}) == {"ownerId": "u2"}


@on_both_stores
async def test_one_exact_spelling_per_value_is_written(store: Store) -> None:
    kinds = ["Meal", "Meal", "meal", "MEAL", "flight", "Stay", "stay", "stay"]
    await store.set_many(
        {
            f"item:i{n}": {"id": f"i{n}", "tripId": "t", "title": "x", "kind": k}
            for n, k in enumerate(kinds)
        }
    )
    proposal = (await scan_shapes(store)).proposal()
    assert proposal.values == {
        "item": {
            "kind": {
                "Meal": Entry("meal", True, "same as meal: kvgraph writes Meal (2 records)"),
                "MEAL": Entry(
                    "meal", False, "read-only: same as meal, but kvgraph writes Meal (1 record)"
                ),
                "Stay": Entry(
                    "stay", False, "read-only: same as stay, but more records use stay (1 record)"
                ),
                "flight": Entry(
                    "transport",
                    False,
                    "read-only: may not mean exactly transport, so kvgraph writes transport (1 record)",
                ),
            }
        }
    }
    mapping = parse_mapping(proposal.toml())  # loads: one written spelling per value
    assert mapping.outgoing(m.Item, {"kind": "meal"}) == {"kind": "Meal"}
    assert mapping.outgoing(m.Item, {"kind": "stay"}) == {"kind": "stay"}
    assert parse_mapping(proposal.toml(mapping)).tables() == mapping.tables()
