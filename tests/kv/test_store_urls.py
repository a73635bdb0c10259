"""Choosing a backend by URL, and refusing bad URLs and table names."""

from __future__ import annotations

import asyncio

import pytest

from gql.kv import StoreError, open_store
from gql.kv.postgres import PostgresStore
from gql.kv.sqlite import SQLiteStore, path_from_url


def test_scheme_picks_backend() -> None:
    assert isinstance(open_store("sqlite:///data/kv.db"), SQLiteStore)
    assert isinstance(open_store("postgresql://u@h/db", "kv_store_fd8c4bf7"), PostgresStore)
    assert isinstance(open_store("postgres://u@h/db"), PostgresStore)


def test_sqlite_paths() -> None:
    assert path_from_url("sqlite:///data/kv.db") == "data/kv.db"
    assert path_from_url("sqlite:////tmp/kv.db") == "/tmp/kv.db"


def test_bad_urls_and_tables() -> None:
    with pytest.raises(ValueError, match="scheme"):
        open_store("mysql://x")
    with pytest.raises(ValueError, match="table"):
        open_store("sqlite:///x.db", 'kv"; DROP TABLE x; --')
    with pytest.raises(ValueError, match="SQLite file"):
        open_store("sqlite:///:memory:")


async def test_closed_store_raises_store_error() -> None:
    store = open_store("sqlite:///never-opened.db")
    with pytest.raises(StoreError):
        await store.get("a")


async def test_many_stores_can_open_a_new_sqlite_file_at_once(tmp_path: object) -> None:
    # Worker processes start together: switching a new file to WAL must not fail for some.
    stores = [SQLiteStore(f"sqlite:///{tmp_path}/new.db") for _ in range(12)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        await stores[0].set("k", 1)
        assert [await store.get("k") for store in stores] == [1] * 12
    finally:
        for store in stores:
            await store.close()
