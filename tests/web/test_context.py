"""One Context for every transport: a subscription on a socket runs with what an HTTP request
of the same viewer runs with (every setting that reaches the resolvers)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import resolvers.subscriptions as subs
from gql.web.auth import mint_token
from gql.web.view import GatewayView
from resolvers.context import Context
from tests.support import ALICE, SECRET, app_client
from tests.web.gqlws import bearer, connect

MakeClient = Callable[..., Awaitable[Any]]
API_KEY_SECRET = "api-key-secret-0123456789-0123456789-xyz"
# What one operation holds of its own (its loaders, reports, deadline...), not the settings'.
PER_OPERATION = {
    "request",
    "response",
    "executor",
    "loaders",
    "repo",
    "problems",
    "dropped",
    "trip_roles",
    "deadline",
    "slots",
    "_slot",
    "_report",
}


def settled(context: Context) -> dict[str, Any]:
    """The Context's fields that the settings and the viewer decide."""
    return {
        field.name: getattr(context, field.name)
        for field in dataclasses.fields(context)
        if field.name not in PER_OPERATION
    }


async def test_a_subscription_runs_with_what_an_http_request_runs_with(
    aiohttp_client: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await app_client(
        aiohttp_client,
        tmp_path,
        api_key_secret=API_KEY_SECRET,
        context_history_cap=7,
        max_records=1234,
        debug_stats=True,
        execution_timeout=3.0,
    )
    seen: dict[str, Context] = {}
    get_context = GatewayView.get_context

    async def http_context(self: GatewayView, request: Any, response: Any) -> Context:
        context = await get_context(self, request, response)
        seen.setdefault("http", context)  # the POST's (the upgrade asks for one too)
        return context

    message_added = subs.message_added

    async def socket_context(ctx: Context, conversation_id: str) -> Any:
        seen["socket"] = ctx
        return await message_added(ctx, conversation_id)

    monkeypatch.setattr(GatewayView, "get_context", http_context)
    monkeypatch.setattr(subs, "message_added", socket_context)
    token = mint_token(SECRET, ALICE)
    resp = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (await resp.json())["data"] == {"viewer": {"id": ALICE}}
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token))
        subscription = 'subscription { messageAdded(conversationId: "c1") { id } }'
        refused = await ws.next(await ws.subscribe(subscription))
        assert refused["payload"][0]["extensions"]["code"] == "NOT_FOUND"  # it ran
    http, socket = settled(seen["http"]), settled(seen["socket"])
    assert socket == http
    assert http["secret_box"] is not None and http["context_history_cap"] == 7
    assert http["read_limits"].max_records == 1234 and http["event_seconds"] == 3.0
