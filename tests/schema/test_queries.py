"""Schema-level tests of the read side: root fields, connections, batching, bad data."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv.repo import Repository
from resolvers.ids import cursor, node_id
from tests.support import BOARD, Gateway, board_data

U, OTHER = "user-1", "user-2"


async def test_viewer_is_null_without_token(gw: Gateway) -> None:
    assert await gw.ok("{ viewer { id } }") == {"viewer": None}


async def test_viewer_without_profile_is_still_a_viewer(gw: Gateway) -> None:
    data = await gw.ok("{ viewer { id email displayName preferences { currency } } }", viewer=U)
    assert data == {"viewer": {"id": U, "email": None, "displayName": None, "preferences": None}}


async def test_viewer_profile_and_preferences(gw: Gateway, store: Store) -> None:
    await store.set_many(
        {
            f"profile:{U}": {"id": U, "email": "a@b.c", "displayName": "Ana", "plan": "pro"},
            f"preferences:{U}": {"userId": U, "currency": "EUR", "notifications": {"email": True}},
        }
    )
    data = await gw.ok(
        "{ viewer { email displayName preferences { currency notifications data } } }", viewer=U
    )
    assert data["viewer"]["email"] == "a@b.c"
    prefs = data["viewer"]["preferences"]
    assert prefs["currency"] == "EUR" and prefs["notifications"] == {"email": True}
    assert prefs["data"]["userId"] == U


async def test_board_query_returns_everything_in_order(gw: Gateway, store: Store) -> None:
    rows = await board_data(store, trips=3, items=4)
    data = await gw.ok(BOARD, viewer=U)
    trips = data["viewer"]["trips"]
    assert trips["totalCount"] == 3
    assert [t["id"] for t in trips["nodes"]] == rows[f"trips:index:{U}"]
    first = trips["nodes"][0]["items"]["nodes"]
    assert [i["id"] for i in first] == rows["items:index:t0"]
    assert first[0]["location"] == {"name": "Place 0", "kind": "Event"}
    assert first[1]["location"] == {"name": "Place 1", "kind": "Restaurant"}
    assert first[2]["location"]["kind"] == "Rental"


async def test_batches_depend_on_depth_not_rows(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=5, items=3)
    small = await gw.run(BOARD, viewer=U)
    await board_data(store, trips=50, items=40)
    large = await gw.run(BOARD, viewer=U)
    assert small.errors is None and large.errors is None
    assert len(large.data["viewer"]["trips"]["nodes"]) == 50
    assert small.extensions["kv"]["batches"] == large.extensions["kv"]["batches"] <= 5
    assert large.extensions["kv"]["keys"] > small.extensions["kv"]["keys"]


async def test_each_batch_is_one_get_many(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=4, items=4)
    before = store.stats.round_trips
    result = await gw.run(BOARD, viewer=U)
    assert store.stats.round_trips - before == result.extensions["kv"]["batches"]


async def test_other_users_trips_are_not_found(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=1, items=1, user=OTHER)
    assert await gw.ok('{ trip(id: "t0") { id } }', viewer=U) == {"trip": None}
    assert await gw.ok('{ trip(id: "t0") { id } }') == {"trip": None}
    assert (await gw.ok('{ trip(id: "t0") { id } }', viewer=OTHER))["trip"] == {"id": "t0"}


async def test_collaborator_can_read_a_shared_trip(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=1, items=2, user=OTHER)
    await store.set(f"collaborator:t0:{U}", {"tripId": "t0", "userId": U, "role": "viewer"})
    data = await gw.ok('{ trip(id: "t0") { id owner { id } items { totalCount } } }', viewer=U)
    assert data["trip"] == {"id": "t0", "owner": {"id": OTHER}, "items": {"totalCount": 2}}


async def paged(gw: Gateway, args: str) -> dict[str, Any]:
    query = (
        f"{{ viewer {{ trips({args}) {{ totalCount edges {{ cursor node {{ id }} }} "
        "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"
    )
    return (await gw.ok(query, viewer=U))["viewer"]["trips"]  # type: ignore[no-any-return]


async def test_forward_paging(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=5, items=0)
    page1 = await paged(gw, "first: 2")
    assert [e["node"]["id"] for e in page1["edges"]] == ["t0", "t1"]
    assert page1["pageInfo"]["hasNextPage"] and not page1["pageInfo"]["hasPreviousPage"]
    page2 = await paged(gw, f'first: 2, after: "{page1["pageInfo"]["endCursor"]}"')
    assert [e["node"]["id"] for e in page2["edges"]] == ["t2", "t3"]
    page3 = await paged(gw, f'first: 2, after: "{page2["pageInfo"]["endCursor"]}"')
    assert [e["node"]["id"] for e in page3["edges"]] == ["t4"]
    assert not page3["pageInfo"]["hasNextPage"] and page3["pageInfo"]["hasPreviousPage"]
    assert page3["totalCount"] == 5


async def test_backward_paging(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=5, items=0)
    last = await paged(gw, "last: 2")
    assert [e["node"]["id"] for e in last["edges"]] == ["t3", "t4"]
    assert last["pageInfo"]["hasPreviousPage"] and not last["pageInfo"]["hasNextPage"]
    before = await paged(gw, f'last: 2, before: "{last["pageInfo"]["startCursor"]}"')
    assert [e["node"]["id"] for e in before["edges"]] == ["t1", "t2"]
    head = await paged(gw, f'last: 5, before: "{before["pageInfo"]["startCursor"]}"')
    assert [e["node"]["id"] for e in head["edges"]] == ["t0"]


async def test_cursors_stay_valid_when_items_are_inserted_before(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=4, items=0)
    page1 = await paged(gw, "first: 2")
    await store.set(f"trips:index:{U}", ["new-a", "new-b", "t0", "t1", "t2", "t3"])
    page2 = await paged(gw, f'first: 2, after: "{page1["pageInfo"]["endCursor"]}"')
    assert [e["node"]["id"] for e in page2["edges"]] == ["t2", "t3"]


async def test_cursor_of_a_removed_id_falls_back_to_its_offset(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=4, items=0)
    page1 = await paged(gw, "first: 2")
    await store.set(f"trips:index:{U}", ["t0", "t2", "t3"])
    page2 = await paged(gw, f'first: 2, after: "{page1["pageInfo"]["endCursor"]}"')
    # t1 (the cursor's id) is gone: the next page starts where it stood, so t2 is not skipped.
    assert [e["node"]["id"] for e in page2["edges"]] == ["t2", "t3"]


@pytest.mark.parametrize(
    "args",
    ["first: 101", "first: -1", 'after: "not-a-cursor"', "first: 1, last: 1", 'before: "%%%"'],
)
async def test_bad_paging_arguments_are_bad_user_input(gw: Gateway, args: str) -> None:
    result = await gw.run(f"{{ viewer {{ trips({args}) {{ totalCount }} }} }}", viewer=U)
    assert result.errors and result.errors[0].extensions["code"] == "BAD_USER_INPUT"


async def test_default_page_is_20(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=25, items=0)
    page = await paged(gw, "first: null")
    assert len(page["edges"]) == 20 and page["totalCount"] == 25


async def test_dangling_index_id_is_skipped_not_an_error(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=3, items=0)
    await store.set(f"trips:index:{U}", ["t0", "ghost", "t1", "bad:id", "t2"])
    result = await gw.run("{ viewer { trips { totalCount nodes { id } } } }", viewer=U)
    assert result.errors is None
    assert result.data["viewer"]["trips"] == {
        "totalCount": 3,  # what a walk over the list returns
        "nodes": [{"id": "t0"}, {"id": "t1"}, {"id": "t2"}],
    }


async def test_invalid_record_is_skipped_and_reported_with_its_key(
    gw: Gateway, store: Store
) -> None:
    await board_data(store, trips=3, items=0)
    await store.set("trip:t1", {"id": "t1", "userId": U, "startDate": "not a date"})
    result = await gw.run("{ viewer { trips { nodes { id } } } }", viewer=U)
    assert result.data["viewer"]["trips"]["nodes"] == [{"id": "t0"}, {"id": "t2"}]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.extensions == {"code": "INVALID_RECORD", "key": "trip:t1"}
    assert "trip:t1" in error.message and "title" in error.message


async def test_unknown_fields_are_tolerated(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=1, items=1)
    await store.set(
        "trip:t0", {"id": "t0", "userId": U, "title": "T", "legacy": {"x": [1]}, "n": 3}
    )
    assert (await gw.ok('{ trip(id: "t0") { title } }', viewer=U)) == {"trip": {"title": "T"}}


async def test_node_round_trip_for_each_type(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=1, items=1)
    repo = Repository(store)
    conv = await repo.create(e.CONVERSATION, {"userId": U, "title": "Plan"})
    msg = await repo.create(e.MESSAGE, {"conversationId": conv.id, "content": "hi"})  # type: ignore[attr-defined]
    sug = await repo.create(e.SUGGESTION, {"userId": U, "content": "Go"})
    await store.set(f"context:{conv.id}", {"conversationId": conv.id, "session": {"a": 1}})  # type: ignore[attr-defined]
    cases = [
        ("Trip", "t0"),
        ("ItineraryItem", "t0-i0"),
        ("Event", "p0"),
        ("Restaurant", "p1"),
        ("Rental", "p2"),
        ("Conversation", conv.id),
        ("Message", msg.id),  # type: ignore[attr-defined]
        ("Suggestion", sug.id),
        ("User", U),
        ("AIContext", conv.id),  # type: ignore[attr-defined]
    ]
    for type_name, id_ in cases:
        nid = node_id(type_name, id_)
        data = await gw.ok(
            "query($n: ID!) { node(nodeId: $n) { __typename nodeId } }", {"n": nid}, viewer=U
        )
        assert data["node"] == {"__typename": type_name, "nodeId": nid}, type_name


async def test_node_of_someone_elses_trip_is_null(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=1, items=0, user=OTHER)
    data = await gw.ok(
        "query($n: ID!) { node(nodeId: $n) { nodeId } }", {"n": node_id("Trip", "t0")}, viewer=U
    )
    assert data == {"node": None}


@pytest.mark.parametrize("bad", ["!!!", node_id("Nope", "1"), cursor(0, "x"), "VHJpcA"])
async def test_malformed_node_id_is_bad_user_input(gw: Gateway, bad: str) -> None:
    result = await gw.run("query($n: ID!) { node(nodeId: $n) { nodeId } }", {"n": bad}, viewer=U)
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


async def test_location_by_id_and_catalog(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=0, items=0)
    loc = await gw.ok('{ location(id: "p1") { __typename name } }')
    assert loc == {"location": {"__typename": "Restaurant", "name": "Place 1"}}
    assert await gw.ok('{ location(id: "zzz") { name } }') == {"location": None}
    all_ = await gw.ok("{ locations { totalCount nodes { name } } }")
    assert all_["locations"]["totalCount"] == 6
    events = await gw.ok("{ locations(kind: EVENT) { nodes { __typename name } } }")
    assert {n["__typename"] for n in events["locations"]["nodes"]} == {"Event"}
    porto = await gw.ok('{ locations(city: "porto") { totalCount nodes { name } } }')
    assert porto["locations"]["totalCount"] == 3
    search = await gw.ok('{ locations(search: "place 4") { nodes { name } } }')
    assert search["locations"]["nodes"] == [{"name": "Place 4"}]


async def test_catalog_paging_with_a_filter(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=0, items=0)
    page1 = await gw.ok(
        '{ locations(city: "Lisbon", first: 2) { nodes { name } pageInfo { endCursor hasNextPage } } }'
    )
    assert [n["name"] for n in page1["locations"]["nodes"]] == ["Place 0", "Place 1"]
    end = page1["locations"]["pageInfo"]["endCursor"]
    page2 = await gw.ok(
        f'{{ locations(city: "Lisbon", first: 2, after: "{end}") {{ nodes {{ name }} pageInfo {{ hasNextPage }} }} }}'
    )
    assert page2["locations"] == {
        "nodes": [{"name": "Place 2"}],
        "pageInfo": {"hasNextPage": False},
    }


async def test_conversation_messages_and_context(gw: Gateway, store: Store) -> None:
    await store.set_many(
        {
            f"conversation:index:{U}": ["c1"],
            "conversation:c1": {
                "id": "c1",
                "userId": U,
                "title": "Paris",
                "agentType": "local-scout",
                "createdAt": "2024-12-24T10:00:00Z",
                "updatedAt": "2024-12-24T10:30:00Z",
            },
            "messages:index:c1": ["m1", "m2"],
            "message:m1": {
                "id": "m1",
                "conversationId": "c1",
                "role": "user",
                "content": "Hi",
                "timestamp": "2024-12-24T10:00:00Z",
            },
            "message:m2": {
                "id": "m2",
                "conversationId": "c1",
                "role": "assistant",
                "content": "Hello",
                "timestamp": "2024-12-24T10:00:05Z",
            },
            "context:c1": {
                "conversationId": "c1",
                "entities": {"city": "Paris"},
                "mood": "curious",
            },
        }
    )
    data = await gw.ok(
        "{ viewer { conversations { totalCount nodes { id agentType messages { nodes { role content } } "
        "context { entities data } } } } }",
        viewer=U,
    )
    conv = data["viewer"]["conversations"]["nodes"][0]
    assert conv["agentType"] == "local-scout"
    assert conv["messages"]["nodes"] == [
        {"role": "USER", "content": "Hi"},
        {"role": "ASSISTANT", "content": "Hello"},
    ]
    assert conv["context"]["entities"] == {"city": "Paris"}
    assert conv["context"]["data"]["mood"] == "curious"
    assert await gw.ok('{ conversation(id: "c1") { id } }', viewer=OTHER) == {"conversation": None}


async def test_suggestions_by_status(gw: Gateway, store: Store) -> None:
    repo = Repository(store)
    for status in ["active", "accepted", "dismissed", "active"]:
        await repo.create(e.SUGGESTION, {"userId": U, "content": status, "status": status})
    all_ = await gw.ok("{ viewer { suggestions { totalCount } } }", viewer=U)
    assert all_["viewer"]["suggestions"]["totalCount"] == 4
    active = await gw.ok(
        "{ viewer { suggestions(status: ACTIVE) { totalCount nodes { status } } } }", viewer=U
    )
    assert active["viewer"]["suggestions"] == {"totalCount": 2, "nodes": [{"status": "ACTIVE"}] * 2}


async def test_saved_places_with_bare_and_kinded_ids(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=0, items=0)
    await store.set(f"saved:{U}", ["p1", "rental:p2", "gone"])
    data = await gw.ok(
        "{ viewer { savedPlaces { totalCount nodes { __typename name } } } }", viewer=U
    )
    assert data["viewer"]["savedPlaces"] == {
        "totalCount": 2,
        "nodes": [
            {"__typename": "Restaurant", "name": "Place 1"},
            {"__typename": "Rental", "name": "Place 2"},
        ],
    }


async def test_item_cost_uses_trip_currency(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=1, items=2)
    await store.set("trip:t0", {"id": "t0", "userId": U, "title": "T", "currency": "EUR"})
    await store.set("item:t0-i0", {"id": "t0-i0", "tripId": "t0", "title": "A", "cost": 12.5})
    await store.set(
        "item:t0-i1", {"id": "t0-i1", "tripId": "t0", "title": "B", "cost": 3, "currency": "USD"}
    )
    data = await gw.ok(
        '{ trip(id: "t0") { items { nodes { cost { amount currency } trip { id } } } } }', viewer=U
    )
    nodes = data["trip"]["items"]["nodes"]
    assert nodes[0] == {"cost": {"amount": 12.5, "currency": "EUR"}, "trip": {"id": "t0"}}
    assert nodes[1]["cost"] == {"amount": 3.0, "currency": "USD"}


async def test_dates_are_iso(gw: Gateway, store: Store) -> None:
    await board_data(store, trips=1, items=1)
    data = await gw.ok('{ trip(id: "t0") { startDate items { nodes { startTime } } } }', viewer=U)
    assert data["trip"]["startDate"] == "2026-01-01"
    assert data["trip"]["items"]["nodes"][0]["startTime"].startswith("2026-01-01T08:00:00")


async def test_paging_a_sloppy_index_terminates_and_counts_right(gw: Gateway, store: Store) -> None:
    """Duplicates listed once, missing and invalid records skipped, every page non-empty."""
    await store.set_many(
        {
            "conversation:c1": {"id": "c1", "userId": U, "title": "Trip ideas"},
            "messages:index:c1": ["m1", "m2", "m1", "gone", "bad", "m3", "m2"],
            "message:m1": {"id": "m1", "conversationId": "c1", "content": "one"},
            "message:m2": {"id": "m2", "conversationId": "c1", "content": "two"},
            "message:bad": {"id": "bad", "conversationId": "c1"},
            "message:m3": {"id": "m3", "conversationId": "c1", "content": "three"},
        }
    )
    query = """query($after: String) { conversation(id: "c1") { messages(first: 1, after: $after) {
      totalCount edges { cursor node { id } } pageInfo { hasNextPage startCursor endCursor } } } }"""
    seen, after = [], None
    for _ in range(10):
        page = (await gw.run(query, {"after": after}, viewer=U)).data["conversation"]["messages"]
        assert page["totalCount"] == 3
        edges, info = page["edges"], page["pageInfo"]
        assert len(edges) == 1 and info["startCursor"] == info["endCursor"] == edges[0]["cursor"]
        seen.append(edges[0]["node"]["id"])
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == ["m1", "m2", "m3"]
