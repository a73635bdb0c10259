"""Accepting and dismissing proactive suggestions: status, the active index, userErrors."""

from __future__ import annotations

import pytest

from gql.kv import Store
from gql.kv import keys as k
from tests.support import (
    ACCEPT,
    ALICE,
    DISMISS,
    Gateway,
    done,
    fields,
    index,
    refused,
    suggestion,
)

# ---------------------------------------------------------------- suggestions
SUGGESTIONS = "query { viewer { suggestions(status: ACTIVE) { nodes { id } } } }"


@pytest.mark.parametrize(("query", "status"), [(DISMISS, "dismissed"), (ACCEPT, "accepted")])
async def test_suggestion_status_changes(
    gw: Gateway, store: Store, query: str, status: str
) -> None:
    s1, s2 = await suggestion(store), await suggestion(store)
    active_key = k.SUGGESTIONS_ACTIVE.key(ALICE)
    assert await index(store, active_key) == [s1, s2]
    changed = await done(gw, query, {"id": s1})
    assert changed == {"id": s1, "status": status.upper()}
    stored = await store.get(k.SUGGESTION.key(s1))
    assert stored["status"] == status
    assert stored["content"] == "Try the tram"
    assert await index(store, active_key) == [s2]
    assert await index(store, k.SUGGESTIONS_INDEX.key(ALICE)) == [s1, s2]
    data = await gw.ok(SUGGESTIONS, viewer=ALICE)
    assert data["viewer"]["suggestions"]["nodes"] == [{"id": s2}]
    # Once decided, neither accepting nor dismissing it again is allowed.
    for again in (ACCEPT, DISMISS):
        errors = await refused(gw, store, again, {"id": s1})
        assert [err["field"] for err in errors] == ["id"]
        assert status in errors[0]["message"]


async def test_accepting_a_dismissed_suggestion_is_a_user_error(gw: Gateway, store: Store) -> None:
    sid = await suggestion(store)
    await done(gw, DISMISS, {"id": sid})
    errors = await refused(gw, store, ACCEPT, {"id": sid})
    assert fields(errors) == [("id", "NOT_ACTIVE")]
    assert (await store.get(k.SUGGESTION.key(sid)))["status"] == "dismissed"


async def test_suggestion_expired_is_not_active(gw: Gateway, store: Store) -> None:
    sid = await suggestion(store, status="expired")
    assert await index(store, k.SUGGESTIONS_ACTIVE.key(ALICE)) is None
    errors = await refused(gw, store, ACCEPT, {"id": sid})
    assert fields(errors) == [("id", "NOT_ACTIVE")]
