"""Many keys read from SQLite in one aggregated row (`gql.kv.sqlite.AGGREGATE`) give exactly
what reading them row by row gives, whatever the stored values are."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from gql.kv import sqlite as kvsqlite
from gql.kv.base import StoreError
from gql.kv.sqlite import SQLiteStore

TEXTS = [
    '{"id": "plain", "title": "Lisbon"}',
    '{"title": "quote \\" backslash \\\\ tab \\t"}',
    '{"t": "ünïcødé ✈️ 日本"}',
    "not json at all",
    "",
    "nul \x00 inside",
    "control \x01\x1f and \x7f",
    '"just a string"',
    '{"n": 12345678901234567890123456789}',
    "line\nbreaks\r\n",
    "  spaces around  ",
    "[" * 2000 + "]" * 2000,
]


def _seed(path: Path, rows: list[tuple[str, Any]], value_type: str = "TEXT") -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value {value_type} NOT NULL)"
    )
    conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", rows)
    conn.close()


async def _both(path: Path, keys: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The values of `keys` read aggregated, then row by row."""
    store = SQLiteStore(f"sqlite:///{path}", "kv")
    await store.open()
    try:
        aggregated = await store.get_many_raw(keys)
        with monkeypatch.context() as patch:  # aiosqlite's reader, row by row
            patch.setattr(kvsqlite, "AGGREGATE_FROM", 10**9)
            patch.setattr(store, "_inline", None)
            by_row = await store.get_many_raw(keys)
    finally:
        await store.close()
    return aggregated, by_row


JOINABLE = [text for text in TEXTS if kvsqlite.SEPARATOR not in text]
AGGREGATED, PLAIN = kvsqlite.AGGREGATE.split(" FROM ")[0], "SELECT key, value"


def _reads(sent: list[str]) -> list[str]:
    """The reads among the statements sent (not the table's checks)."""
    return [sql for sql in sent if sql in (AGGREGATED, PLAIN)]


async def test_texts_come_back_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sent: list[str]
) -> None:
    rows = [(f"k:{n}", JOINABLE[n % len(JOINABLE)]) for n in range(200)]
    _seed(tmp_path / "kv.db", rows)
    keys = [key for key, _ in rows] + ["k:missing", "k:3", "k:0"]  # missing, repeated
    sent.clear()
    aggregated, by_row = await _both(tmp_path / "kv.db", keys, monkeypatch)
    assert aggregated == by_row == [*(text for _, text in rows), None, JOINABLE[3], JOINABLE[0]]
    assert _reads(sent) == [AGGREGATED, PLAIN]  # (the second: `_both`'s row-by-row read)


@pytest.mark.parametrize("where", ["value", "key"])
async def test_the_separator_in_a_text_or_a_key_reads_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sent: list[str], where: str
) -> None:
    """A stored text (never valid JSON) or a key holding U+001F would split into too many
    parts: that batch is read row by row, and every text comes back exactly."""
    rows = [(f"k:{n}", TEXTS[n % len(TEXTS)]) for n in range(60)]
    if where == "key":
        rows = [(f"k:{n}", JOINABLE[n % len(JOINABLE)]) for n in range(60)]
        rows[7] = ("k:\x1fodd", JOINABLE[0])
    _seed(tmp_path / "kv.db", rows)
    keys = [key for key, _ in rows]
    sent.clear()
    aggregated, by_row = await _both(tmp_path / "kv.db", keys, monkeypatch)
    assert aggregated == by_row == [text for _, text in rows]
    assert _reads(sent) == [AGGREGATED, PLAIN, PLAIN]  # aggregated, given up; `_both`'s


async def test_keys_that_are_no_text_read_as_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misshapen table whose key column turns numeric keys into numbers: such a batch is
    read row by row, so it finds what the row-by-row read finds, whatever the batch size."""
    conn = sqlite3.connect(tmp_path / "kv.db", isolation_level=None)
    conn.execute("CREATE TABLE kv (key NUMERIC PRIMARY KEY, value TEXT NOT NULL)")
    conn.executemany("INSERT INTO kv VALUES (?, ?)", [(f"k:{n}", '"v"') for n in range(30)])
    conn.execute("INSERT INTO kv VALUES ('123', '\"number\"')")  # stored as the integer 123
    conn.close()
    keys = [*(f"k:{n}" for n in range(30)), "123"]
    aggregated, by_row = await _both(tmp_path / "kv.db", keys, monkeypatch)
    assert aggregated == by_row
    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    await store.open()
    try:
        async with store.transaction() as tx:  # a write's reads: row by row too
            assert [await tx.get_many(keys)] == [[*(["v"] * 30), None]]
    finally:
        await store.close()


async def test_no_key_found_reads_nothing(tmp_path: Path) -> None:
    """An aggregated read that finds none of its keys (SQLite joins nothing into NULL)."""
    _seed(tmp_path / "kv.db", [("k:0", TEXTS[0])])
    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    await store.open()
    try:
        assert await store.get_many_raw([f"none:{n}" for n in range(40)]) == [None] * 40
    finally:
        await store.close()


@pytest.mark.parametrize(
    "odd", [42, 4.5, b"\x00\xff blob", "bad utf-8"], ids=["integer", "real", "blob", "utf8"]
)
async def test_values_that_are_no_text_read_as_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: Any
) -> None:
    """An existing table may hold other types, or bytes that are not UTF-8, in its value
    column: such a batch is read row by row, as before."""
    rows: list[tuple[str, Any]] = [(f"k:{n}", TEXTS[0]) for n in range(100)]
    _seed(tmp_path / "kv.db", rows, value_type="")  # no affinity: numbers stay numbers
    conn = sqlite3.connect(tmp_path / "kv.db", isolation_level=None)
    if odd == "bad utf-8":  # text whose bytes are not UTF-8
        conn.execute("UPDATE kv SET value = CAST(X'7B22C3' AS TEXT) WHERE key = 'k:7'")
    else:
        conn.execute("UPDATE kv SET value = ? WHERE key = 'k:7'", (odd,))
    conn.close()
    keys = [key for key, _ in rows]
    try:
        aggregated: Any = await _both(tmp_path / "kv.db", keys, monkeypatch)
    except Exception as exc:  # the row-by-row read refuses it: so must the aggregated one
        aggregated = type(exc)
    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    await store.open()
    monkeypatch.setattr(kvsqlite, "AGGREGATE_FROM", 10**9)
    inline, store._inline = store._inline, None  # aiosqlite's reader, row by row
    try:
        expected: Any = await store.get_many_raw(keys)
    except Exception as exc:
        expected = type(exc)
    finally:
        store._inline = inline
        await store.close()
    if isinstance(aggregated, tuple):
        assert aggregated[0] == aggregated[1] == expected
    else:
        assert aggregated == expected


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements aiosqlite's connections run from now on (up to their FROM)."""
    statements: list[str] = []
    execute = aiosqlite.Connection.execute_fetchall

    def spy(self: aiosqlite.Connection, sql: str, *args: Any) -> Any:
        statements.append(sql.split(" FROM ")[0])
        return execute(self, sql, *args)

    monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", spy)
    return statements


async def test_a_batch_of_many_keys_is_one_aggregated_statement(
    tmp_path: Path, sent: list[str]
) -> None:
    """The board's levels (50 trips, 2,000 items) are read aggregated; a batch holding a value
    of another type first aggregated, then row by row."""
    rows = [(f"k:{n}", TEXTS[0]) for n in range(100)]
    _seed(tmp_path / "kv.db", rows)
    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    await store.open()
    try:
        sent.clear()
        assert await store.get_many_raw([key for key, _ in rows[:50]]) == [TEXTS[0]] * 50
        assert await store.get_many_raw(["k:1", "k:2"]) == [TEXTS[0]] * 2
        conn = sqlite3.connect(tmp_path / "kv.db", isolation_level=None)
        conn.execute("UPDATE kv SET value = X'00FF' WHERE key = 'k:9'")
        conn.close()
        assert (await store.get_many_raw([key for key, _ in rows]))[9:10] == [b"\x00\xff"]
    finally:
        await store.close()
    aggregated = kvsqlite.AGGREGATE.split(" FROM ")[0]
    plain = "SELECT key, value"
    assert sent == [aggregated, aggregated, plain]  # (the 2 keys: on the loop, unseen here)


async def test_a_few_keys_are_read_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sent: list[str]
) -> None:
    """Fewer than AGGREGATE_FROM keys: no trip through aiosqlite's thread; whatever the loop's
    connection cannot read at once goes there (and says what it is)."""
    rows = [(f"k:{n}", TEXTS[n]) for n in range(len(TEXTS))]
    _seed(tmp_path / "kv.db", rows)
    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    await store.open()
    try:
        sent.clear()
        keys = [key for key, _ in rows] + ["k:missing", "k:0"]
        assert await store.get_many_raw(keys) == [*TEXTS, None, TEXTS[0]]
        assert sent == []

        class Busy:
            def execute(self, *_args: Any) -> Any:
                raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(store, "_inline", Busy())
        assert await store.get_many_raw(["k:0", "k:1"]) == TEXTS[:2]
        assert len(sent) == 1  # the reader's thread read them
    finally:
        monkeypatch.setattr(store, "_inline", None)
        await store.close()


async def test_text_that_is_not_utf8_fails_as_before(tmp_path: Path) -> None:
    _seed(tmp_path / "kv.db", [("k:0", TEXTS[0])])
    conn = sqlite3.connect(tmp_path / "kv.db", isolation_level=None)
    conn.execute("INSERT INTO kv VALUES ('k:bad', CAST(X'7B22C3' AS TEXT))")
    conn.close()
    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    await store.open()
    try:
        with pytest.raises(StoreError, match="SQLite read failed"):
            await store.get_many_raw(["k:0", "k:bad"])
        assert await store.get_many_raw(["k:0"]) == [TEXTS[0]]
    finally:
        await store.close()


def test_a_store_used_from_another_thread_reads_through_the_reader(tmp_path: Path) -> None:
    """The loop's connection belongs to the thread that opened the store; from another one
    (an embedding application's), reads go to aiosqlite's thread and closing still works."""
    import asyncio
    import threading

    _seed(tmp_path / "kv.db", [("k:0", TEXTS[0])])
    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    asyncio.run(store.open())
    found: list[Any] = []

    async def elsewhere() -> None:
        try:
            found.append(await store.get_many_raw(["k:0"]))
        finally:
            await store.close()

    thread = threading.Thread(target=lambda: asyncio.run(elsewhere()))
    thread.start()
    thread.join()
    assert found == [[TEXTS[0]]]


async def test_a_locked_file_is_not_waited_for_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An aggregated read that gave up waiting for a lock says so (the row-by-row read would
    wait the busy timeout once more)."""
    _seed(tmp_path / "kv.db", [(f"k:{n}", TEXTS[0]) for n in range(40)])
    sent: list[str] = []

    def locked(self: aiosqlite.Connection, sql: str, *args: Any) -> Any:
        sent.append(sql)
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
        raise error

    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    await store.open()
    try:
        monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", locked)
        with pytest.raises(StoreError):
            await store.get_many_raw([f"k:{n}" for n in range(40)])
    finally:
        monkeypatch.undo()
        await store.close()
    assert len(sent) == 1


async def test_a_read_seen_before_hands_back_the_same_strings(tmp_path: Path) -> None:
    """The same aggregated texts are split once: a second read of them returns the very
    strings of the first (so later comparisons are identity checks), and a changed value,
    by this store or by another writer, is read afresh."""
    rows = [(f"k:{n}", JOINABLE[n % len(JOINABLE)]) for n in range(40)]
    _seed(tmp_path / "kv.db", rows)
    keys = [key for key, _ in rows]
    store = SQLiteStore(f"sqlite:///{tmp_path / 'kv.db'}", "kv")
    await store.open()
    try:
        first = await store.get_many_raw(keys)
        second = await store.get_many_raw(keys)
        assert first == second == [text for _, text in rows]
        assert all(a is b for a, b in zip(first, second, strict=True))
        await store.set_many_raw({"k:5": '{"changed": 1}'})
        conn = sqlite3.connect(tmp_path / "kv.db", isolation_level=None)
        conn.execute("UPDATE kv SET value = '{\"elsewhere\": 2}' WHERE key = 'k:6'")
        conn.close()
        third = await store.get_many_raw(keys)
        assert third[5:7] == ['{"changed": 1}', '{"elsewhere": 2}']
        assert third[:5] == first[:5] and third[7:] == first[7:]
        assert await store.get_many_raw(keys) == third
        # As many keys, the same first and last, others between: looked up alike, read anew.
        await store.set_many_raw({f"other:{n}": f'"{n}"' for n in range(38)})
        others = [keys[0], *(f"other:{n}" for n in range(38)), keys[-1]]
        assert await store.get_many_raw(others) == [
            third[0],
            *(f'"{n}"' for n in range(38)),
            third[-1],
        ]
    finally:
        await store.close()


def test_the_split_reads_kept_are_bounded() -> None:
    """At most `chars` characters of aggregated text are kept, the least recently read
    dropped first; a read bigger than the bound is split and not kept."""
    decoded = kvsqlite._Decoded(chars=100)

    def read(n: int, value: str) -> Any:
        return decoded.pairs([f"k:{n}"], f"k:{n}", f'["{value}"]', 1)

    first = read(1, "a")  # 3 + 5 characters
    assert read(1, "a") is first  # recognised
    changed = read(1, "b")
    assert changed == (("k:1", '["b"]'),) and changed is not first
    for n in range(2, 6):  # 3 + 24 characters each
        read(n, "y" * 20)
        assert decoded.held <= decoded.chars
    assert [key for _, key, _ in decoded._found] == ["k:3", "k:4", "k:5"]  # the oldest first
    kept = read(3, "y" * 20)
    assert read(3, "y" * 20) is kept and list(decoded._found)[-1] == (1, "k:3", "k:3")
    held = decoded.held
    big = read(9, "z" * 200)
    assert big == (("k:9", f'["{"z" * 200}"]'),) and read(9, "z" * 200) is not big
    assert decoded.held == held
    assert decoded.pairs(["k:1"], "k:1", "two\x1fparts", 1) is None and decoded.held == held


def test_a_read_of_other_rows_with_the_same_texts_is_split_again() -> None:
    """Joined texts equal to a kept read's but from fewer rows (a key and a text holding the
    separator, after the rows they looked like were deleted) are not that read."""
    decoded = kvsqlite._Decoded(chars=1000)
    part = ["a", "a\x1fb", "b"]
    assert decoded.pairs(part, "a\x1fb", "va\x1fvb", 2) == (("a", "va"), ("b", "vb"))
    assert decoded.pairs(part, "a\x1fb", "va\x1fvb", 1) is None
