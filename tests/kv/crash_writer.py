"""A writer for the crash test: creates items on one trip, printing each acknowledged id.

Usage: python -m tests.kv.crash_writer STORE_URL TABLE TRIP_ID COUNT
Prints `ready` once the store is open, then one item id per line after its create returns.
"""

from __future__ import annotations

import asyncio
import sys

from gql.kv import entities, open_store
from gql.kv.repo import Repository


async def write(url: str, table: str, trip_id: str, count: int) -> None:
    """Create `count` items on `trip_id`, acknowledging each on stdout."""
    store = open_store(url, table)
    await store.open()
    print("ready", flush=True)
    repo = Repository(store)
    try:
        for n in range(count):
            item = await repo.create(entities.ITEM, {"tripId": trip_id, "title": f"stop {n}"})
            print(item.id, flush=True)  # type: ignore[attr-defined]
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(write(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
