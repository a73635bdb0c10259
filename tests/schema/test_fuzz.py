"""Generated operations over the whole schema: no input yields an internal or server error.

hypothesis-graphql writes valid queries and mutations (every field, argument and input of
`schema.graphql`, with literal values: long and odd strings, NUL, huge numbers, calendar
edges) and invalid ones; each runs as a signed-in user against the demo data. Every error
must carry one of kvgraph's documented client-facing codes, never `INTERNAL_SERVER_ERROR`.
Derandomized and bounded, so CI runs the same examples in a few seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis_graphql
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from gql.commands.demo import DEMO_USER_ID, seed_demo
from gql.kv import Store, open_store
from gql.schema.build import build_schema, sdl
from gql.web.app import create_app
from gql.web.auth import mint_token
from gql.web.settings import Settings
from resolvers.context import Context

CODES = {
    "BAD_USER_INPUT",
    "FORBIDDEN",  # a kind the service role writes (jobs, cached pages), asked by a user
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "INVALID_RECORD",
    "NOT_FOUND",
    "UNAUTHENTICATED",
}
EXAMPLES = 150
SCHEMA = build_schema()
SDL = sdl(SCHEMA)

DATES = st.sampled_from(
    ["2026-01-31", "0001-01-01", "9999-12-31", "2025-02-29", "2026-13-01", "", "x", "1e400"]
)
DATE_TIMES = st.sampled_from(
    [
        "2026-01-31T20:00:00+02:00",
        "2026-01-31T20:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59.999999-14:00",
        "2026-01-31 20:00",
        "2026-01-31T25:00:00Z",
        "not a time",
    ]
)
SCALARS = {
    "Date": DATES.map(nodes.String),
    "DateTime": DATE_TIMES.map(nodes.String),
    "JSON": st.sampled_from(["{}", "[1, 2]", '"text"', "null"]).map(nodes.String),
}
STRATEGY = st.one_of(
    hypothesis_graphql.queries(SDL, custom_scalars=SCALARS),
    hypothesis_graphql.mutations(SDL, custom_scalars=SCALARS),
    hypothesis_graphql.from_schema(
        SDL, custom_scalars=SCALARS, mode=hypothesis_graphql.Mode.NEGATIVE
    ),
)


SECRET = "fuzz-secret-fuzz-secret-fuzz-secret-0123"


class Demo:
    """The demo data set in a SQLite store, and the app over HTTP, on a loop of their own
    (hypothesis is synchronous)."""

    def __init__(self, path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        url = f"sqlite:///{path}/kv.db"
        self.store: Store = open_store(url, "kv")
        self.loop.run_until_complete(self.store.open())
        self.loop.run_until_complete(seed_demo(self.store))
        settings = Settings(store_url=url, kv_table="kv", jwt_secret=SECRET, rate_limit=0)
        self.client = TestClient(TestServer(create_app(settings)), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())
        self.headers = {"Authorization": f"Bearer {mint_token(SECRET, DEMO_USER_ID)}"}

    def run(self, document: str) -> Any:
        context = Context(store=self.store, viewer_id=DEMO_USER_ID)
        return self.loop.run_until_complete(SCHEMA.execute(document, context_value=context))

    def post(self, document: str) -> tuple[int, Any]:
        async def send() -> tuple[int, Any]:
            body = {"query": document}
            async with self.client.post("/graphql", json=body, headers=self.headers) as resp:
                return resp.status, await resp.json()

        return self.loop.run_until_complete(send())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    world = Demo(tmp_path_factory.mktemp("fuzz"))
    yield world
    world.close()


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(document=STRATEGY)
def test_no_generated_operation_is_an_internal_error(demo: Demo, document: str) -> None:
    result = demo.run(document)
    for error in result.errors or ():
        code = (error.extensions or {}).get("code")
        assert code in CODES, (document, error.message, code)


@settings(
    max_examples=EXAMPLES // 3,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(document=STRATEGY)
def test_no_generated_request_is_a_server_error(demo: Demo, document: str) -> None:
    status, body = demo.post(document)
    assert status < 500, (document, body)
    for error in body.get("errors") or ():
        assert error["extensions"]["code"] in CODES, (document, error)
