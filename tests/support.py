"""What several test modules share: backends, the Gateway runner, the trip-board data, the
mutation documents and helpers, the Node-side checks' packages."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv.mapping import IDENTITY, AppMapping
from gql.kv.repo import Repository

NODE_DIR = Path(__file__).parent / "node"
PG_URL = os.environ.get("KVGRAPH_TEST_POSTGRES_URL", "")
PG_SKIP = "KVGRAPH_TEST_POSTGRES_URL is not set: Postgres backend not tested"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Stores whose value column holds any text (not JSON, lone surrogate escapes): SQLite, and a
# Postgres table an app made with `value text`.
TEXT_BACKENDS = ["sqlite", pytest.param("postgres-text", marks=pytest.mark.postgres)]
EVERY_BACKEND = [*BACKENDS, TEXT_BACKENDS[1]]


def node_packages() -> Path:
    """tests/node with its npm packages installed from the lockfile (`npm ci` when stale)."""
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are needed by the Node-side checks"
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return NODE_DIR


async def drop_table(url: str, table: str) -> None:
    """Drop a scratch table from the test database."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    finally:
        await conn.close()


class Gateway:
    """Runs operations against the schema with a fresh per-request Context each time."""

    def __init__(
        self, schema: object, store: Store, mapping: AppMapping = IDENTITY, **context: Any
    ) -> None:
        self.schema, self.store, self.mapping = schema, store, mapping
        self.context = context  # more Context fields (settings passed down)

    async def run(
        self,
        query: str,
        variables: dict | None = None,
        *,
        viewer: str | None = None,
        role: str | None = None,
    ) -> object:
        """Run as `viewer` (and the token role `role`, e.g. `service_role`)."""
        from resolvers.context import Context

        context = Context(
            store=self.store,
            viewer_id=viewer,
            role=role,
            debug_stats=True,
            mapping=self.mapping,
            **self.context,
        )
        return await self.schema.execute(query, variable_values=variables, context_value=context)  # type: ignore[attr-defined]

    async def ok(
        self,
        query: str,
        variables: dict | None = None,
        *,
        viewer: str | None = None,
        role: str | None = None,
    ) -> dict:
        """Run and insist on no errors; return `data`."""
        result = await self.run(query, variables, viewer=viewer, role=role)
        assert result.errors is None, result.errors  # type: ignore[attr-defined]
        return result.data  # type: ignore[attr-defined, no-any-return]


U = "user-1"

BOARD = """
query Board {
  viewer {
    trips(first: 100) {
      totalCount
      nodes { id title items(first: 100) { nodes { id title startTime location { name kind: __typename } } } }
    }
  }
}
"""


async def board_data(store: Store, trips: int, items: int, user: str = U) -> dict[str, Any]:
    """Write a trip board in the seed's conventions, directly into the table."""
    rows: dict[str, Any] = {}
    kinds = list(k.LOCATION_KINDS)
    for p in range(6):
        kind = kinds[p % 3]
        rows[f"{kind}:p{p}"] = {
            "id": f"p{p}",
            "name": f"Place {p}",
            "city": "Lisbon" if p < 3 else "Porto",
        }
    for kind in kinds[:3]:
        rows[k.LOCATION_INDEX[kind].key()] = [f"p{p}" for p in range(6) if kinds[p % 3] == kind]
    trip_ids = [f"t{t}" for t in range(trips)]
    rows[f"trips:index:{user}"] = trip_ids
    for t in trip_ids:
        rows[f"trip:{t}"] = {
            "id": t,
            "userId": user,
            "title": f"Trip {t}",
            "startDate": "2026-01-01",
        }
        item_ids = [f"{t}-i{i}" for i in range(items)]
        rows[f"items:index:{t}"] = item_ids
        for n, i in enumerate(item_ids):
            p = n % 6
            rows[f"item:{i}"] = {
                "id": i,
                "tripId": t,
                "title": f"Item {i}",
                "startTime": "2026-01-01T08:00:00.000Z",
                "locationType": kinds[p % 3],
                "locationId": f"p{p}",
            }
    await store.set_many(rows)
    return rows


def role_url(role: str) -> str:
    """PG_URL signed in as `role` instead (the test server trusts local connections)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(PG_URL)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


@asynccontextmanager
async def pg_role(table: str, *grants: str) -> AsyncIterator[str]:
    """A fresh login role (no CREATE anywhere) holding `grants` on `table`; yields its URL.

    The role has a unique name and is dropped afterwards, with what was granted to it:
    other suites run against the same server at the same time.
    """
    import asyncpg

    role = f"kv_role_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f"CREATE ROLE {role} LOGIN NOBYPASSRLS")
        if grants:
            await conn.execute(f'GRANT {", ".join(grants)} ON "{table}" TO {role}')
        yield role_url(role)
    finally:
        terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1"
        await conn.execute(terminate, role)
        await conn.execute(f"DROP OWNED BY {role}")
        await conn.execute(f"DROP ROLE {role}")
        await conn.close()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file or directory read-only for this process, then writable again.

    chmod does not stop root, so as root the immutable attribute is used instead (root can
    set it; CI runs the suite as root).
    """
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    mode = path.stat().st_mode
    path.chmod(mode & ~0o222)
    try:
        yield
    finally:
        path.chmod(mode)


# ---------------------------------------------------------------- an app-shaped table
# Records as a hand-written service layer writes them (issue 6): ordinary values that are not
# kvgraph's own spelling. APP_USER owns trip-1 and collaborates on trip-2 as "owner".
APP_USER = "app-user-1"
APP_OTHER = "app-user-2"
APP_RECORDS: dict[str, Any] = {
    f"profile:{APP_USER}": {"id": APP_USER, "name": "Ana Costa", "email": "ana@example.com"},
    f"trips:index:{APP_USER}": ["trip-1", "trip-2"],
    "trip:trip-1": {
        "id": "trip-1",
        "userId": APP_USER,
        "title": "Lisbon",
        "startDate": "2025-06-01",
        "endDate": "2025-06-05T22:00:00.000Z",
        "createdAt": 1732550400000,
        "updatedAt": 1732550400000,
        "coverColor": "#1d4ed8",
    },
    f"trips:index:{APP_OTHER}": ["trip-2"],
    "trip:trip-2": {"id": "trip-2", "userId": APP_OTHER, "title": "Porto", "currency": "EUR"},
    f"collaborator:trip-2:{APP_USER}": {"tripId": "trip-2", "userId": APP_USER, "role": "owner"},
    "items:index:trip-1": ["item-flight", "item-hotel", "item-dinner"],
    "item:item-flight": {
        "id": "item-flight",
        "tripId": "trip-1",
        "title": "TP 1351 to Lisbon",
        "kind": "flight",
        "startTime": "2025-06-01T08:15:00.000+01:00",
        "cost": "189.90",
    },
    "item:item-hotel": {
        "id": "item-hotel",
        "tripId": "trip-1",
        "title": "Hotel Alfama",
        "kind": "stay",
        "locationType": "hotel",
        "locationId": "hotel-9",
        "location": {"lat": 38.7114, "lng": -9.1300},
    },
    "item:item-dinner": {
        "id": "item-dinner",
        "tripId": "trip-1",
        "title": "Dinner",
        "kind": "meal",
        "startTime": "2025-06-02T20:00",
        "locationType": "restaurant",
        "locationId": "rest-1",
    },
    "restaurants:index": ["rest-1"],
    "restaurant:rest-1": {"id": "rest-1", "name": "Taberna da Rua", "priceLevel": "$$"},
    "events:index": ["event-1"],
    "event:event-1": {"id": "event-1", "title": "Fado night", "city": "Lisbon"},
    "rentals:index": ["rental-1"],
    "rental:rental-1": {"id": "rental-1", "name": "Loft", "bedrooms": 2.0, "pricePerNight": "95"},
    f"conversation:index:{APP_USER}": ["conv-1"],
    "conversation:conv-1": {"id": "conv-1", "userId": APP_USER, "title": "Lisbon ideas"},
    "messages:index:conv-1": ["msg-1", "msg-2"],
    "message:msg-1": {
        "id": "msg-1",
        "conversationId": "conv-1",
        "role": "user",
        "content": "Where should we eat?",
        "createdAt": "2025-05-20T18:00:00.000Z",
    },
    "message:msg-2": {
        "id": "msg-2",
        "conversationId": "conv-1",
        "role": "model",
        "content": "Try Taberna da Rua.",
        "createdAt": "2025-05-20T18:00:02.500Z",
    },
    f"ai_runs:index:{APP_USER}": ["run-1"],
    "ai_run:run-1": {
        "id": "run-1",
        "userId": APP_USER,
        "agentName": "dining",
        "inputTokens": 250,
        "outputTokens": 180,
        "durationMs": 850.7,
        "status": "success",
    },
    f"suggestions:index:{APP_USER}": ["sug-1"],
    "suggestion:sug-1": {
        "id": "sug-1",
        "userId": APP_USER,
        "tripId": "trip-1",
        "message": "Book the fado show early.",
        "status": "pending",
    },
}


async def write_raw(store_url: tuple[str, str], rows: dict[str, str]) -> None:
    """Write stored text as it is, behind kvgraph's back, as another app may have written it
    (into a jsonb column, as jsonb)."""
    url, table = store_url
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            sql = f'INSERT OR REPLACE INTO "{table}" (key, value) VALUES (?, ?)'
            conn.executemany(sql, list(rows.items()))
        return
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        cast = "::jsonb" if await _value_type(conn, table) == "jsonb" else ""
        await conn.executemany(
            f'INSERT INTO "{table}" (key, value) VALUES ($1, $2{cast}) '
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            list(rows.items()),
        )
    finally:
        await conn.close()


async def _value_type(conn: Any, table: str) -> str:
    found: str = await conn.fetchval(
        "SELECT format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = to_regclass($1) AND attname = 'value'",
        f'"{table}"',
    )
    return found


async def holds_any_text(store_url: tuple[str, str]) -> bool:
    """Whether the store's value column holds text that is not JSON (SQLite; Postgres text)."""
    url, table = store_url
    if url.startswith("sqlite"):
        return True
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await _value_type(conn, table) == "text"
    finally:
        await conn.close()


async def read_raw(store_url: tuple[str, str], keys: list[str]) -> list[str | None]:
    """The stored text of `keys`, read behind kvgraph's back."""
    url, table = store_url
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            found = dict(conn.execute(f'SELECT key, value FROM "{table}"').fetchall())
        return [found.get(key) for key in keys]
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(f'SELECT key, value::text FROM "{table}" WHERE key = ANY($1)', keys)
    finally:
        await conn.close()
    got = {row[0]: row[1] for row in rows}
    return [got.get(key) for key in keys]


async def admin(sql: str) -> None:
    """Run one statement as the test database's superuser."""
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# ------------------------------------------------------------------ mutations
ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "b0b00000-0000-4000-8000-000000000002"
NOWHERE = "00000000-dead-4000-8000-00000000beef"  # an id nothing has

UE = "userErrors { field message code errorCode }"


def mutation(name: str, selection: str) -> str:
    """`mutation M($input: <Name>Input!) { name(input: $input) { selection userErrors } }`."""
    type_name = name[0].upper() + name[1:]
    return (
        f"mutation M($input: {type_name}Input!) {{ {name}(input: $input) {{ {selection} {UE} }} }}"
    )


async def dump(store: Store) -> dict[str, Any]:
    """Every key and value of the table (to diff it around a refused mutation)."""
    return {key: value async for key, value in store.iter_prefix("")}


def payload(data: dict[str, Any]) -> dict[str, Any]:
    """The one root field of a mutation's result."""
    (value,) = data.values()
    return value  # type: ignore[no-any-return]


async def done(
    gw: Gateway,
    query: str,
    input_: dict[str, Any],
    viewer: str | None = ALICE,
    role: str | None = None,
) -> Any:
    """Run a mutation that must succeed: no errors, no userErrors; return the entity."""
    out = payload(await gw.ok(query, {"input": input_}, viewer=viewer, role=role))
    assert out["userErrors"] == [], out["userErrors"]
    (entity,) = (v for f, v in out.items() if f != "userErrors")
    assert entity is not None
    return entity


async def refused(
    gw: Gateway,
    store: Store,
    query: str,
    input_: dict[str, Any],
    viewer: str | None = ALICE,
    role: str | None = None,
) -> list[dict[str, Any]]:
    """Run a mutation that must fail with userErrors, writing nothing; return the errors."""
    before = await dump(store)
    out = payload(await gw.ok(query, {"input": input_}, viewer=viewer, role=role))
    assert out["userErrors"], f"expected userErrors, got {out}"
    for name, value in out.items():
        if name != "userErrors":
            assert value is None, f"{name} should be null when refused: {value}"
    assert await dump(store) == before, "a refused mutation wrote to the store"
    for error in out["userErrors"]:
        if {"code", "errorCode"} <= error.keys():  # the enum and the deprecated string agree
            assert error["errorCode"] == error["code"], error
    return out["userErrors"]  # type: ignore[no-any-return]


TRIP_F = "id title destination startDate endDate currency status createdAt updatedAt"
ITEM_F = (
    "id title kind startTime endTime notes cost { amount currency } "
    "location { __typename id name } trip { id }"
)


CREATE_TRIP = mutation("createTrip", f"trip {{ {TRIP_F} owner {{ id }} }}")
UPDATE_TRIP = mutation("updateTrip", f"trip {{ {TRIP_F} }}")
DELETE_TRIP = mutation("deleteTrip", "trip { id title }")
ADD_ITEM = mutation("addItineraryItem", f"item {{ {ITEM_F} }}")
UPDATE_ITEM = mutation("updateItineraryItem", f"item {{ {ITEM_F} }}")
REMOVE_ITEM = mutation("removeItineraryItem", "item { id title }")
MOVE_ITEM = mutation("moveItineraryItem", "item { id title }")
START_CONV = mutation(
    "startConversation",
    "conversation { id title agentType messages { totalCount nodes { id role content } } }",
)
POST_MESSAGE = mutation("postMessage", "message { id conversationId role content timestamp }")
DELETE_CONV = mutation("deleteConversation", "conversation { id title }")
DISMISS = mutation("dismissSuggestion", "suggestion { id status }")
ACCEPT = mutation("acceptSuggestion", "suggestion { id status }")
SAVE = mutation("savePlace", "place { __typename id name }")
UNSAVE = mutation("unsavePlace", "place { __typename id name }")
COLLAB_F = "nodeId tripId userId role roleRaw invitedAt user { id displayName } trip { id }"
INVITE = mutation("inviteCollaborator", f"collaborator {{ {COLLAB_F} }}")
UPDATE_COLLAB = mutation("updateCollaborator", f"collaborator {{ {COLLAB_F} }}")
REMOVE_COLLAB = mutation("removeCollaborator", f"collaborator {{ {COLLAB_F} }}")
UPDATE_PROFILE = mutation("updateProfile", "user { id displayName avatarUrl email }")
COLLECTION_F = (
    "id name description createdAt updatedAt places(first: 100) { totalCount nodes { id } }"
)
CREATE_COLLECTION = mutation("createCollection", f"collection {{ {COLLECTION_F} }}")
UPDATE_COLLECTION = mutation("updateCollection", f"collection {{ {COLLECTION_F} }}")
DELETE_COLLECTION = mutation("deleteCollection", f"collection {{ {COLLECTION_F} }}")
ADD_TO_COLLECTION = mutation("addCollectionPlace", f"collection {{ {COLLECTION_F} }}")
MOVE_IN_COLLECTION = mutation("moveCollectionPlace", f"collection {{ {COLLECTION_F} }}")
REMOVE_FROM_COLLECTION = mutation("removeCollectionPlace", f"collection {{ {COLLECTION_F} }}")

TRIP_ITEMS = "query Q($id: ID!) { trip(id: $id) { items(first: 100) { nodes { id } } } }"


async def keys_of(store: Store) -> set[str]:
    return {key async for key, _ in store.iter_prefix("")}


def fields(errors: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(err["field"], err["code"]) for err in errors]


async def trip_for(gw: Gateway, viewer: str = ALICE, **extra: Any) -> dict[str, Any]:
    return await done(gw, CREATE_TRIP, {"title": "Lisbon", **extra}, viewer)  # type: ignore[no-any-return]


async def item_for(gw: Gateway, trip_id: str, title: str, viewer: str = ALICE, **extra: Any) -> Any:
    return await done(gw, ADD_ITEM, {"tripId": trip_id, "title": title, **extra}, viewer)


async def index(store: Store, key: str) -> Any:
    return await store.get(key)


async def place(store: Store, kind: str, name: str) -> str:
    record = await Repository(store).create(e.LOCATIONS[kind], {"name": name, "city": "Lisbon"})
    return record.id  # type: ignore[attr-defined, no-any-return]


async def suggestion(store: Store, user: str = ALICE, status: str = "active") -> str:
    record = await Repository(store).create(
        e.SUGGESTION, {"userId": user, "content": "Try the tram", "status": status}
    )
    return record.id  # type: ignore[attr-defined, no-any-return]


# ------------------------------------------------------------------ HTTP transports of /graphql
TRANSPORTS = [
    "GET",
    "POST",
]  # every HTTP way /graphql takes an operation (WebSocket: its own tests)


async def over(
    client: Any,
    transport: str,
    query: str | None = None,
    *,
    variables: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """Send one operation to /graphql as GET parameters or a POST JSON body; the response."""
    import json

    fields = {"query": query, "variables": variables, "extensions": extensions}
    if transport == "GET":
        params = {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in fields.items()
            if value is not None
        }
        return await client.get("/graphql", params=params, headers=headers or {})
    body = {name: value for name, value in fields.items() if value is not None}
    return await client.post("/graphql", json=body, headers=headers or {})


async def until(check: Any, what: str) -> None:
    """Wait (up to 10 s) for the async `check()` to hold."""
    import asyncio

    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


# ------------------------------------------------------------------ the app over HTTP
SECRET = "test-secret-0123456789-0123456789-abcdef"  # the tests' HS256 secret


async def app_client(aiohttp_client: Any, tmp_path: Path, **settings: Any) -> Any:
    """A test client of the whole app on a SQLite file in `tmp_path`, signed with SECRET."""
    from gql.web.app import create_app
    from gql.web.settings import Settings

    config = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", jwt_secret=SECRET, **settings)
    return await aiohttp_client(create_app(config))


# ------------------------------------------------------------------ both executors
def executors() -> dict[str, Any]:
    """The schema with the level executor and with graphql-core's alone."""
    from gql.schema.build import build_schema

    return {"level": build_schema(fast=True), "graphql-core": build_schema(fast=False)}
