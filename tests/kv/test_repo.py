"""Repository writes: several records in one transaction, all or nothing."""

from __future__ import annotations

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv.repo import IdTaken, InvalidData, NotFound, Repository
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


async def snapshot(store: Store) -> dict[str, object]:
    return {key: value async for key, value in store.iter_prefix("")}


async def test_create_all_writes_every_record_and_index(store: Store) -> None:
    repo = Repository(store)
    conv, msg = await repo.create_all(
        [
            (e.CONVERSATION, {"id": "c1", "userId": "u1", "title": "Paris"}, None),
            (e.MESSAGE, {"id": "m1", "conversationId": "c1", "content": "hi"}, None),
        ]
    )
    assert (conv.id, msg.id) == ("c1", "m1")  # type: ignore[attr-defined]
    assert await store.get_many(["conversation:index:u1", "messages:index:c1"]) == [["c1"], ["m1"]]


async def test_create_all_is_all_or_nothing(store: Store) -> None:
    repo = Repository(store)
    await repo.create(e.TRIP, {"id": "t1", "userId": "owner", "title": "Taken"})
    before = await snapshot(store)
    with pytest.raises(IdTaken):
        await repo.create_all(
            [
                (e.CONVERSATION, {"id": "c2", "userId": "u1"}, None),
                (e.TRIP, {"id": "t1", "userId": "someone-else", "title": "Mine"}, None),
            ]
        )
    assert await snapshot(store) == before


async def test_two_records_on_one_index_in_one_call(store: Store) -> None:
    repo = Repository(store)
    await repo.create_all(
        [
            (e.TRIP, {"id": "a", "userId": "u", "title": "A"}, None),
            (e.TRIP, {"id": "b", "userId": "u", "title": "B"}, 0),
        ]
    )
    assert await store.get("trips:index:u") == ["b", "a"]


async def test_touch_stamps_updated_at_in_the_same_transaction(store: Store) -> None:
    repo = Repository(store)
    await store.set(
        "conversation:c1", {"id": "c1", "userId": "u", "updatedAt": "2020-01-01T00:00:00Z", "x": 1}
    )
    await repo.create_all(
        [(e.MESSAGE, {"id": "m1", "conversationId": "c1", "content": "hi"}, None)],
        touch=[(e.CONVERSATION, "c1")],
    )
    conv = await store.get("conversation:c1")
    assert conv["updatedAt"] > "2020-01-01T00:00:00Z"
    assert conv["x"] == 1
    before = await snapshot(store)
    with pytest.raises(NotFound):
        await repo.create_all(
            [(e.MESSAGE, {"id": "m2", "conversationId": "gone", "content": "hi"}, None)],
            touch=[(e.CONVERSATION, "gone")],
        )
    assert await snapshot(store) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Tasca", "tags": ["fado", "late\x00"]}, "tags.1"),
        ({"name": "Tasca", "openingHours": {"mon\ud800": "9-5"}}, "openingHours"),
        ({"name": "Tasca\udfff"}, "name"),
    ],
)
async def test_text_no_store_can_keep_is_refused_at_any_depth(
    store: Store, data: dict[str, object], field: str
) -> None:
    repo = Repository(store)
    with pytest.raises(InvalidData) as refused:
        await repo.create(e.LOCATIONS["restaurant"], data)
    assert (refused.value.field, refused.value.code) == (field, "BAD_USER_INPUT")
    await repo.create(e.LOCATIONS["restaurant"], {"id": "r1", "name": "Tasca"})
    before = await snapshot(store)
    with pytest.raises(InvalidData):
        await repo.update(e.LOCATIONS["restaurant"], ["r1"], data)
    with pytest.raises(InvalidData):
        await repo.add_to_list("saved:u1", "r1\x00")
    assert await snapshot(store) == before


async def shared_trip(store: Store, trip_id: str, collaborators: int) -> None:
    """A trip of u1 shared with `collaborators` users, each listing it in their own index."""
    rows: dict[str, object] = {
        f"trip:{trip_id}": {"id": trip_id, "userId": "u1", "title": "Shared"},
        "trips:index:u1": [trip_id],
    }
    for n in range(collaborators):
        user = f"c{n}"
        rows[f"collaborator:{trip_id}:{user}"] = {"tripId": trip_id, "userId": user}
        rows[f"trips:index:{user}"] = ["own", trip_id]
    await store.set_many(rows)


async def test_deleting_a_trip_unlists_every_collaborator_in_fixed_round_trips(
    store: Store,
) -> None:
    """However many collaborators a trip has, its delete costs the same round trips."""
    costs = []
    for trip_id, collaborators in (("t1", 1), ("t5", 5)):
        await shared_trip(store, trip_id, collaborators)
        before = store.stats.round_trips
        await Repository(store).delete(e.TRIP, trip_id)
        costs.append(store.stats.round_trips - before)
        found = await store.get_many([f"trips:index:c{n}" for n in range(collaborators)])
        assert found == [["own"]] * collaborators
        assert not [key async for key, _ in store.iter_prefix(f"collaborator:{trip_id}:")]
        await store.delete_many([f"trips:index:c{n}" for n in range(collaborators)])
    assert costs[0] == costs[1]
