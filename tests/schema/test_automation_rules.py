"""Automation rules (`automation:{id}`, listed in kvgraph's `automations:index:{userId}`):
their owner creates, changes, turns on and off and deletes them; anyone else finds none."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv.check import Kind, repair, scan
from gql.kv.mapping import parse_mapping
from resolvers.ids import node_id
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    NOWHERE,
    Gateway,
    done,
    dump,
    fields,
    mutation,
    refused,
)

RULE_F = "id name trigger action enabled createdAt updatedAt"
CREATE = mutation("createAutomationRule", f"rule {{ {RULE_F} }}")
UPDATE = mutation("updateAutomationRule", f"rule {{ {RULE_F} }}")
ENABLE = mutation("enableAutomationRule", "rule { id enabled }")
DISABLE = mutation("disableAutomationRule", "rule { id enabled }")
DELETE = mutation("deleteAutomationRule", "rule { id name }")
RULES = "{ viewer { automationRules { totalCount nodes { id name enabled } } } }"
TRIGGER = {"type": "priceDrop", "below": 100}
ACTION = {"type": "notify", "channel": "email"}


def rule(**extra: Any) -> dict[str, Any]:
    return {"name": "Cheap rentals", "trigger": TRIGGER, "action": ACTION, **extra}


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_rule_is_created_listed_changed_switched_and_deleted(
    gw: Gateway, store: Store
) -> None:
    created = await done(gw, CREATE, rule(name="  Cheap rentals "))
    rid = created["id"]
    assert created["name"] == "Cheap rentals" and created["enabled"] is True
    assert created["trigger"] == TRIGGER and created["action"] == ACTION
    assert await store.get(f"automations:index:{ALICE}") == [rid]
    stored = await store.get(f"automation:{rid}")
    assert stored["userId"] == ALICE and "createdAt" in stored

    listed = await gw.ok(RULES, viewer=ALICE)
    assert listed["viewer"]["automationRules"] == {
        "totalCount": 1,
        "nodes": [{"id": rid, "name": "Cheap rentals", "enabled": True}],
    }
    changed = await done(gw, UPDATE, {"id": rid, "trigger": {"type": "newEvent"}})
    assert changed["trigger"] == {"type": "newEvent"} and changed["action"] == ACTION
    assert await done(gw, DISABLE, {"id": rid}) == {"id": rid, "enabled": False}
    assert await done(gw, DISABLE, {"id": rid}) == {"id": rid, "enabled": False}
    assert await done(gw, ENABLE, {"id": rid}) == {"id": rid, "enabled": True}
    off = await done(gw, UPDATE, {"id": rid, "enabled": False, "name": "Renamed"})
    assert (off["enabled"], off["name"]) == (False, "Renamed")

    second = await done(gw, CREATE, rule(enabled=False))
    assert second["enabled"] is False
    assert await store.get(f"automations:index:{ALICE}") == [rid, second["id"]]
    assert await done(gw, DELETE, {"id": rid}) == {"id": rid, "name": "Renamed"}
    assert await store.get(f"automation:{rid}") is None
    assert await store.get(f"automations:index:{ALICE}") == [second["id"]]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_stranger_finds_no_rule_and_changes_none(gw: Gateway, store: Store) -> None:
    rid = (await done(gw, CREATE, rule()))["id"]
    assert (await gw.ok(RULES, viewer=BOB))["viewer"]["automationRules"]["totalCount"] == 0
    found = await gw.ok(
        "query($n: ID!) { node(nodeId: $n) { nodeId } }",
        {"n": node_id("AutomationRule", rid)},
        viewer=BOB,
    )
    assert found == {"node": None}
    for query, input_ in [
        (UPDATE, {"id": rid, "name": "mine"}),
        (ENABLE, {"id": rid}),
        (DISABLE, {"id": rid}),
        (DELETE, {"id": rid}),
    ]:
        errors = await refused(gw, store, query, input_, viewer=BOB)
        assert fields(errors) == [("id", "NOT_FOUND")]


async def test_an_id_planted_in_someones_index_shows_nothing(gw: Gateway, store: Store) -> None:
    rid = (await done(gw, CREATE, rule()))["id"]
    await store.set(f"automations:index:{BOB}", [rid])
    assert (await gw.ok(RULES, viewer=BOB))["viewer"]["automationRules"]["nodes"] == []


@pytest.mark.parametrize(
    "query", [CREATE, UPDATE, ENABLE, DISABLE, DELETE], ids=lambda q: q.split("(")[1]
)
async def test_anonymous_is_unauthenticated(gw: Gateway, store: Store, query: str) -> None:
    input_ = rule() if query == CREATE else {"id": NOWHERE}
    before = await dump(store)
    result: Any = await gw.run(query, {"input": input_}, viewer=None)
    assert [err.extensions["code"] for err in result.errors] == ["UNAUTHENTICATED"]
    assert await dump(store) == before


async def test_the_service_role_writes_no_rule(gw: Gateway, store: Store) -> None:
    before = await dump(store)
    result: Any = await gw.run(CREATE, {"input": rule()}, viewer=None, role="service_role")
    assert [err.extensions["code"] for err in result.errors] == ["UNAUTHENTICATED"]
    assert await dump(store) == before


@pytest.mark.parametrize(
    ("query", "input_", "expected"),
    [
        (CREATE, rule(name="  "), [("name", "BAD_USER_INPUT")]),
        (CREATE, rule(name="x" * 201), [("name", "BAD_USER_INPUT")]),
        (CREATE, rule(trigger="daily"), [("trigger", "BAD_USER_INPUT")]),
        (CREATE, rule(action=[1, 2]), [("action", "BAD_USER_INPUT")]),
        (CREATE, rule(action={"x": "y" * 10_001}), [("action", "BAD_USER_INPUT")]),
        (CREATE, rule(trigger={"t": "\x00"}), [("trigger.t", "BAD_USER_INPUT")]),
        (CREATE, rule(id="a:b"), [("id", "BAD_USER_INPUT")]),
        (CREATE, rule(enabled=None), [("enabled", "BAD_USER_INPUT")]),
        (UPDATE, {"id": "RULE", "name": ""}, [("name", "BAD_USER_INPUT")]),
        (UPDATE, {"id": "RULE", "enabled": None}, [("enabled", "BAD_USER_INPUT")]),
        (UPDATE, {"id": "RULE", "trigger": None}, [("trigger", "BAD_USER_INPUT")]),
        (UPDATE, {"id": "RULE", "action": 3}, [("action", "BAD_USER_INPUT")]),
        (UPDATE, {"id": NOWHERE, "name": "x"}, [("id", "NOT_FOUND")]),
        (ENABLE, {"id": NOWHERE}, [("id", "NOT_FOUND")]),
        (DELETE, {"id": NOWHERE}, [("id", "NOT_FOUND")]),
    ],
    ids=lambda v: str(v)[:50],
)
async def test_refused_rule_writes_change_nothing(
    gw: Gateway,
    store: Store,
    query: str,
    input_: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    rid = (await done(gw, CREATE, rule()))["id"]
    if input_.get("id") == "RULE":
        input_ = {**input_, "id": rid}
    assert fields(await refused(gw, store, query, input_)) == expected


async def test_a_rule_created_again_with_its_id_is_harmless(gw: Gateway, store: Store) -> None:
    first = await done(gw, CREATE, rule(id="r-1"))
    again = await done(gw, CREATE, rule(id="r-1", name="Other"))
    assert again == first
    assert await store.get(f"automations:index:{ALICE}") == ["r-1"]
    errors = await refused(gw, store, CREATE, rule(id="r-1"), viewer=BOB)
    assert fields(errors) == [("id", "CONFLICT")]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_concurrent_creates_and_deletes_keep_the_index(gw: Gateway, store: Store) -> None:
    doomed = [(await done(gw, CREATE, rule(name=f"old {n}")))["id"] for n in range(6)]
    results = await asyncio.gather(
        *(done(gw, CREATE, rule(name=f"new {n}")) for n in range(12)),
        *(done(gw, DELETE, {"id": rid}) for rid in doomed),
    )
    new = {r["id"] for r in results[:12]}
    listed = await store.get(f"automations:index:{ALICE}")
    assert set(listed) == new and len(listed) == 12


async def test_rules_as_apps_write_them(gateway: Gateway, store: Store) -> None:
    """An app's rule (`title`, `active`, no index yet): read once listed; `check` reports it
    unlisted and `repair` lists it."""
    await store.set(
        "automation:r9",
        {"id": "r9", "userId": ALICE, "title": "Old", "active": False, "trigger": "daily"},
    )
    assert (await gateway.ok(RULES, viewer=ALICE))["viewer"]["automationRules"]["totalCount"] == 0
    report = await scan(store)
    assert [(p.key, p.id) for p in report.of(Kind.UNLISTED)] == [
        (f"automations:index:{ALICE}", "r9")
    ]
    await repair(store, report, apply=True)
    assert (await scan(store)).clean
    listed = await gateway.ok(RULES, viewer=ALICE)
    assert listed["viewer"]["automationRules"]["nodes"] == [
        {"id": "r9", "name": "Old", "enabled": False}
    ]
    data = await gateway.ok(
        "query($n: ID!) { node(nodeId: $n) { ... on AutomationRule { trigger } } }",
        {"n": node_id("AutomationRule", "r9")},
        viewer=ALICE,
    )
    assert data["node"]["trigger"] == "daily"
    renamed = await done(gateway, UPDATE, {"id": "r9", "name": "New", "enabled": True})
    assert renamed["name"] == "New" and renamed["enabled"] is True
    stored = await store.get("automation:r9")
    assert stored["title"] == "New" and "name" not in stored  # the app's own names
    assert stored["active"] is True and "enabled" not in stored


async def test_a_mapping_file_names_an_apps_rule_fields(store: Store, schema: object) -> None:
    mapping = parse_mapping('[automation.fields]\nownerId = "userId"\nisOn = "enabled"')
    gw = Gateway(schema, store, mapping)
    await store.set_many(
        {
            "automation:r1": {"id": "r1", "ownerId": ALICE, "name": "App's", "isOn": False},
            f"automations:index:{ALICE}": ["r1"],
        }
    )
    listed = await gw.ok(RULES, viewer=ALICE)
    assert listed["viewer"]["automationRules"]["nodes"] == [
        {"id": "r1", "name": "App's", "enabled": False}
    ]
    created = await done(gw, CREATE, rule())
    stored = await store.get(f"automation:{created['id']}")
    assert stored["ownerId"] == ALICE and stored["isOn"] is True
    assert "userId" not in stored and "enabled" not in stored
    await done(gw, ENABLE, {"id": "r1"})
    assert (await store.get("automation:r1"))["isOn"] is True
