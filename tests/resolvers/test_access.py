"""Access rules (`resolvers/access.py`): owner, collaborators by role, everyone else."""

from __future__ import annotations

import pytest

from gql.kv import Store
from resolvers import access
from resolvers.context import Context

OWNER, EDITOR, VIEWER, STRANGER = "owner", "ed", "vi", "stranger"


@pytest.fixture
async def trip(store: Store) -> str:
    await store.set_many(
        {
            "trip:t1": {"id": "t1", "userId": OWNER, "title": "Lisbon"},
            f"collaborator:t1:{EDITOR}": {"tripId": "t1", "userId": EDITOR, "role": "editor"},
            f"collaborator:t1:{VIEWER}": {"tripId": "t1", "userId": VIEWER, "role": "viewer"},
            "item:i1": {"id": "i1", "tripId": "t1", "title": "Tram 28"},
            "conversation:c1": {"id": "c1", "userId": OWNER},
            "suggestion:s1": {"id": "s1", "userId": OWNER, "content": "Try pastéis"},
        }
    )
    return "t1"


@pytest.mark.parametrize(
    ("who", "role", "read", "write", "own"),
    [
        (OWNER, "owner", True, True, True),
        (EDITOR, "editor", True, True, False),
        (VIEWER, "viewer", True, False, False),
        (STRANGER, None, False, False, False),
        (None, None, False, False, False),
    ],
)
async def test_trip_roles(
    store: Store, trip: str, who: str | None, role: str | None, read: bool, write: bool, own: bool
) -> None:
    ctx = Context(store=store, viewer_id=who)
    assert (await access.trip_role(ctx, trip))[1] == role
    assert (await access.readable_trip(ctx, trip) is not None) is read
    refused = None if read else "NOT_FOUND"
    writable = await access.trip_for(ctx, trip, access.WRITERS)
    assert writable[1] == (None if write else refused or "FORBIDDEN")
    assert (writable[0] is not None) is write
    owned = await access.trip_for(ctx, trip, access.OWNER)
    assert owned[1] == (None if own else refused or "FORBIDDEN")
    assert (owned[0] is not None) is own
    assert (await access.readable_item(ctx, "i1") is not None) is read


@pytest.mark.parametrize("trip_id", ["missing", "", "a:b"])
async def test_no_such_trip_is_no_access(store: Store, trip: str, trip_id: str) -> None:
    assert await access.trip_role(Context(store=store, viewer_id=OWNER), trip_id) == (None, None)


async def test_conversations_and_suggestions_are_the_owners_only(store: Store, trip: str) -> None:
    mine, theirs = Context(store=store, viewer_id=OWNER), Context(store=store, viewer_id=EDITOR)
    assert await access.own_conversation(mine, "c1") is not None
    assert await access.own_conversation(theirs, "c1") is None
    assert await access.own_suggestion(mine, "s1") is not None
    assert await access.own_suggestion(theirs, "s1") is None
