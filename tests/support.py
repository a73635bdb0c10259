"""What several test modules share: backends, the Gateway runner, the trip-board data, the
Node-side checks' packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k

NODE_DIR = Path(__file__).parent / "node"
PG_URL = os.environ.get("KVGRAPH_TEST_POSTGRES_URL", "")
PG_SKIP = "KVGRAPH_TEST_POSTGRES_URL is not set: Postgres backend not tested"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


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

    def __init__(self, schema: object, store: Store) -> None:
        self.schema, self.store = schema, store

    async def run(
        self, query: str, variables: dict | None = None, *, viewer: str | None = None
    ) -> object:
        from resolvers.context import Context

        context = Context(store=self.store, viewer_id=viewer, debug_stats=True)
        return await self.schema.execute(query, variable_values=variables, context_value=context)  # type: ignore[attr-defined]

    async def ok(
        self, query: str, variables: dict | None = None, *, viewer: str | None = None
    ) -> dict:
        """Run and insist on no errors; return `data`."""
        result = await self.run(query, variables, viewer=viewer)
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
    for kind in kinds:
        rows[f"{kind}s:index"] = [f"p{p}" for p in range(6) if kinds[p % 3] == kind]
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
