"""Saving and unsaving places (`saved:{userId}`): effects on the raw keys, userErrors."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from tests.support import (
    ALICE,
    NOWHERE,
    SAVE,
    UNSAVE,
    Gateway,
    done,
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
