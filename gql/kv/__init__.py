"""The KV store: backends chosen by URL, key registry, records, repositories."""

from __future__ import annotations

from gql.kv.base import JSON, ConflictError, Stats, Store, StoreError, Transaction

__all__ = ["JSON", "ConflictError", "Stats", "Store", "StoreError", "Transaction", "open_store"]


def open_store(
    url: str,
    table: str = "kv_store",
    *,
    pg_statement_cache: bool = True,
    sqlite_busy_timeout: float | None = None,
    listen_url: str | None = None,
) -> Store:
    """Return an unopened store for `url` (`sqlite:///...` or `postgresql://...`);
    `listen_url`: a Postgres session URL for LISTEN, when `url` is a transaction pooler."""
    scheme = url.partition("://")[0]
    if scheme == "sqlite":
        from gql.kv.sqlite import BUSY_TIMEOUT, SQLiteStore

        return SQLiteStore(url, table, busy_timeout=sqlite_busy_timeout or BUSY_TIMEOUT)
    if scheme in {"postgres", "postgresql"}:
        from gql.kv.postgres import PostgresStore

        return PostgresStore(url, table, statement_cache=pg_statement_cache, listen_url=listen_url)
    raise ValueError(f"unsupported store URL scheme {scheme!r}: use sqlite:/// or postgresql://")
