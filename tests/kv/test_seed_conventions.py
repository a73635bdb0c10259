"""Data another program wrote in the seed's exact conventions reads right and survives updates."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store, entities
from gql.kv import models as m
from gql.kv.check import scan
from gql.kv.repo import Repository
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

USER = "user-456"
TRIP_ID = "5f0c8a4e-3b7d-4c1e-9a52-2d6f1e8b7c30"
CONVERSATION: dict[str, Any] = {  # the seed's example, plus fields kvgraph does not know
    "id": "conv-123",
    "userId": USER,
    "title": "Plan my Paris trip",
    "agentType": "local-scout",
    "createdAt": "2024-12-24T10:00:00Z",
    "updatedAt": "2024-12-24T10:30:00Z",
    "pinned": True,
    "ui": {"color": "#ff0", "tabs": ["chat", "map"]},
}
AI_RUN: dict[str, Any] = {
    "id": "run-789",
    "userId": USER,
    "agentName": "dining-orchestrator",
    "inputTokens": 250,
    "outputTokens": 180,
    "durationMs": 1200,
    "status": "success",
    "createdAt": "2024-12-24T10:15:00Z",
    "model": "gemini-2.0-flash",
}
TRIP: dict[str, Any] = {
    "id": TRIP_ID,
    "userId": USER,
    "title": "Medellín long weekend",
    "destination": "Medellín",
    "startDate": "2025-01-10",
    "endDate": "2025-01-13",
    "createdAt": "2024-12-20T08:00:00.000Z",
    "coverPhoto": {"url": "https://example.com/m.jpg", "credit": "someone"},
    "legacy_flag": 1,
}
MESSAGE: dict[str, Any] = {
    "id": "msg-1",
    "conversationId": "conv-123",
    "role": "assistant",
    "content": "Here are three neighbourhoods to stay in.",
    "timestamp": "2024-12-24T10:01:00Z",
    "tokens": 42,
}
CONTEXT: dict[str, Any] = {
    "entities": {"city": "Paris"},
    "preferences": {"budget": "mid"},
    "session": {"step": 2},
    "lastIntent": "find_hotel",
}
SEED: dict[str, Any] = {
    "conversation:conv-123": CONVERSATION,
    f"conversation:index:{USER}": ["conv-123"],
    "message:msg-1": MESSAGE,
    "messages:index:conv-123": ["msg-1"],
    "context:conv-123": CONTEXT,
    "context:history:conv-123": [{"at": "2024-12-24T10:00:00Z", "entities": {}}],
    "ai_run:run-789": AI_RUN,
    f"ai_runs:index:{USER}": ["run-789"],
    f"trip:{TRIP_ID}": TRIP,
    f"trips:index:{USER}": [TRIP_ID],
}


async def raw(store: Store, key: str) -> dict[str, Any]:
    """The JSON object stored under `key`, as written."""
    value = await store.get(key)
    assert isinstance(value, dict)
    return value


@pytest.fixture
async def seeded(store: Store) -> Store:
    """A store holding the seed-convention records, written raw."""
    await store.set_many(SEED)
    return store


async def test_seed_records_read_through_the_repository(seeded: Store) -> None:
    repo = Repository(seeded)
    conversation = await repo.get(entities.CONVERSATION, "conv-123")
    assert isinstance(conversation, m.Conversation)
    assert (conversation.user_id, conversation.agent_type) == (USER, "local-scout")
    assert conversation.updated_at is not None
    assert conversation.updated_at.isoformat() == "2024-12-24T10:30:00+00:00"
    run = await repo.get(entities.AI_RUN, "run-789")
    assert isinstance(run, m.AIRun)
    assert (run.agent_name, run.input_tokens, run.duration_ms) == ("dining-orchestrator", 250, 1200)
    trip = await repo.get(entities.TRIP, TRIP_ID)
    assert isinstance(trip, m.Trip)
    assert str(trip.start_date) == "2025-01-10"
    message = await repo.get(entities.MESSAGE, "msg-1")
    assert isinstance(message, m.Message)
    assert message.role == "assistant"
    context = await repo.get(entities.CONTEXT, "conv-123")
    assert isinstance(context, m.AIContext)
    assert context.entities == {"city": "Paris"}


async def test_unknown_fields_are_kept_on_read(seeded: Store) -> None:
    for spec, key in [
        (entities.CONVERSATION, "conversation:conv-123"),
        (entities.AI_RUN, "ai_run:run-789"),
    ]:
        record = m.validate(spec.model, key, await seeded.get(key))
        assert isinstance(record, m.Record)
        assert record.to_json() == SEED[key]


async def test_seed_table_checks_clean(seeded: Store) -> None:
    report = await scan(seeded)
    assert report.clean, report.problems
    assert report.unknown == 0


async def test_update_preserves_unknown_fields(seeded: Store) -> None:
    repo = Repository(seeded)
    await repo.update(entities.TRIP, [TRIP_ID], {"title": "Medellín + Guatapé"})
    stored = await raw(seeded, f"trip:{TRIP_ID}")
    assert stored["title"] == "Medellín + Guatapé"
    assert stored["coverPhoto"] == TRIP["coverPhoto"]
    assert stored["legacy_flag"] == 1
    assert stored["startDate"] == "2025-01-10"
    assert stored["createdAt"] == TRIP["createdAt"]
    assert stored["updatedAt"] != TRIP.get("updatedAt")
    await repo.update(entities.CONVERSATION, ["conv-123"], {"title": "Paris, 4 days"})
    stored = await raw(seeded, "conversation:conv-123")
    assert stored["ui"] == CONVERSATION["ui"]
    assert stored["pinned"] is True
    assert stored["agentType"] == "local-scout"
    assert await seeded.get(f"conversation:index:{USER}") == ["conv-123"]


async def test_update_of_context_keeps_its_shape(seeded: Store) -> None:
    await Repository(seeded).update(entities.CONTEXT, ["conv-123"], {"session": {"step": 3}})
    stored = await raw(seeded, "context:conv-123")
    assert stored["lastIntent"] == "find_hotel"
    assert stored["session"] == {"step": 3}
    assert stored["entities"] == CONTEXT["entities"]


async def test_create_appends_to_a_seed_index(seeded: Store) -> None:
    repo = Repository(seeded)
    created = await repo.create(entities.CONVERSATION, {"userId": USER, "title": "Lisbon"})
    index = await seeded.get(f"conversation:index:{USER}")
    assert index == ["conv-123", created.id]  # type: ignore[attr-defined]
    assert (await scan(seeded)).clean
