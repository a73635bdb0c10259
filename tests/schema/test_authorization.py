"""One read rule on every path: lists show only what the viewer could read by id, and a user
other than the viewer shows public profile fields only. Both executors, both stores."""

from __future__ import annotations

import pytest

from gql.kv import Store
from resolvers.ids import node_id
from tests.support import BACKENDS, Gateway

OWNER, READER, MALLORY = "owner-1", "reader-2", "mallory-3"
pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


@pytest.fixture
async def world(store: Store) -> None:
    """The owner's trip shared read-only with READER; MALLORY plants the owner's ids."""
    await store.set_many(
        {
            f"profile:{OWNER}": {
                "id": OWNER,
                "email": "owner@example.com",
                "displayName": "Olga",
                "avatarUrl": "https://example.com/o.png",
            },
            f"preferences:{OWNER}": {"userId": OWNER, "currency": "EUR"},
            f"trips:index:{OWNER}": ["t1", "t2"],
            "trip:t1": {"id": "t1", "userId": OWNER, "title": "Shared"},
            "trip:t2": {"id": "t2", "userId": OWNER, "title": "Private"},
            "items:index:t1": ["i1"],
            "items:index:t2": ["i2"],
            "item:i1": {"id": "i1", "tripId": "t1", "title": "Tram"},
            "item:i2": {"id": "i2", "tripId": "t2", "title": "Secret dinner"},
            f"collaborator:t1:{READER}": {"tripId": "t1", "userId": READER, "role": "viewer"},
            f"trips:index:{READER}": ["t1"],
            f"conversation:index:{OWNER}": ["c1"],
            "conversation:c1": {"id": "c1", "userId": OWNER, "title": "Plans"},
            "messages:index:c1": ["m1"],
            "message:m1": {"id": "m1", "conversationId": "c1", "content": "private note"},
            f"suggestions:index:{OWNER}": ["s1"],
            "suggestion:s1": {"id": "s1", "userId": OWNER, "content": "Book early"},
            f"saved:{OWNER}": ["p1"],
            "event:p1": {"id": "p1", "name": "Fado night"},
            "events:index": ["p1"],
            "budget:t2": {"tripId": "t2", "total": 5000},
            # Mallory's own records, and the owner's ids planted in Mallory's indexes.
            "trip:t9": {"id": "t9", "userId": MALLORY, "title": "Mine"},
            f"trips:index:{MALLORY}": ["t9", "t2"],
            "items:index:t9": ["i9", "i2"],
            "item:i9": {"id": "i9", "tripId": "t9", "title": "Mine too"},
            "conversation:c9": {"id": "c9", "userId": MALLORY},
            f"conversation:index:{MALLORY}": ["c9", "c1"],
            "messages:index:c9": ["m1"],
            f"suggestions:index:{MALLORY}": ["s1"],
        }
    )


OWNER_OF_SHARED = """{ trip(id: "t1") { owner {
  id displayName avatarUrl email preferences { currency }
  trips { totalCount nodes { id } } conversations { totalCount nodes { id } }
  suggestions { totalCount } savedPlaces { totalCount }
} } }"""


async def test_a_collaborator_sees_only_the_owners_public_profile(
    gateway: Gateway, world: None
) -> None:
    data = await gateway.ok(OWNER_OF_SHARED, viewer=READER)
    assert data["trip"]["owner"] == {
        "id": OWNER,
        "displayName": "Olga",
        "avatarUrl": "https://example.com/o.png",
        "email": None,
        "preferences": None,
        "trips": {"totalCount": 0, "nodes": []},
        "conversations": {"totalCount": 0, "nodes": []},
        "suggestions": {"totalCount": 0},
        "savedPlaces": {"totalCount": 0},
    }


async def test_the_owner_sees_everything_of_their_own(gateway: Gateway, world: None) -> None:
    owner = (await gateway.ok(OWNER_OF_SHARED, viewer=OWNER))["trip"]["owner"]
    assert owner["email"] == "owner@example.com" and owner["preferences"] == {"currency": "EUR"}
    assert owner["trips"]["totalCount"] == 2 and owner["savedPlaces"]["totalCount"] == 1


async def test_a_collaborator_lists_the_shared_trip(gateway: Gateway, world: None) -> None:
    data = await gateway.ok(
        "{ viewer { trips { totalCount nodes { id items { nodes { id } } } } } }", viewer=READER
    )
    assert data["viewer"]["trips"] == {
        "totalCount": 1,
        "nodes": [{"id": "t1", "items": {"nodes": [{"id": "i1"}]}}],
    }


PLANTED = """{ viewer {
  trips { totalCount nodes { id title budget { total } items { totalCount nodes { id title } } } }
  conversations { totalCount nodes { id messages { totalCount nodes { content } } } }
  suggestions { totalCount nodes { content } }
  active: suggestions(status: ACTIVE) { totalCount }
} }"""


async def test_planted_ids_show_nothing(gateway: Gateway, world: None) -> None:
    viewer = (await gateway.ok(PLANTED, viewer=MALLORY))["viewer"]
    assert viewer["trips"] == {
        "totalCount": 1,
        "nodes": [
            {
                "id": "t9",
                "title": "Mine",
                "budget": None,
                "items": {"totalCount": 1, "nodes": [{"id": "i9", "title": "Mine too"}]},
            }
        ],
    }
    assert viewer["conversations"] == {
        "totalCount": 1,
        "nodes": [{"id": "c9", "messages": {"totalCount": 0, "nodes": []}}],
    }
    assert viewer["suggestions"] == {"totalCount": 0, "nodes": []}
    assert viewer["active"] == {"totalCount": 0}


@pytest.mark.parametrize(
    ("type_name", "id_"),
    [
        ("Trip", "t2"),
        ("ItineraryItem", "i2"),
        ("Conversation", "c1"),
        ("Message", "m1"),
        ("Suggestion", "s1"),
        ("Budget", "t2"),
        ("User", OWNER),
    ],
)
async def test_by_id_looks_like_not_found(
    gateway: Gateway, world: None, type_name: str, id_: str
) -> None:
    query = "query($n: ID!) { node(nodeId: $n) { nodeId } }"
    variables = {"n": node_id(type_name, id_)}
    assert await gateway.ok(query, variables, viewer=MALLORY) == {"node": None}
    assert await gateway.ok(query, variables, viewer=OWNER) == {"node": {"nodeId": variables["n"]}}


async def test_root_fields_follow_the_same_rule(gateway: Gateway, world: None) -> None:
    query = '{ trip(id: "t2") { id } conversation(id: "c1") { id } location(id: "p1") { id } }'
    data = await gateway.ok(query, viewer=MALLORY)
    assert data == {"trip": None, "conversation": None, "location": {"id": "p1"}}
    assert (await gateway.ok(query, viewer=READER))["trip"] is None  # not shared with them
