"""The store contract: every backend behaves the same (SQLite always, Postgres when set)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from gql.kv import ConflictError, Store
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


async def test_get_missing_is_none(store: Store) -> None:
    assert await store.get("trip:nope") is None


async def test_set_get_roundtrip_keeps_json(store: Store) -> None:
    value = {"id": "t1", "title": "Lisbon", "n": 1.5, "tags": ["a", None], "nested": {"x": True}}
    await store.set("trip:t1", value)
    assert await store.get("trip:t1") == value
    await store.set("trips:index:u1", ["t1", "t2"])
    assert await store.get("trips:index:u1") == ["t1", "t2"]


async def test_set_overwrites(store: Store) -> None:
    await store.set("k", {"v": 1})
    await store.set("k", {"v": 2})
    assert await store.get("k") == {"v": 2}


async def test_get_many_keeps_order_missing_and_duplicates(store: Store) -> None:
    await store.set_many({"a": 1, "b": 2, "c": 3})
    assert await store.get_many(["c", "x", "a", "c", "b"]) == [3, None, 1, 3, 2]
    assert await store.get_many([]) == []


async def test_get_many_10000_keys(store: Store) -> None:
    await store.set_many({f"item:{i:05d}": {"i": i} for i in range(10_000)})
    keys = [f"item:{i:05d}" for i in reversed(range(10_001))]
    values = await store.get_many(keys)
    assert values[0] is None
    assert values[1:] == [{"i": i} for i in reversed(range(10_000))]


async def test_delete_and_delete_many(store: Store) -> None:
    await store.set_many({"a": 1, "b": 2, "c": 3})
    await store.delete("a")
    await store.delete_many(["b", "missing"])
    assert await store.get_many(["a", "b", "c"]) == [None, None, 3]
    await store.delete("missing")  # no error


async def test_unicode_and_quotes(store: Store) -> None:
    value = {"name": 'Café "Ô" \'s 東京 🚲', "x": "\\"}
    await store.set("restaurant:é'\"", value)
    assert await store.get("restaurant:é'\"") == value


async def test_scan_prefix_orders_and_pages(store: Store) -> None:
    await store.set_many({f"trip:{i:03d}": i for i in range(25)} | {"trips:index:u": [], "z": 0})
    first = await store.scan_prefix("trip:", limit=10)
    assert [k for k, _ in first] == [f"trip:{i:03d}" for i in range(10)]
    second = await store.scan_prefix("trip:", after=first[-1][0], limit=10)
    assert [v for _, v in second] == list(range(10, 20))
    rows = [row async for row in store.iter_prefix("trip:", page=7)]
    assert [v for _, v in rows] == list(range(25))


async def test_scan_prefix_takes_wildcards_literally(store: Store) -> None:
    await store.set_many({"a%b:1": 1, "axb:2": 2, "a_c:3": 3, "abc:4": 4, "A%B:5": 5, "a\\d": 6})
    assert [k for k, _ in await store.scan_prefix("a%")] == ["a%b:1"]
    assert [k for k, _ in await store.scan_prefix("a_")] == ["a_c:3"]
    assert [k for k, _ in await store.scan_prefix("a\\")] == ["a\\d"]
    assert await store.scan_prefix("nothing") == []


async def test_transaction_commits_atomically(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.get("idx") is None
        await tx.set_many({"idx": ["a"], "a": {"id": "a"}})
        assert await tx.get("idx") == ["a"]  # reads its own writes
    assert await store.get_many(["idx", "a"]) == [["a"], {"id": "a"}]


async def test_transaction_rolls_back_on_error(store: Store) -> None:
    await store.set("idx", ["a"])
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.set("idx", ["a", "b"])
            await tx.delete("idx")
            raise RuntimeError("boom")
    assert await store.get("idx") == ["a"]


async def test_transactions_serialize_read_modify_write(store: Store) -> None:
    async def append(n: int) -> None:
        for attempt in range(20):
            try:
                async with store.transaction() as tx:
                    ids = await tx.get("counter") or []
                    await asyncio.sleep(0)
                    await tx.set("counter", [*ids, n])
                return
            except ConflictError:
                await asyncio.sleep(0.001 * attempt)

    await asyncio.gather(*(append(n) for n in range(30)))
    assert sorted(await store.get("counter")) == list(range(30))


async def test_round_trips_are_counted(store: Store) -> None:
    before = store.stats.round_trips
    await store.get_many(["a", "b", "c"])
    assert store.stats.round_trips == before + 1
    assert store.stats.keys_read >= 3


async def test_ping_and_reopen(store: Store, make_store: object) -> None:
    await store.ping()
    await store.set("persist", {"ok": True})
    other = make_store()  # type: ignore[operator]
    await other.open()  # CREATE TABLE IF NOT EXISTS on an existing table is harmless
    assert await other.get("persist") == {"ok": True}


async def test_get_many_raw_returns_json_text(store: Store) -> None:
    await store.set_many({"a": {"x": [1, "é"]}, "b": [1, 2]})
    raws = await store.get_many_raw(["b", "missing", "a"])
    assert raws[1] is None
    assert [orjson.loads(r) for r in (raws[0], raws[2])] == [[1, 2], {"x": [1, "é"]}]


async def test_list_prefixes_reads_every_prefix_in_one_round_trip(store: Store) -> None:
    rows = {f"collaborator:t{t}:u{u}": {"u": u} for t in (1, 2, 10) for u in (3, 1, 2)}
    await store.set_many(rows | {"collaborator:t1": 0, "collaborators:t1:x": 0, "trip:t1": 0})
    before = store.stats.round_trips
    found = await store.list_prefixes_raw(
        ["collaborator:t1:", "collaborator:t9:", "collaborator:t10:", "collaborator:t1:"]
    )
    assert store.stats.round_trips == before + 1
    keys = [[key for key, _ in listed] for listed in found]
    assert keys == [
        ["collaborator:t1:u1", "collaborator:t1:u2", "collaborator:t1:u3"],
        [],
        ["collaborator:t10:u1", "collaborator:t10:u2", "collaborator:t10:u3"],
        ["collaborator:t1:u1", "collaborator:t1:u2", "collaborator:t1:u3"],
    ]
    assert orjson.loads(found[0][2][1]) == {"u": 3}
    assert await store.list_prefixes_raw([]) == []


async def test_list_prefixes_limits_each_prefix_and_orders_by_code_point(store: Store) -> None:
    await store.set_many({f"p:a:{c}": 0 for c in ("b", "B", "é", "a", "_")} | {"p:b:1": 0})
    found = await store.list_prefixes_raw(["p:a:", "p:b:"], limit=3)
    assert [[key for key, _ in listed] for listed in found] == [
        ["p:a:B", "p:a:_", "p:a:a"],
        ["p:b:1"],
    ]


async def test_list_prefixes_takes_wildcards_literally(store: Store) -> None:
    await store.set_many({"a%b:1": 1, "axb:2": 2, "a_c:3": 3, "abc:4": 4, "A%B:5": 5, "a\\d": 6})
    found = await store.list_prefixes_raw(["a%", "a_", "a\\", "a", "nothing"])
    assert [[key for key, _ in listed] for listed in found] == [
        ["a%b:1"],
        ["a_c:3"],
        ["a\\d"],
        ["a%b:1", "a\\d", "a_c:3", "abc:4", "axb:2"],
        [],
    ]


async def test_list_prefixes_of_many_parents(store: Store) -> None:
    await store.set_many({f"saved:u{n}:p{n}": n for n in range(1200)})
    prefixes = [f"saved:u{n}:" for n in range(1200)]
    found = await store.list_prefixes_raw(prefixes)
    assert [[key for key, _ in listed] for listed in found] == [
        [f"saved:u{n}:p{n}"] for n in range(1200)
    ]
