"""A write cancelled while SQLite waits for the file lock leaves the store usable."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from gql.kv.sqlite import SQLiteStore


async def test_cancelled_while_waiting_for_the_lock(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/kv.db", "kv")
    await store.open()
    other = sqlite3.connect(tmp_path / "kv.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def write() -> None:
            async with store.transaction() as tx:
                await tx.set("k", {"v": 1})

        task = asyncio.create_task(write())
        await asyncio.sleep(0.3)  # BEGIN IMMEDIATE is now waiting in aiosqlite's thread
        task.cancel()
        await asyncio.sleep(0.1)
        other.execute("ROLLBACK")  # the lock is free: the cancelled BEGIN runs now
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        async with store.transaction() as tx:  # and the next write must still work
            await tx.set("k", {"v": 2})
        assert await store.get("k") == {"v": 2}
    finally:
        other.close()
        await store.close()
