"""The change feed: committed writes publish their keys, in-process and across processes
(Postgres LISTEN/NOTIFY with reconnects, SQLite datagrams), and missed changes resync."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from gql.kv import Store, StoreError, open_store
from gql.kv.changes import ChangeFeed, EventReads, Watcher
from gql.kv.changes import read_message as parse
from gql.kv.pgchanges import APPLICATION_NAME, MAX_NOTIFICATIONS, PAYLOAD_BYTES, payloads
from gql.kv.sqlitechanges import DATAGRAM_BYTES, datagrams, folder_of
from tests.support import BACKENDS, PG_URL

WAIT = 20.0  # seconds to wait for a change (generous: these are no timing tests)


async def changes(watcher: Watcher) -> set[str] | None:
    async with asyncio.timeout(WAIT):
        return await watcher.changes()


async def none_within(watcher: Watcher, seconds: float) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            await watcher.changes()


async def test_watchers_hear_their_own_keys_only() -> None:
    feed = ChangeFeed()
    a, b = feed.watcher(["x", "y"]), feed.watcher(["y"])
    feed.publish(["y", "z"])
    assert await changes(a) == {"y"} and await changes(b) == {"y"}
    feed.publish(["x", "x"])
    assert await changes(a) == {"x"}
    await none_within(b, 0.05)
    b.watch(["z"])
    feed.publish(["y", "z"])
    assert await changes(b) == {"z"}
    feed.resync()
    assert await changes(a) is None and await changes(b) is None
    a.close()
    b.close()
    a.close()
    assert len(feed) == 0 and not feed._by_key


async def test_the_watchers_of_one_event_share_its_reads() -> None:
    feed = ChangeFeed()
    a, b, c = feed.watcher(["x"]), feed.watcher(["y"]), feed.watcher(["x"])
    feed.publish(["x", "y"])
    await changes(a), await changes(b)
    first = a.reads()
    assert first is not None and first is b.reads()
    assert a.reads() is None  # handed over once: the watcher keeps no values
    feed.publish(["x"])  # c took nothing yet: it reads as of the latest event
    await changes(a), await changes(c)
    second = a.reads()
    assert second is not None and second is c.reads() and second is not first
    feed.resync()
    await changes(a), await changes(b)
    third = a.reads()
    assert third is not None and third is b.reads() and third is not second


async def test_event_reads_fetch_each_key_once_and_again_after_a_failure() -> None:
    calls: list[list[str]] = []
    gate = asyncio.Event()

    async def fetch(keys: Sequence[Any]) -> list[str]:
        calls.append(list(keys))
        failing = len(calls) == 1  # the first fetch fails
        await gate.wait()
        if failing:
            raise OSError("store down")
        return [f"v-{key}" for key in keys]

    reads = EventReads()
    first = asyncio.ensure_future(reads.read(["a", "b"], fetch))
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(reads.read(["b", "a", "c"], fetch))
    await asyncio.sleep(0)
    assert calls == [["a", "b"], ["c"]]  # b and a are being fetched: it waits for them
    gate.set()
    with pytest.raises(OSError, match="store down"):
        await first
    assert await waiting == ["v-b", "v-a", "v-c"]  # read again by the one that waited
    assert calls == [["a", "b"], ["c"], ["b", "a"]]
    assert await reads.read(["c", "a"], fetch) == ["v-c", "v-a"] and len(calls) == 3


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_committed_write_publishes_its_keys(store: Store) -> None:
    watcher = store.changes.watcher(["a", "b", "gone"])
    await store.set_many({"a": {"n": 1}, "c": {"n": 2}})
    assert await changes(watcher) == {"a"}
    await store.delete("gone")
    assert await changes(watcher) == {"gone"}
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.set("b", {"n": 3})
            raise RuntimeError("rolled back")
    await none_within(watcher, 0.2)  # a rolled-back write publishes nothing
    watcher.close()


def test_notify_payloads_stay_under_the_limit_or_become_a_marker() -> None:
    keys = [f"message:{n:05}-{'x' * 40}" for n in range(400)]
    sent = payloads("o1", keys)
    assert len(sent) > 1 and all(len(p.encode()) < PAYLOAD_BYTES for p in sent)
    assert sorted(k for p in sent for k in parse(p)[1] or []) == sorted(keys)
    assert {parse(p)[0] for p in sent} == {"o1"}
    many = [f"k{n:06}-{'y' * 60}" for n in range(MAX_NOTIFICATIONS * 200)]
    assert [parse(p) for p in payloads("o1", many)] == [("o1", None)]  # one resync marker
    assert [parse(p) for p in payloads("o1", ["z" * 9_000])] == [("o1", None)]
    assert parse("not json") == (None, None)


def test_datagrams_split_or_become_a_marker() -> None:
    keys = [f"item:{n:06}-{'x' * 50}" for n in range(3_000)]
    sent = datagrams(keys)
    assert len(sent) > 1 and all(len(d) <= DATAGRAM_BYTES for d in sent)
    assert sorted(k for d in sent for k in orjson.loads(d)["k"]) == sorted(keys)
    assert datagrams(["z" * (DATAGRAM_BYTES + 1)]) == [orjson.dumps({"all": True})]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_write_in_one_process_reaches_another(make_store: Callable[[], Store]) -> None:
    """Two stores on one table stand for two processes (each relays as its process would)."""
    writer, reader = make_store(), make_store()
    for store in (writer, reader):
        await store.open()
        await store.start_changes()
    watcher = reader.changes.watcher(["messages:index:c1"])
    await none_within(watcher, 0.2)  # nothing yet
    await writer.set("messages:index:c1", ["m1"])
    assert await _next_keys(watcher) == {"messages:index:c1"}
    mine = writer.changes.watcher(["messages:index:c1"])
    await writer.set("messages:index:c1", ["m1", "m2"])
    assert await changes(mine) == {"messages:index:c1"}  # in-process, once
    await none_within(mine, 0.3)  # its own notification is not published twice
    watcher.close()
    mine.close()


async def _next_keys(watcher: Watcher) -> set[str] | None:
    """The next change that is not a resync (a listener's first session resyncs)."""
    while True:
        found = await changes(watcher)
        if found is not None:
            return found


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_transaction_too_big_to_notify_resyncs_the_others(
    make_store: Callable[[], Store],
) -> None:
    writer, reader = make_store(), make_store()
    for store in (writer, reader):
        await store.open()
        await store.start_changes()
    watcher = reader.changes.watcher(["k000001"])
    await asyncio.sleep(0.1)
    resyncs = reader.changes.resyncs
    await writer.set_many({f"k{n:06}-{'x' * 80}": {"n": n} for n in range(20_000)})
    for _ in range(400):
        if reader.changes.resyncs > resyncs:
            break
        await asyncio.sleep(0.05)
    assert reader.changes.resyncs > resyncs
    watcher.close()


@pytest.mark.parametrize("store_url", BACKENDS[1:], indirect=True)
async def test_the_listener_reconnects_and_resyncs_after_pg_terminate_backend(
    make_store: Callable[[], Store], store_url: tuple[str, str]
) -> None:
    writer, reader = make_store(), make_store()
    for store in (writer, reader):
        await store.open()
        await store.start_changes()
    listener = reader.listener  # type: ignore[attr-defined]
    assert listener is not None and listener.connected.is_set()
    pid, sessions = listener.pid, listener.connections
    watcher = reader.changes.watcher(["trip:t1"])
    resyncs = reader.changes.resyncs
    conn = await asyncpg.connect(PG_URL)
    try:
        name = await conn.fetchval(
            "SELECT application_name FROM pg_stat_activity WHERE pid = $1", pid
        )
        assert name == f"{APPLICATION_NAME} {store_url[1]}"
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    await writer.set("trip:t1", {"id": "t1", "userId": "u", "title": "missed?"})  # maybe unheard
    for _ in range(400):
        if listener.connections > sessions and listener.connected.is_set():
            break
        await asyncio.sleep(0.05)
    assert listener.connections > sessions and listener.pid != pid
    assert reader.changes.resyncs > resyncs  # whatever was missed is read again
    while watcher._pending or watcher._resync:
        await changes(watcher)
    await writer.set("trip:t1", {"id": "t1", "userId": "u", "title": "later"})
    assert await _next_keys(watcher) == {"trip:t1"}
    watcher.close()


@pytest.mark.parametrize("store_url", BACKENDS[1:], indirect=True)
async def test_a_listen_url_of_its_own(store_url: tuple[str, str]) -> None:
    url, table = store_url
    store = open_store("postgresql://nobody@127.0.0.1:1/none", table, listen_url=PG_URL)
    assert store.listen_url == PG_URL  # type: ignore[attr-defined]
    direct = open_store(url, table)
    assert direct.listen_url == url  # type: ignore[attr-defined]


# ---------------------------------------------------------------- SQLite's socket folder
def _wide_open(folder: Path) -> None:
    folder.mkdir()
    folder.chmod(0o777)


def _symlink(folder: Path) -> None:
    target = folder.parent / "elsewhere"
    target.mkdir(mode=0o700)
    folder.symlink_to(target)


def _a_file(folder: Path) -> None:
    folder.write_text("")


def _someone_elses(folder: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can give a folder to another user")
    folder.mkdir(mode=0o700)
    os.chown(folder, 54321, 54321)


def _sockets(temp_dir: Path) -> list[Path]:
    return list(temp_dir.glob("*/*.sock"))


@pytest.fixture
def temp_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh temporary folder, as sticky as /tmp, that kvgraph takes for the system's (short:
    a socket's path has at most 107 bytes)."""
    found = Path(tempfile.mkdtemp(prefix="kvg-"))
    found.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(found))
    yield found
    shutil.rmtree(found)


@pytest.mark.parametrize(
    ("plant", "said"),
    [
        (_wide_open, "others may write to it"),
        (_symlink, "a symbolic link"),
        (_a_file, "not a folder"),
        (_someone_elses, "belongs to another user"),
    ],
)
async def test_a_socket_folder_someone_else_could_have_made_is_refused(
    temp_dir: Path, plant: Callable[[Path], None], said: str
) -> None:
    """The folder's name is known to every user of the machine: one found there must be this
    user's own, private folder, else a stranger could read or forge the relayed changes."""
    path = str(temp_dir / "kv.db")
    plant(folder_of(path))
    store = open_store(f"sqlite:///{path}")
    await store.open()
    try:
        with pytest.raises(StoreError, match=said) as refused:
            await store.start_changes()
    finally:
        await store.close()
    assert str(folder_of(path)) in str(refused.value)
    assert not _sockets(temp_dir)  # none bound, in it or where it points


async def test_the_socket_folder_is_made_private(temp_dir: Path) -> None:
    path = str(temp_dir / "kv.db")
    old = os.umask(0)  # even with nothing masked
    try:
        store = open_store(f"sqlite:///{path}")
        await store.open()
        try:
            await store.start_changes()
        finally:
            await store.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder_of(path).lstat().st_mode) == 0o700
