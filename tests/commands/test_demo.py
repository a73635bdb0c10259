"""The demo data set: counts, consistent indexes and places, valid records, determinism."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gql.commands import demo
from gql.kv import Store, open_store
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.catalog import CATALOG
from gql.kv.entities import INDEX_TARGET, LOCATIONS, SPECS
from gql.web.settings import Settings
from tests.support import BACKENDS, drop_table, dump

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

EXPECTED = {
    "users": 4,
    "trips": 6,
    "items": 44,
    "conversations": 4,
    "messages": 16,
    "suggestions": 7,
    "saved_places": 8,
    "collaborators": 2,
    "collections": 3,
    "budgets": 1,
    "ai_runs": 3,
    "conflicts": 5,
    "workflows": 3,
    "jobs": 3,
    "automation_rules": 3,
    "web_sources": 1,
}


def of(rows: dict[str, Any], pattern: k.KeyPattern) -> dict[str, Any]:
    """Return the rows whose key matches `pattern`."""
    return {key: v for key, v in rows.items() if (p := k.parse(key)) and p.pattern is pattern}


@pytest.fixture
async def seeded(store: Store) -> dict[str, Any]:
    """Seed the store and return its contents."""
    await demo.seed_demo(store)
    return await dump(store)


@pytest.fixture
async def other_store(store_url: tuple[str, str]) -> AsyncIterator[Store]:
    """A second opened, empty store beside `store` (another table)."""
    url, table = store_url
    other = open_store(url, table + "_b")
    await other.open()
    yield other
    await other.close()
    if url.startswith("postgres"):
        await drop_table(url, table + "_b")


async def test_seed_empty_store_gives_expected_counts(store: Store) -> None:
    assert await demo.store_is_empty(store)
    summary = await demo.seed_demo(store)
    assert not await demo.store_is_empty(store)
    counts = {name: getattr(summary, name) for name in EXPECTED}
    assert counts == EXPECTED
    assert summary.places == tuple((kind.name, len(kind.samples)) for kind in CATALOG)
    assert summary.demo_user_id == demo.DEMO_USER_ID
    assert await store.get(k.TRIPS_INDEX.key(demo.DEMO_USER_ID)) == list(summary.demo_trip_ids)
    assert len(summary.demo_trip_ids) >= 3
    for trip_id in summary.demo_trip_ids:
        assert 5 <= len(await store.get(k.ITEMS_INDEX.key(trip_id)) or []) <= 8
    for kind in CATALOG:
        assert len(await store.get(k.LOCATION_INDEX[kind.name].key()) or []) == len(kind.samples)
    assert len(await store.get(k.SAVED.key(demo.DEMO_USER_ID)) or []) == 4
    assert "demo user: " + demo.DEMO_USER_ID in summary.describe()


async def test_every_index_id_resolves(seeded: dict[str, Any]) -> None:
    indexes = [(key, p) for key in seeded if (p := k.parse(key)) and p.role is k.Role.INDEX]
    assert indexes
    for key, parsed in indexes:
        ids = seeded[key]
        assert ids, key
        assert len(ids) == len(set(ids)), key
        target = INDEX_TARGET[parsed.pattern.name]
        specs = list(LOCATIONS.values()) if target is None else [target]
        for id_ in ids:
            assert any(spec.pattern.key(id_) in seeded for spec in specs), (key, id_)


async def test_every_entity_is_listed_in_its_indexes(seeded: dict[str, Any]) -> None:
    for key, value in seeded.items():
        parsed = k.parse(key)
        assert parsed is not None, key
        if parsed.role is not k.Role.ENTITY:
            continue
        spec = SPECS[parsed.pattern.name]
        record = spec.model.model_validate(value)
        for index_key, listed in spec.index_entries(record):
            assert listed in seeded[index_key], (key, index_key)


async def test_every_item_location_resolves(seeded: dict[str, Any]) -> None:
    kinds = set()
    for key, item in of(seeded, k.ITEM).items():
        if item["kind"] == "transport":
            assert "locationType" not in item, key
            continue
        place = seeded.get(f"{item['locationType']}:{item['locationId']}")
        assert place is not None, key
        trip = seeded[k.TRIP.key(item["tripId"])]
        assert trip["destination"].startswith(place["city"]), key
        if trip["userId"] == demo.DEMO_USER_ID:
            kinds.add(item["locationType"])
    assert kinds == {"event", "restaurant", "rental"}  # stays, dinners and events


async def test_itineraries_are_in_time_order(seeded: dict[str, Any]) -> None:
    for ids in of(seeded, k.ITEMS_INDEX).values():
        starts = [seeded[k.ITEM.key(i)]["startTime"] for i in ids]
        assert starts == sorted(starts)


async def test_all_records_validate(seeded: dict[str, Any]) -> None:
    entities = 0
    for key, value in seeded.items():
        parsed = k.parse(key)
        assert parsed is not None, key
        if parsed.role is k.Role.ENTITY:
            result = m.validate(SPECS[parsed.pattern.name].model, key, value)
            assert not isinstance(result, m.InvalidRecord), result
            entities += 1
    assert entities == len(seeded) - sum(
        1 for key in seeded if (p := k.parse(key)) and p.role is not k.Role.ENTITY
    )


async def test_messages_follow_each_other(seeded: dict[str, Any]) -> None:
    for key, ids in of(seeded, k.MESSAGES_INDEX).items():
        messages = [seeded[k.MESSAGE.key(i)] for i in ids]
        assert 3 <= len(messages) <= 6, key
        stamps = [msg["timestamp"] for msg in messages]
        assert stamps == sorted(stamps)
        assert len(set(stamps)) == len(stamps)
        assert {msg["role"] for msg in messages} == {"user", "assistant"}
        assert k.CONTEXT.key(key.rsplit(":", 1)[1]) in seeded


async def test_suggestions_cover_every_state(seeded: dict[str, Any]) -> None:
    mine = [s for s in of(seeded, k.SUGGESTION).values() if s["userId"] == demo.DEMO_USER_ID]
    assert {s["status"] for s in mine} == {"active", "accepted", "dismissed", "expired"}
    active = seeded[k.SUGGESTIONS_ACTIVE.key(demo.DEMO_USER_ID)]
    assert sorted(active) == sorted(s["id"] for s in mine if s["status"] == "active")
    actions = [s["action"] for s in mine if "action" in s]
    assert actions
    for action in actions:
        assert action["type"] == "addPlace"
        assert f"{action['placeType']}:{action['placeId']}" in seeded


async def test_other_users_own_their_data(seeded: dict[str, Any]) -> None:
    for user in demo.USER_IDS:
        assert k.PROFILE.key(user) in seeded
        assert k.PREFERENCES.key(user) in seeded
        for trip_id in seeded.get(k.TRIPS_INDEX.key(user), []):
            # Their own trips, or trips shared with them (a collaborator entry).
            owner = seeded[k.TRIP.key(trip_id)]["userId"]
            assert owner == user or k.COLLABORATOR.key(trip_id, user) in seeded
        for conv_id in seeded.get(k.CONVERSATIONS_INDEX.key(user), []):
            assert seeded[k.CONVERSATION.key(conv_id)]["userId"] == user
    assert seeded.get(k.TRIPS_INDEX.key(demo.ALEX_USER_ID))
    assert seeded.get(k.TRIPS_INDEX.key(demo.SAM_USER_ID))
    assert k.TRIPS_INDEX.key(demo.NOOR_USER_ID) not in seeded


async def test_seeding_is_deterministic(store: Store, other_store: Store) -> None:
    first, second = await demo.seed_demo(store), await demo.seed_demo(other_store)
    assert first == second
    one, two = await dump(store), await dump(other_store)
    assert sorted(one) == sorted(two)
    assert strip_stamps(one) == strip_stamps(two)


async def test_seeding_twice_changes_nothing(store: Store, seeded: dict[str, Any]) -> None:
    await demo.seed_demo(store)
    assert await dump(store) == seeded


def strip_stamps(rows: dict[str, Any]) -> dict[str, Any]:
    """Return the rows without the `updatedAt` the repository stamps at write time (and the
    `at` of the budget alerts it records)."""
    return {
        key: {f: v for f, v in value.items() if f != "updatedAt"}
        if isinstance(value, dict)
        else [{f: v for f, v in a.items() if f != "at"} for a in value]
        if key.startswith(k.BUDGET_ALERTS.literal_prefix)
        else value
        for key, value in rows.items()
    }


async def test_command_seeds_then_refuses_without_force(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, table = store_url
    settings = Settings(store_url=url, kv_table=table)
    assert await demo.seed_demo_command(settings, force=False) == 0
    out = capsys.readouterr().out
    assert demo.DEMO_USER_ID in out
    assert "44 itinerary items" in out
    assert len(out.strip().splitlines()) <= 3
    before = await dump(store)

    assert await demo.seed_demo_command(settings, force=False) == 1
    captured = capsys.readouterr()
    assert "already has data" in captured.err
    assert "--force" in captured.err
    assert captured.out == ""
    assert await dump(store) == before

    assert await demo.seed_demo_command(settings, force=True) == 0
    assert len(await dump(store)) == len(before)


async def test_command_refuses_foreign_data(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    await store.set("something:else", {"x": 1})
    url, table = store_url
    assert await demo.seed_demo_command(Settings(store_url=url, kv_table=table), force=False) == 1
    assert "refusing" in capsys.readouterr().err
    assert await dump(store) == {"something:else": {"x": 1}}


async def test_shared_trips_collections_and_saved_keys(seeded: dict[str, Any]) -> None:
    """The demo user shares trips; collections and per-place saved keys exist and read."""
    entries = of(seeded, k.COLLABORATOR)
    assert len(entries) == len(demo.COLLABORATORS)
    for entry in entries.values():
        assert entry["tripId"] in seeded[k.TRIPS_INDEX.key(entry["userId"])]
        assert seeded[k.TRIP.key(entry["tripId"])]["userId"] == demo.DEMO_USER_ID
    collections = of(seeded, k.COLLECTION)
    assert len(collections) == len(demo.COLLECTIONS)
    for c in collections.values():
        assert c["id"] in seeded[k.COLLECTIONS_INDEX.key(c["userId"])]
        assert c["placeIds"] and all(
            any(f"{kind}:{p}" in seeded for kind in k.LOCATION_KINDS) for p in c["placeIds"]
        )
    keys = of(seeded, k.SAVED_PLACE)
    assert len(keys) == sum(demo.SAVED_KEYS_COUNT.values())
    assert k.SAVED.key(demo.SAM_USER_ID) not in seeded  # SAM saves by key only


async def test_budgets_record_the_alerts_their_items_reached(seeded: dict[str, Any]) -> None:
    prefix = k.BUDGET_ALERTS.literal_prefix
    lists = {key.removeprefix(prefix): v for key, v in seeded.items() if key.startswith(prefix)}
    assert lists, "the demo shows at least one budget alert"
    for trip_id, alerts in lists.items():
        budget = seeded[k.BUDGET.key(trip_id)]
        reached = [t for t in budget["thresholds"] if alerts[0]["spent"] >= t * budget["total"]]
        assert [a["threshold"] for a in alerts] == reached
        assert {a["type"] for a in alerts} == {"threshold"}
