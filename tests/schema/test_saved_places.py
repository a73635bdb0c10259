"""Saving and unsaving places under both of the seed's patterns (`saved:{userId}`, an index;
`saved:{userId}:{placeId}`, a key per place): effects on the raw keys, userErrors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    NOWHERE,
    SAVE,
    UNSAVE,
    Gateway,
    done,
    dump,
    fields,
    index,
    place,
    refused,
)


# ---------------------------------------------------------------- saved places
async def test_save_and_unsave_place(gw: Gateway, store: Store) -> None:
    rid = await place(store, "restaurant", "Ramiro")
    eid = await place(store, "event", "Fado")
    saved_key = k.SAVED.key(ALICE)
    saved = await done(gw, SAVE, {"placeId": rid})
    assert saved == {"__typename": "Restaurant", "id": rid, "name": "Ramiro"}
    await done(gw, SAVE, {"placeId": rid, "kind": "RESTAURANT"})
    await done(gw, SAVE, {"placeId": eid, "kind": "EVENT"})
    await done(gw, SAVE, {"placeId": rid})
    assert await index(store, saved_key) == [rid, eid]
    data = await gw.ok("{ viewer { savedPlaces { nodes { id } } } }", viewer=ALICE)
    assert data["viewer"]["savedPlaces"]["nodes"] == [{"id": rid}, {"id": eid}]

    unsaved = await done(gw, UNSAVE, {"placeId": rid})
    assert unsaved == {"__typename": "Restaurant", "id": rid, "name": "Ramiro"}
    assert await index(store, saved_key) == [eid]
    errors = await refused(gw, store, UNSAVE, {"placeId": rid})
    assert fields(errors) == [("placeId", "NOT_FOUND")]
    assert await store.get(k.LOCATION_ENTITY["restaurant"].key(rid)) is not None


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"placeId": NOWHERE}, [("placeId", "NOT_FOUND")]),
        ({"placeId": "PLACE", "kind": "RENTAL"}, [("placeId", "NOT_FOUND")]),
        ({"placeId": "restaurant:nope"}, [("placeId", "NOT_FOUND")]),
    ],
)
async def test_save_place_refuses_unknown_place(
    gw: Gateway, store: Store, bad: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    rid = await place(store, "restaurant", "Ramiro")
    if bad["placeId"] == "PLACE":
        bad = {**bad, "placeId": rid}
    errors = await refused(gw, store, SAVE, bad)
    assert fields(errors) == expected


async def test_unsave_never_saved_place(gw: Gateway, store: Store) -> None:
    rid = await place(store, "restaurant", "Ramiro")
    errors = await refused(gw, store, UNSAVE, {"placeId": rid})
    assert fields(errors) == [("placeId", "NOT_FOUND")]


async def test_save_place_already_saved_as_kind_ref(gw: Gateway, store: Store) -> None:
    """`saved:` entries may be `kind:id` (seed); saving that place again must not duplicate it."""
    rid = await place(store, "restaurant", "Ramiro")
    await store.set(k.SAVED.key(ALICE), [f"restaurant:{rid}"])
    await done(gw, SAVE, {"placeId": rid})
    saved = await index(store, k.SAVED.key(ALICE))
    assert len(saved) == 1, f"place saved twice: saved:{{user}} = {saved}"


# ---------------------------------------------------------------- one key per saved place
BOTH = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
SAVED = "{ viewer { savedPlaces { totalCount nodes { __typename id } } } }"


async def saved_ids(gw: Gateway, viewer: str = ALICE) -> list[str]:
    data = await gw.ok(SAVED, viewer=viewer)
    return [n["id"] for n in data["viewer"]["savedPlaces"]["nodes"]]


@BOTH
async def test_both_patterns_read_as_one_list(gw: Gateway, store: Store) -> None:
    """`saved:{userId}` in its order, then `saved:{userId}:{placeId}` keys not already named."""
    r1, r2 = await place(store, "restaurant", "Ramiro"), await place(store, "restaurant", "Zé")
    e1 = await place(store, "event", "Fado")
    await store.set_many(
        {
            k.SAVED.key(ALICE): [r2],
            k.SAVED_PLACE.key(ALICE, e1): {"locationType": "event", "savedAt": "2024-12-24T10:00Z"},
            k.SAVED_PLACE.key(ALICE, r2): {},  # named by the index too: listed once
            k.SAVED_PLACE.key(ALICE, r1): {"userId": ALICE, "placeId": r1},
            k.SAVED_PLACE.key(BOB, r1): {},  # BOB's
            f"saved:{ALICE}:x:y": {},  # no saved-place key
        }
    )
    expected = [r2, *sorted([e1, r1])]  # the index, then the keys in key order
    assert await saved_ids(gw) == expected
    data = await gw.ok(SAVED, viewer=ALICE)
    assert data["viewer"]["savedPlaces"]["totalCount"] == 3
    assert await saved_ids(gw, BOB) == [r1]
    assert k.parse(k.SAVED.key(ALICE)).pattern is k.SAVED  # type: ignore[union-attr]
    assert k.parse(k.SAVED_PLACE.key(ALICE, r1)).pattern is k.SAVED_PLACE  # type: ignore[union-attr]


@BOTH
async def test_an_entry_of_another_user_or_invalid_is_not_listed(gw: Gateway, store: Store) -> None:
    r1 = await place(store, "restaurant", "Ramiro")
    await store.set(k.SAVED_PLACE.key(ALICE, r1), {"userId": BOB})  # disagrees with its key
    result = await gw.run(SAVED, viewer=ALICE)
    assert result.data["viewer"]["savedPlaces"]["nodes"] == []  # type: ignore[attr-defined]
    assert k.SAVED_PLACE.key(ALICE, r1) in str(result.errors)  # type: ignore[attr-defined]


@BOTH
async def test_save_writes_the_pattern_the_user_already_has(gw: Gateway, store: Store) -> None:
    r1, r2 = await place(store, "restaurant", "Ramiro"), await place(store, "rental", "Loft")
    await store.set(k.SAVED_PLACE.key(ALICE, r1), {"savedAt": "2024-12-24T10:00:00Z"})
    assert (await done(gw, SAVE, {"placeId": r2}))["id"] == r2
    stored = await store.get(k.SAVED_PLACE.key(ALICE, r2))
    assert stored["userId"] == ALICE and stored["placeId"] == r2
    assert stored["locationType"] == "rental" and stored["createdAt"]
    assert await store.get(k.SAVED.key(ALICE)) is None  # no index made
    before = await dump(store)
    await done(gw, SAVE, {"placeId": r1})  # saved already: nothing written
    assert await dump(store) == before
    assert await saved_ids(gw) == sorted([r1, r2])
    # Unsaved from its key; the other stays.
    assert (await done(gw, UNSAVE, {"placeId": r1}))["id"] == r1
    assert await store.get(k.SAVED_PLACE.key(ALICE, r1)) is None
    assert await saved_ids(gw) == [r2]


@BOTH
async def test_unsave_removes_a_place_saved_under_both_patterns(gw: Gateway, store: Store) -> None:
    r1, r2 = await place(store, "restaurant", "Ramiro"), await place(store, "restaurant", "Zé")
    await store.set_many(
        {k.SAVED.key(ALICE): [r1, r2], k.SAVED_PLACE.key(ALICE, r1): {"locationType": "x"}}
    )
    await done(gw, UNSAVE, {"placeId": r1})
    assert await store.get(k.SAVED.key(ALICE)) == [r2]
    assert await store.get(k.SAVED_PLACE.key(ALICE, r1)) is None
    # With both patterns present, a save goes to the index (the documented rule).
    await store.set(k.SAVED_PLACE.key(ALICE, "ext-1"), {})
    await done(gw, SAVE, {"placeId": r1})
    assert await store.get(k.SAVED.key(ALICE)) == [r2, r1]
    assert await store.get(k.SAVED_PLACE.key(ALICE, r1)) is None
    errors = await refused(gw, store, UNSAVE, {"placeId": NOWHERE})
    assert fields(errors) == [("placeId", "NOT_FOUND")]


@BOTH
async def test_unsave_an_external_place_id(gw: Gateway, store: Store) -> None:
    """A saved id the catalog does not have (Google's `ChIJ...`) is unsaved; no place shows."""
    await store.set(k.SAVED_PLACE.key(ALICE, "ChIJ123"), {})
    out = await gw.ok(UNSAVE, {"input": {"placeId": "ChIJ123"}}, viewer=ALICE)
    assert out["unsavePlace"] == {"place": None, "userErrors": []}
    assert await store.get(k.SAVED_PLACE.key(ALICE, "ChIJ123")) is None


@BOTH
@pytest.mark.parametrize("keys", [False, True], ids=["index", "keys"])
async def test_concurrent_saves_lose_nothing(gw: Gateway, store: Store, keys: bool) -> None:
    places = [await place(store, "restaurant", f"R{n}") for n in range(8)]
    if keys:
        await store.set(k.SAVED_PLACE.key(ALICE, "ext-1"), {})
    await asyncio.gather(*(done(gw, SAVE, {"placeId": p}) for p in places))
    assert sorted(await saved_ids(gw)) == sorted(places)
    if keys:
        assert await store.get(k.SAVED.key(ALICE)) is None
    else:
        assert sorted(await store.get(k.SAVED.key(ALICE))) == sorted(places)
    await asyncio.gather(*(done(gw, UNSAVE, {"placeId": p}) for p in places[:4]))
    assert sorted(await saved_ids(gw)) == sorted(places[4:])


@BOTH
async def test_both_patterns_cost_a_fixed_number_of_round_trips(gw: Gateway, store: Store) -> None:
    """The index and the prefix are read together, whatever the number of saved places."""
    for count in (1, 12):
        places = [await place(store, "restaurant", f"R{n}") for n in range(count)]
        user = f"user-{count}"
        await store.set_many(
            {k.SAVED.key(user): places[: count // 2]}
            | {k.SAVED_PLACE.key(user, p): {} for p in places[count // 2 :]}
        )
        result = await gw.run(SAVED, viewer=user)
        assert result.data["viewer"]["savedPlaces"]["totalCount"] == count  # type: ignore[attr-defined]
        # The index and the prefix (one round trip each, side by side), then the places.
        assert result.extensions["kv"]["batches"] == 3  # type: ignore[attr-defined]
