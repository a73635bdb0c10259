"""A writer killed with SIGKILL at a random point loses no acknowledged write, leaves no mess."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

import pytest

from gql.kv import Store, entities
from gql.kv.check import scan
from gql.kv.repo import Repository
from tests.support import BACKENDS

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("store_url", BACKENDS, indirect=True)]

TRIALS = 12
ROOT = Path(__file__).resolve().parents[2]


async def run_and_kill(url: str, table: str, trip_id: str, delay: float) -> list[str]:
    """Start a writer, SIGKILL it `delay` seconds after it is ready; return acknowledged ids."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.kv.crash_writer", url, table, trip_id, "100000"),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"ready\n"
    await asyncio.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out = await proc.stdout.read()
    assert await proc.wait() == -signal.SIGKILL
    # only complete lines were acknowledged; a line cut by the kill does not count
    return [line.decode() for line in out.split(b"\n")[:-1]]


async def assert_intact(store: Store, trip_id: str, acknowledged: list[str]) -> None:
    """Every acknowledged item is stored and listed once, in order, and check is clean."""
    index = await store.get(f"items:index:{trip_id}") or []
    assert len(index) == len(set(index))
    listed = set(index)
    assert all(id_ in listed for id_ in acknowledged)
    positions = [index.index(id_) for id_ in acknowledged]
    assert positions == sorted(positions)
    items = await store.get_many([f"item:{id_}" for id_ in index])
    assert all(item is not None and item["tripId"] == trip_id for item in items)
    report = await scan(store)
    assert report.clean, report.problems


async def test_sigkill_loses_no_acknowledged_write(
    store: Store, store_url: tuple[str, str]
) -> None:
    url, table = store_url
    trip = await Repository(store).create(entities.TRIP, {"userId": "crash-user", "title": "Go"})
    trip_id: str = trip.id  # type: ignore[attr-defined]
    rng = random.Random()
    acknowledged: list[str] = []
    for _ in range(TRIALS):
        acknowledged += await run_and_kill(url, table, trip_id, rng.uniform(0.0, 0.25))
        await assert_intact(store, trip_id, acknowledged)
    assert acknowledged, "no writer got a single create acknowledged before its kill"
