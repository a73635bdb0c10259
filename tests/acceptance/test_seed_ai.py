"""Acceptance, AI tables of the seed (conversations, messages, ai_runs, ai_context,
user_preferences, profiles): records written as the travel planner writes them, read and
changed over HTTP, the table checked afterwards."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import App
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

USER = "user-456"
STRANGER = "user-999"
SERVICE = {"user": "agent-runner", "role": "service_role"}


async def test_conversations_and_messages(app: App) -> None:
    await app.write(
        {
            # The seed's example, exactly, plus fields the app adds.
            "conversation:conv-123": {
                "id": "conv-123",
                "userId": USER,
                "title": "Plan my Paris trip",
                "agentType": "local-scout",
                "createdAt": "2024-12-24T10:00:00Z",
                "updatedAt": "2024-12-24T10:30:00Z",
                "pinned": True,
            },
            # Sparse, and stamped in epoch milliseconds by a Date.now() writer.
            "conversation:conv-124": {
                "id": "conv-124",
                "userId": USER,
                "createdAt": 1735034400000,
                "updatedAt": 1735036200000,
            },
            # The checklist's snake_case ("participant, created_at").
            "conversation:conv-125": {
                "id": "conv-125",
                "userId": USER,
                "title": "Dinner in Lyon",
                "agent_type": "dining-orchestrator",
                "created_at": "2024-12-25T18:00:00.000Z",
            },
            "conversation:index:user-456": ["conv-123", "conv-124", "conv-125"],
            "message:m1": {
                "id": "m1",
                "conversationId": "conv-123",
                "role": "user",
                "content": "Where should I stay?",
                "timestamp": "2024-12-24T10:00:05Z",
            },
            "message:m2": {
                "id": "m2",
                "conversationId": "conv-123",
                "role": "assistant",
                "content": "Le Marais or Saint-Germain.",
                "timestamp": 1735034410000,
                "tokens": 12,
            },
            "message:m3": {"id": "m3", "conversationId": "conv-123", "content": "Thanks!"},
            "messages:index:conv-123": ["m1", "m2", "m3"],
        }
    )
    query = """{ viewer { conversations { totalCount nodes { id title agentType createdAt updatedAt
        messages { totalCount nodes { id role content timestamp } } } } } }"""
    data = await app.ok(query, user=USER)
    conversations = data["viewer"]["conversations"]
    assert conversations["totalCount"] == 3
    first, second, third = conversations["nodes"]
    assert first == {
        "id": "conv-123",
        "title": "Plan my Paris trip",
        "agentType": "local-scout",
        "createdAt": "2024-12-24T10:00:00+00:00",
        "updatedAt": "2024-12-24T10:30:00+00:00",
        "messages": {
            "totalCount": 3,
            "nodes": [
                {
                    "id": "m1",
                    "role": "USER",
                    "content": "Where should I stay?",
                    "timestamp": "2024-12-24T10:00:05+00:00",
                },
                {
                    "id": "m2",
                    "role": "ASSISTANT",
                    "content": "Le Marais or Saint-Germain.",
                    "timestamp": "2024-12-24T10:00:10+00:00",
                },
                {"id": "m3", "role": "USER", "content": "Thanks!", "timestamp": None},
            ],
        },
    }
    assert second["title"] is None
    assert (second["createdAt"], second["updatedAt"]) == (
        "2024-12-24T10:00:00+00:00",
        "2024-12-24T10:30:00+00:00",
    )
    assert (third["agentType"], third["createdAt"]) == (
        "dining-orchestrator",
        "2024-12-25T18:00:00+00:00",
    )
    stranger = await app.post('{ conversation(id: "conv-123") { id } }', user=STRANGER)
    assert stranger["data"] == {"conversation": None}


async def test_post_message_keeps_the_apps_conventions(app: App) -> None:
    await app.write(
        {
            "conversation:conv-124": {
                "id": "conv-124",
                "userId": USER,
                "createdAt": 1735034400000,
                "updatedAt": 1735036200000,
            },
            "conversation:conv-125": {
                "id": "conv-125",
                "userId": USER,
                "created_at": "2024-12-25T18:00:00.000Z",
                "updated_at": "2024-12-25T18:00:00.000Z",
            },
            "conversation:index:user-456": ["conv-124", "conv-125"],
            "messages:index:conv-124": ["m-old"],
            "message:m-old": {"id": "m-old", "conversationId": "conv-124", "content": "hi"},
        }
    )
    post = """mutation($c: ID!) { postMessage(input: {conversationId: $c, content: "And food?"}) {
        message { id role content timestamp } userErrors { field message code } } }"""
    payload = await app.mutate(post, {"c": "conv-124"}, user=USER)
    message = payload["message"]
    assert (message["role"], message["content"]) == ("USER", "And food?")
    stored = await app.raw(f"message:{message['id']}")
    assert stored["conversationId"] == "conv-124" and stored["content"] == "And food?"
    assert stored["role"] == "user" and stored["timestamp"].endswith("Z")
    assert await app.raw("messages:index:conv-124") == ["m-old", message["id"]]
    conversation = await app.raw("conversation:conv-124")
    # A numeric updatedAt stays numeric (the app compares numbers), and moves forward.
    assert isinstance(conversation["updatedAt"], int)
    assert conversation["updatedAt"] > 1735036200000
    assert conversation["createdAt"] == 1735034400000
    await app.mutate(post, {"c": "conv-125"}, user=USER)
    snake = await app.raw("conversation:conv-125")
    # The app's own snake_case field is the one brought forward, not a second spelling.
    assert "updatedAt" not in snake and snake["updated_at"] > "2024-12-25T18:00:00.000Z"


async def test_start_and_delete_conversation_keep_the_index(app: App) -> None:
    await app.write({"conversation:index:user-456": ["conv-app"]})
    start = """mutation { startConversation(input: {title: "Lisbon", agentType: "local-scout",
        message: "Hello"}) { conversation { id title agentType } userErrors { field message code } } }"""
    conversation = (await app.mutate(start, user=USER))["conversation"]
    cid = conversation["id"]
    assert conversation["title"] == "Lisbon" and conversation["agentType"] == "local-scout"
    stored = await app.raw(f"conversation:{cid}")
    assert stored["id"] == cid and stored["userId"] == USER and stored["agentType"] == "local-scout"
    assert stored["createdAt"].endswith("Z") and stored["updatedAt"].endswith("Z")
    assert await app.raw("conversation:index:user-456") == ["conv-app", cid]
    (first,) = await app.raw(f"messages:index:{cid}")
    assert (await app.raw(f"message:{first}"))["content"] == "Hello"
    delete = """mutation($id: ID!) { deleteConversation(input: {id: $id}) { userErrors { field
        message code } } }"""
    await app.mutate(delete, {"id": cid}, user=USER)
    assert await app.raw("conversation:index:user-456") == ["conv-app"]
    assert await app.raw(f"conversation:{cid}") is None


AI_RUNS = {
    # The seed's example, exactly.
    "ai_run:run-789": {
        "id": "run-789",
        "userId": USER,
        "agentName": "dining-orchestrator",
        "inputTokens": 250,
        "outputTokens": 180,
        "durationMs": 1200,
        "status": "success",
        "createdAt": "2024-12-24T10:15:00Z",
    },
    # The checklist's names ("agent_name, input, output, duration, tokens"), snake_case.
    "ai_run:run-790": {
        "id": "run-790",
        "user_id": USER,
        "agent_name": "local-scout",
        "input_tokens": 100,
        "output_tokens": 50,
        "duration_ms": 800.5,
        "status": "error",
        "created_at": "2024-12-24T11:00:00Z",
        "input": "find tapas",
        "output": "timeout upstream",
    },
    # Sparse, epoch-ms stamp, a status kvgraph does not know.
    "ai_run:run-791": {
        "id": "run-791",
        "userId": USER,
        "agentName": "local-scout",
        "status": "queued",
        "createdAt": 1735138800000,
    },
    "ai_runs:index:user-456": ["run-789", "run-790", "run-791"],
}


async def test_ai_runs(app: App) -> None:
    await app.write(AI_RUNS)
    query = """{ viewer { aiRuns { totalCount nodes { id agentName inputTokens outputTokens
        durationMs status statusRaw createdAt } }
        aiRunTotals(from: "2024-12-24", to: "2024-12-25") { all { runs inputTokens
        outputTokens durationMs } byAgent { agentName runs } byDay { date runs } undated } } }"""
    data = (await app.ok(query, user=USER))["viewer"]
    runs = data["aiRuns"]
    assert runs["totalCount"] == 3
    assert runs["nodes"] == [
        {
            "id": "run-789",
            "agentName": "dining-orchestrator",
            "inputTokens": 250,
            "outputTokens": 180,
            "durationMs": 1200.0,
            "status": "SUCCESS",
            "statusRaw": "success",
            "createdAt": "2024-12-24T10:15:00+00:00",
        },
        {
            "id": "run-790",
            "agentName": "local-scout",
            "inputTokens": 100,
            "outputTokens": 50,
            "durationMs": 800.5,
            "status": "ERROR",
            "statusRaw": "error",
            "createdAt": "2024-12-24T11:00:00+00:00",
        },
        {
            "id": "run-791",
            "agentName": "local-scout",
            "inputTokens": None,
            "outputTokens": None,
            "durationMs": None,
            "status": "OTHER",
            "statusRaw": "queued",
            "createdAt": "2024-12-25T15:00:00+00:00",
        },
    ]
    totals = data["aiRunTotals"]
    assert totals["all"] == {
        "runs": 3,
        "inputTokens": 350.0,
        "outputTokens": 230.0,
        "durationMs": 2000.5,
    }
    assert totals["byAgent"] == [
        {"agentName": "dining-orchestrator", "runs": 1},
        {"agentName": "local-scout", "runs": 2},
    ]
    assert totals["byDay"] == [{"date": "2024-12-24", "runs": 2}, {"date": "2024-12-25", "runs": 1}]
    assert totals["undated"] == 0
    stranger = await app.ok("{ viewer { aiRuns { totalCount } } }", user=STRANGER)
    assert stranger["viewer"]["aiRuns"]["totalCount"] == 0


async def test_record_ai_run_as_the_service_role(app: App) -> None:
    await app.write(AI_RUNS)
    record = """mutation { recordAiRun(input: {userId: "user-456", agentName: "budget-guardian",
        inputTokens: 10, outputTokens: 20, durationMs: 30, status: SUCCESS}) {
        aiRun { id agentName } userErrors { field message code } } }"""
    refused = await app.post(record, user=USER)
    refusal = refused.get("errors") or refused["data"]["recordAiRun"]["userErrors"]
    assert refusal, refused
    assert await app.raw("ai_runs:index:user-456") == list(AI_RUNS["ai_runs:index:user-456"])
    run = (await app.mutate(record, **SERVICE))["aiRun"]
    stored = await app.raw(f"ai_run:{run['id']}")
    assert stored["userId"] == USER and stored["agentName"] == "budget-guardian"
    assert (stored["inputTokens"], stored["outputTokens"], stored["status"]) == (10, 20, "success")
    assert stored["createdAt"].endswith("Z")
    assert (await app.raw("ai_runs:index:user-456"))[-1] == run["id"]
    update = """mutation { updateAiRun(input: {id: "run-790", status: SUCCESS, outputTokens: 60})
        { aiRun { id status outputTokens } userErrors { field message code } } }"""
    await app.mutate(update, **SERVICE)
    snake = await app.raw("ai_run:run-790")
    # The app's snake_case names are the ones written; its own extra fields are kept.
    assert snake["output_tokens"] == 60 and "outputTokens" not in snake
    assert snake["status"] == "success" and snake["input"] == "find tapas"


async def test_context_and_its_history(app: App) -> None:
    await app.write(
        {
            "conversation:conv-123": {"id": "conv-123", "userId": USER, "title": "Paris"},
            "conversation:index:user-456": ["conv-123"],
            "context:conv-123": {
                "conversationId": "conv-123",
                "entities": {"city": "Paris", "dates": ["2025-03-01", "2025-03-04"]},
                "preferences": {"budget": "mid"},
                "session": {"step": 3},
                "updatedAt": "2024-12-24T10:30:00Z",
                "lastAgent": "local-scout",
            },
            # Snapshots as the app keeps them: earlier contexts, oldest first, no ids.
            "context:history:conv-123": [
                {"entities": {"city": "Lyon"}, "updatedAt": "2024-12-24T10:00:00Z"},
                {
                    "entities": {"city": "Paris"},
                    "session": {"step": 1},
                    "updatedAt": 1735034700000,
                    "timestamp": "2024-12-24T10:30:00Z",  # when it was replaced
                },
            ],
        }
    )
    query = """{ conversation(id: "conv-123") { context { conversationId entities preferences
        session updatedAt data } contextHistory { totalCount nodes { entities session
        updatedAt recordedAt } } } }"""
    conversation = (await app.ok(query, user=USER))["conversation"]
    context = conversation["context"]
    assert context["entities"] == {"city": "Paris", "dates": ["2025-03-01", "2025-03-04"]}
    assert (context["preferences"], context["session"]) == ({"budget": "mid"}, {"step": 3})
    assert context["updatedAt"] == "2024-12-24T10:30:00+00:00"
    assert context["data"]["lastAgent"] == "local-scout"
    history = conversation["contextHistory"]
    assert history["totalCount"] == 2
    assert history["nodes"] == [
        {
            "entities": {"city": "Lyon"},
            "session": None,
            "updatedAt": "2024-12-24T10:00:00+00:00",
            "recordedAt": None,
        },
        {
            "entities": {"city": "Paris"},
            "session": {"step": 1},
            "updatedAt": "2024-12-24T10:05:00+00:00",
            "recordedAt": "2024-12-24T10:30:00+00:00",
        },
    ]
    set_context = """mutation { setContext(input: {conversationId: "conv-123",
        entities: {city: "Nice"}}) { userErrors { field message code } } }"""
    refused = await app.post(set_context, user=USER)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await app.mutate(set_context, **SERVICE)
    stored = await app.raw("context:conv-123")
    assert stored["entities"] == {"city": "Nice"} and stored["updatedAt"].endswith("Z")
    history_now = await app.raw("context:history:conv-123")
    # kvgraph numbers the snapshots (`seq`, for cursors that survive trimming); the app's
    # own fields stay as it wrote them.
    assert [snapshot.pop("seq") for snapshot in history_now] == [0, 1, 2]
    assert len(history_now) == 3 and history_now[:2] == [
        {"entities": {"city": "Lyon"}, "updatedAt": "2024-12-24T10:00:00Z"},
        {
            "entities": {"city": "Paris"},
            "session": {"step": 1},
            "updatedAt": 1735034700000,
            "timestamp": "2024-12-24T10:30:00Z",
        },
    ]
    assert history_now[2]["entities"] == {"city": "Paris", "dates": ["2025-03-01", "2025-03-04"]}
    stranger = await app.ok(query, user=STRANGER)
    assert stranger == {"conversation": None}


async def test_preferences_and_profile(app: App) -> None:
    await app.write(
        {
            "profile:user-456": {
                "id": "user-456",
                "email": "ana@example.com",
                "full_name": "Ana Lima",
                "avatar_url": "https://example.com/a.png",
                "created_at": "2024-12-01T09:00:00Z",
            },
            "preferences:user-456": {
                "userId": USER,
                "currency": "EUR",
                "language": "pt-BR",
                "homeCity": "Porto",
                "travelStyle": "slow",
                "interests": ["food", "museums"],
                "notifications": {"email": True, "push": False},
                "aiSettings": {"model": "gemini", "temperature": 0.3},
            },
        }
    )
    query = """{ viewer { id email displayName avatarUrl preferences { currency language homeCity
        travelStyle interests notifications data } } }"""
    viewer = (await app.ok(query, user=USER))["viewer"]
    assert viewer["email"] == "ana@example.com"
    assert (viewer["displayName"], viewer["avatarUrl"]) == ("Ana Lima", "https://example.com/a.png")
    prefs = viewer["preferences"]
    assert prefs["currency"] == "EUR" and prefs["language"] == "pt-BR"
    assert (prefs["homeCity"], prefs["travelStyle"]) == ("Porto", "slow")
    assert prefs["interests"] == ["food", "museums"]
    assert prefs["notifications"] == {"email": True, "push": False}
    assert prefs["data"]["aiSettings"] == {"model": "gemini", "temperature": 0.3}
    update = """mutation { updateProfile(input: {displayName: "Ana L.", avatarUrl:
        "https://example.com/b.png"}) { userErrors { field message code } } }"""
    await app.mutate(update, user=USER)
    profile = await app.raw("profile:user-456")
    assert profile["full_name"] == "Ana L." and profile["avatar_url"] == "https://example.com/b.png"
    assert "displayName" not in profile and "avatarUrl" not in profile
    assert profile["email"] == "ana@example.com" and profile["created_at"] == "2024-12-01T09:00:00Z"
    # A user with no profile and no preferences is still a viewer.
    bare = await app.ok(
        "{ viewer { id email displayName preferences { currency } } }", user="u-new"
    )
    assert bare == {
        "viewer": {"id": "u-new", "email": None, "displayName": None, "preferences": None}
    }
