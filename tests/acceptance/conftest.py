"""The acceptance suite's gateway: the real aiohttp app over a fresh table on each store,
written to directly as the travel planner's own code writes it, and queried over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gql.kv import Store
from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.settings import Settings

SECRET = "acceptance-secret-0123456789-0123456789"
API_KEY_SECRET = "acceptance-api-key-secret-0123456789-abcdef"
MakeClient = Callable[..., Awaitable[Any]]


class App:
    """The gateway over HTTP plus its table, as a travel-planner app and its users see them."""

    def __init__(self, client: TestClient) -> None:  # type: ignore[type-arg]
        self.client = client

    @property
    def store(self) -> Store:
        """The table the gateway serves (the app writes to it directly)."""
        return self.client.app[STORE]  # type: ignore[no-any-return]

    async def write(self, rows: dict[str, Any]) -> None:
        """Write records and index arrays as the app's own code does: JSON under its keys."""
        await self.store.set_many(rows)

    async def raw(self, key: str) -> Any:
        """The JSON stored under `key` (None when absent)."""
        return await self.store.get(key)

    async def post(self, query: str, variables: dict | None = None, **who: Any) -> dict:
        """POST a GraphQL request as `user` (role `role`, e.g. service_role); the body."""
        headers = {}
        if who.get("user"):
            token = mint_token(SECRET, who["user"], role=who.get("role", "authenticated"))
            headers["Authorization"] = f"Bearer {token}"
        body = {"query": query, "variables": variables or {}}
        resp = await self.client.post("/graphql", json=body, headers=headers)
        assert resp.status == 200, await resp.text()
        return await resp.json()  # type: ignore[no-any-return]

    async def ok(self, query: str, variables: dict | None = None, **who: Any) -> dict:
        """POST and insist on no errors; the `data`."""
        body = await self.post(query, variables, **who)
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    async def mutate(self, query: str, variables: dict | None = None, **who: Any) -> dict:
        """Run a one-field mutation; its payload, insisting on no errors and no userErrors."""
        data = await self.ok(query, variables, **who)
        (payload,) = data.values()
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload  # type: ignore[no-any-return]


@pytest.fixture
async def app(aiohttp_client: MakeClient, store_url: tuple[str, str], tmp_path: Path) -> App:
    """The gateway over a fresh table of the store in `store_url`."""
    url, table = store_url
    settings = Settings(
        store_url=url,
        kv_table=table,
        jwt_secret=SECRET,
        api_key_secret=API_KEY_SECRET,
        rate_limit=0,
    )
    return App(await aiohttp_client(create_app(settings)))
