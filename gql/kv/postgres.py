"""Postgres backend (asyncpg pool) for an existing Supabase `kv_store_<suffix>` table.

Production roles usually have only SELECT/INSERT/UPDATE/DELETE, and Postgres checks CREATE
on the schema even for `CREATE TABLE IF NOT EXISTS`, so the table's existence is looked up
first (`to_regclass`) and DDL runs only for a missing table. Writers serialize per key with
transaction-scoped advisory locks (taken in key order) plus `SELECT ... FOR UPDATE`, so a
read-modify-write of a key that does not exist yet (a new index) is as safe as one of an
existing row. Each write transaction NOTIFYs the keys it changed before it commits, and
`start_changes` LISTENs for other processes' (`gql.kv.pgchanges`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from gql.kv.base import (
    JSON,
    SCAN_PAGE,
    ConflictError,
    Fault,
    Raw,
    RefusedError,
    Stats,
    Store,
    StoreError,
    TableError,
    TableProblem,
    Transaction,
    chunks,
    dumps,
    loads,
    one_line,
    quote_table,
    unavailable,
    unique,
)
from gql.kv.pgchanges import Listener, channel, notify
from gql.kv.pgtable import hidden_schema, inspect_table, missing_table, schema_denied, value_cast

CHUNK = 5_000  # keys per statement; one array parameter, so this bounds statement size only
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
# Data the server (or asyncpg's encoder) refuses: NUL in text/jsonb, lone surrogates, a key
# too long for the index.
_REFUSED = (asyncpg.DataError, asyncpg.ProgramLimitExceededError)
# InternalClientError: a pooled connection that the server terminated while it was idle can
# fail its next query this way instead of with ConnectionDoesNotExistError.
_UNREACHABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)


def _escape_like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _no_session_state(conn: Any) -> None:
    """What a connection needs undone when it goes back to the pool: nothing but what asyncpg
    always does first (an open transaction rolled back, listeners dropped).

    asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL;` on every release: one more round trip after each read (a board read its
    four batches in eight). kvgraph's pooled connections leave no session state to reset: no
    SET, no cursor, no LISTEN (the change listener has a connection of its own), advisory
    locks only for a transaction (`pg_advisory_xact_lock`).
    """


async def _select(
    conn: Any, table: str, keys: Sequence[str], stats: Stats, lock: str = ""
) -> list[Raw | None]:
    found: dict[str, Raw] = {}
    for part in chunks(unique(keys), CHUNK):
        sql = f"SELECT key, value::text FROM {table} WHERE key = ANY($1::text[]){lock}"
        try:
            rows = await conn.fetch(sql, list(part))
        except _REFUSED as exc:  # a key with NUL or a lone surrogate cannot even be looked up
            raise RefusedError(f"Postgres refused the key: {one_line(exc)}") from exc
        stats.count(len(part))
        found.update(rows)  # (key, text) records: pairs as they are
    return [found.get(key) for key in keys]


class PostgresTransaction(Transaction):
    """A transaction on one pooled connection."""

    def __init__(self, conn: Any, table: str, stats: Stats, store: PostgresStore) -> None:
        self._conn, self._table, self._stats, self._store = conn, table, stats, store
        self.changed: set[str] = set()

    async def get_many(self, keys: Sequence[str]) -> list[JSON | None]:
        # One global lock order (no deadlock within a call); the table name salts the lock,
        # so equal keys in two tables of one database do not block each other.
        ordered = sorted({f"{self._table}\x1f{key}" for key in keys})
        await self._conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 7411)) FROM unnest($1::text[]) k",
            ordered,
        )
        self._stats.count()
        raws = await _select(self._conn, self._table, keys, self._stats, " FOR UPDATE")
        return [loads(raw) for raw in raws]

    async def peek_many(self, keys: Sequence[str]) -> list[JSON | None]:
        # Read committed: each statement sees what was committed before it started.
        return [loads(raw) for raw in await _select(self._conn, self._table, keys, self._stats)]

    async def set_many(self, items: Mapping[str, JSON]) -> None:
        try:
            texts = [dumps(v) for v in items.values()]
        except orjson.JSONEncodeError as exc:
            raise RefusedError(f"Postgres refused the value: {one_line(exc)}") from exc
        await self._upsert(list(items), texts, "::jsonb")

    async def set_many_raw(self, items: Mapping[str, str]) -> None:
        # Cast to the column's own type: a text column keeps the text as it is, a json column
        # checks it is JSON and keeps it, a jsonb column normalizes it (or refuses it).
        cast = await self._store.value_cast(self._conn)
        await self._upsert(list(items), list(items.values()), cast)

    async def _upsert(self, keys: list[str], texts: list[str], cast: str) -> None:
        if not keys:
            return
        self.changed.update(keys)
        sql = (
            f"INSERT INTO {self._table} (key, value) "
            f"SELECT k, v{cast} FROM unnest($1::text[], $2::text[]) AS u(k, v) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        )
        try:
            await self._conn.execute(sql, keys, texts)
        except _REFUSED as exc:
            raise RefusedError(f"Postgres refused the value: {one_line(exc)}") from exc
        self._stats.count()

    async def delete_many(self, keys: Sequence[str]) -> None:
        if keys:
            self.changed.update(keys)
            await self._conn.execute(
                f"DELETE FROM {self._table} WHERE key = ANY($1::text[])", unique(keys)
            )
            self._stats.count()


class PostgresStore(Store):
    """A KV table in Postgres."""

    def __init__(
        self,
        url: str,
        table: str = "kv_store",
        *,
        statement_cache: bool = True,
        min_size: int = 1,
        max_size: int = 10,
        listen_url: str | None = None,
    ) -> None:
        super().__init__()
        self.url, self.table = url, table
        self._table = quote_table(table)
        # LISTEN needs a session: behind a transaction-mode pooler, a direct URL of its own.
        self.listen_url = listen_url or url
        self.channel = channel(table)
        self.origin = uuid.uuid4().hex  # names this process's notifications
        self.listener: Listener | None = None
        # Poolers in transaction mode (Supabase's port 6543, pgbouncer) cannot keep
        # prepared statements across transactions: statement_cache=False turns them off.
        self._pool_args: dict[str, Any] = {
            "min_size": min_size,
            "max_size": max_size,
            "reset": _no_session_state,
        }
        if not statement_cache:
            self._pool_args["statement_cache_size"] = 0
        self._pool: Any = None
        self._cast: str | None = None

    async def value_cast(self, conn: Any) -> str:
        """The cast that writes text into the value column as that column's type."""
        if self._cast is None:
            self._cast = await value_cast(conn, self._table)
        return self._cast

    async def open(self, *, create: bool = True) -> None:
        try:
            self._pool = await asyncpg.create_pool(self.url, **self._pool_args)
        except _UNREACHABLE as exc:
            raise StoreError(f"cannot connect to Postgres: {one_line(exc)}") from exc
        except ValueError as exc:  # asyncpg's parsing of the URL
            raise StoreError(f"invalid Postgres URL: {one_line(exc)}") from exc
        try:
            await self._create_if_missing(create)
        except BaseException:
            await self.close()
            raise

    async def _create_if_missing(self, create: bool) -> None:
        """Create the table only when `to_regclass` does not find it (and `create`)."""
        try:
            async with self._pool.acquire() as conn:
                try:
                    found = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", self._table)
                except asyncpg.InsufficientPrivilegeError as exc:  # no USAGE on its schema
                    role = await conn.fetchval("SELECT current_user")
                    schema = self.table.rpartition(".")[0]
                    raise TableError(schema_denied(schema, role)) from exc
                if not found and (hidden := await hidden_schema(conn, self.table)) is not None:
                    role = await conn.fetchval("SELECT current_user")
                    raise TableError(schema_denied(hidden, role))
                if not found and create:
                    await conn.execute(
                        f"CREATE TABLE IF NOT EXISTS {self._table} "
                        "(key TEXT PRIMARY KEY, value JSONB NOT NULL)"
                    )
        except (asyncpg.InsufficientPrivilegeError, asyncpg.InvalidSchemaNameError) as exc:
            raise TableError(missing_table(self.table, one_line(exc))) from exc
        except _UNREACHABLE as exc:
            raise StoreError(f"cannot open Postgres table {self.table}: {one_line(exc)}") from exc

    async def start_changes(self) -> None:
        if self.listener is None:
            self.listener = Listener(
                self.listen_url, self.channel, self.origin, self.changes, table=self.table
            )
            await self.listener.start()

    async def stop_changes(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None

    async def close(self) -> None:
        await self.stop_changes()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _require_pool(self) -> Any:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    async def ping(self) -> None:
        try:
            await self._require_pool().execute(f"SELECT 1 FROM {self._table} LIMIT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"Postgres store not readable: {exc}") from exc

    async def inspect(self, *, writes: bool = True) -> list[TableProblem]:
        try:
            async with self._require_pool().acquire() as conn:
                try:
                    return await inspect_table(conn, self.table, writes=writes)
                except asyncpg.InsufficientPrivilegeError:  # no USAGE on the named schema
                    role = await conn.fetchval("SELECT current_user")
                    return [schema_denied(self.table.rpartition(".")[0], role)]
        except asyncpg.InvalidSchemaNameError as exc:
            return [TableProblem(Fault.MISSING_TABLE, f"{self.table}: {one_line(exc)}")]
        except _UNREACHABLE as exc:
            raise StoreError(f"Postgres store not reachable: {one_line(exc)}") from exc

    async def get_many_raw(self, keys: Sequence[str]) -> list[Raw | None]:
        with unavailable(_UNREACHABLE, "Postgres read failed"):
            return await _select(self._require_pool(), self._table, keys, self.stats)

    async def scan_prefix_raw(
        self, prefix: str, *, after: str | None = None, limit: int = SCAN_PAGE
    ) -> list[tuple[str, Raw]]:
        sql = (
            f"SELECT key, value::text FROM {self._table} "
            "WHERE key LIKE $1 ESCAPE '\\' AND ($2::text IS NULL OR key > $2) "
            "ORDER BY key LIMIT $3"
        )
        with unavailable(_UNREACHABLE, "Postgres scan failed"):
            rows = await self._require_pool().fetch(sql, _escape_like(prefix) + "%", after, limit)
        self.stats.count(len(rows))
        return [(row[0], row[1]) for row in rows]

    async def list_prefixes_raw(
        self, prefixes: Sequence[str], *, limit: int = SCAN_PAGE
    ) -> list[list[tuple[str, Raw]]]:
        wanted = unique(prefixes)
        # One LIKE per prefix (its wildcards escaped), each under its own LIMIT, by code point.
        sql = (
            "SELECT p.n, t.key, t.value FROM unnest($1::text[]) WITH ORDINALITY AS p(pattern, n) "
            f"CROSS JOIN LATERAL (SELECT key, value::text FROM {self._table} "
            "WHERE key LIKE p.pattern ESCAPE '\\' ORDER BY key COLLATE \"C\" LIMIT $2) t"
        )
        found: dict[str, list[tuple[str, Raw]]] = {prefix: [] for prefix in wanted}
        for part in chunks(wanted, CHUNK):
            patterns = [_escape_like(prefix) + "%" for prefix in part]
            with unavailable(_UNREACHABLE, "Postgres scan failed"):
                rows = await self._require_pool().fetch(sql, patterns, limit)
            for n, key, value in rows:
                found[part[n - 1]].append((key, value))
            self.stats.count(len(part))
        return [sorted(found[prefix]) for prefix in prefixes]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        with unavailable(_UNREACHABLE, "Postgres write failed"):
            async with self._require_pool().acquire() as conn:
                try:
                    async with conn.transaction():
                        tx = PostgresTransaction(conn, self._table, self.stats, self)
                        yield tx
                        if tx.changed:  # NOTIFY the changed keys: delivered if and when it commits
                            await notify(conn, self.channel, self.origin, tx.changed)
                except _RETRYABLE as exc:
                    raise ConflictError(str(exc)) from exc
                self.stats.count()
        if tx.changed:
            self.changes.publish(tx.changed)
