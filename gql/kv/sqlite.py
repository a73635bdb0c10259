"""SQLite backend (aiosqlite): the embedded default store.

Three connections: reads of a few keys run on the event loop's own, other reads share
aiosqlite's reader, writers take turns on the writer under a lock, each transaction opened
with `BEGIN IMMEDIATE` so a read-then-write never fails half-way with "database is
locked". WAL lets readers run beside the writer and, with `synchronous=NORMAL`,
a commit survives the process being killed (not a power cut). The table is created only when
it is missing, so an existing file that is read-only opens and is reported, not changed.
Committed writes are published on the change feed, and to the other processes serving the
file once `start_changes` has run (`gql.kv.sqlitechanges`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import orjson

from gql.kv.base import (
    JSON,
    SCAN_PAGE,
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
    quote_table,
    unavailable,
    unique,
)
from gql.kv.recent import Recent
from gql.kv.sqlitechanges import SocketRelay
from gql.kv.sqlitetable import Column, affinity, file_problems, missing_file, shape_problems

CHUNK = 4_000  # keys per statement: well under SQLite's limit of 32,766 bound variables
PREFIX_CHUNK = 500  # prefixes per statement (4 variables each; a compound SELECT of 500)
# Seconds a statement waits for another process's lock on the file (and a write for this
# process's writer), then fails: StoreError, a 503. The server passes its own, shorter than
# its execution timeout (`KVGRAPH_SQLITE_BUSY_TIMEOUT`).
BUSY_TIMEOUT = 10.0
# The file is locked past the busy timeout, read-only, gone or damaged: the store is unavailable.
_FAULTS = (sqlite3.Error,)
WAL_ATTEMPTS = 40


def path_from_url(url: str) -> str:
    """Return the file path of a `sqlite:///relative` or `sqlite:////absolute` URL."""
    path = url.removeprefix("sqlite://")
    if not path.startswith("/") or path == "/":
        raise ValueError(
            f"invalid SQLite URL {url!r}: use sqlite:///relative.db or sqlite:////abs.db"
        )
    path = path[1:]
    if path in {"", ":memory:"}:
        raise ValueError("kvgraph needs a SQLite file (readers and writers use two connections)")
    return path


async def _connect(path: str, busy_timeout: float = BUSY_TIMEOUT) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {round(busy_timeout * 1000)}")
        await _wal(conn)
        await conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await conn.close()  # its thread would otherwise keep the process alive
        raise
    return conn


async def _wal(conn: aiosqlite.Connection) -> None:
    """Switch to WAL, waiting for other processes opening the same new file at the same time.

    Changing the journal mode needs an exclusive lock and SQLite reports "database is locked"
    at once instead of using the busy timeout, so it is retried here.
    """
    for attempt in range(WAL_ATTEMPTS):
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))


async def _rollback(conn: aiosqlite.Connection) -> None:
    """Undo whatever the writer connection has open, after an error or a cancellation.

    A cancelled `await` does not stop aiosqlite's thread: a `BEGIN IMMEDIATE` waiting for the
    file lock still runs once the lock is free, and would leave the connection inside a
    transaction that every later write trips over. The ROLLBACK is queued behind it (aiosqlite
    runs one connection's statements in order) and shielded, so it runs even when this task
    is being cancelled; "no transaction is active" means there was nothing to undo.
    """
    try:
        await asyncio.shield(conn.execute("ROLLBACK"))
    except sqlite3.OperationalError as exc:
        if "no transaction" not in str(exc):
            raise


async def _select(
    conn: aiosqlite.Connection,
    table: str,
    keys: Sequence[str],
    stats: Stats,
    decoded: _Decoded | None = None,
    joined: bool = True,
) -> list[Raw | None]:
    found: dict[str, Raw] = {}
    wanted = unique(keys)
    for part in chunks(wanted, CHUNK):
        marks = ",".join("?" * len(part))
        try:
            rows = await _aggregated(conn, table, marks, part, decoded) if joined else None
            if rows is None:
                sql = KEYED.format(table, marks)
                rows = await conn.execute_fetchall(sql, part)  # type: ignore[assignment]
        except UnicodeEncodeError as exc:  # a lone surrogate cannot be bound as UTF-8
            raise RefusedError(f"SQLite cannot hold the key: {exc}") from exc
        stats.count(len(part))
        found.update(rows)  # type: ignore[arg-type]
    return [found.get(key) for key in keys]


# Many rows come back as one: sqlite3 releases and takes back the GIL for every row it steps
# through, and while the event loop is busy each take waits for it (a convoy: 8 concurrent
# boards served fewer requests a second than one at a time). Aggregated, the rows are one
# step: the keys joined by one separator, the texts by the same, exactly as stored. The
# separator is U+001F, which JSON text never holds raw (a control character in a string is
# escaped), so splitting gives the texts back; a key or a stored text that holds one anyway
# splits into too many parts and the read goes row by row, as it does for values that are not
# text or text that is not UTF-8, and always for a table whose key column has a numeric
# affinity (keys that look like numbers are stored as numbers: joined, they would read as
# text). (Joining costs SQLite a copy; `json_group_array` escaped every character, a third
# more time.)
AGGREGATE_FROM = 16
KEYED = "SELECT key, value FROM {} WHERE key IN ({})"  # the row-by-row read
SEPARATOR = "\x1f"
AGGREGATE = (
    "SELECT group_concat(key, char(31)), "
    "group_concat(CASE typeof(value) WHEN 'text' THEN value END, char(31)), "
    "sum(typeof(value) <> 'text'), count(*) FROM {} WHERE key IN ({})"
)


async def _aggregated(
    conn: aiosqlite.Connection,
    table: str,
    marks: str,
    part: Sequence[str],
    decoded: _Decoded | None,
) -> Iterable[tuple[str, str]] | None:
    """The (key, value) pairs of `part` read as one AGGREGATE row, or None to read them row by
    row (too few keys, a value that is not text, text that is not UTF-8, any error: the
    row-by-row read says what it is, without quoting the other values); `decoded`: the
    store's earlier reads, to recognise this one."""
    if len(part) < AGGREGATE_FROM:
        return None
    try:
        ((keys, values, others, count),) = await conn.execute_fetchall(
            AGGREGATE.format(table, marks), part
        )
    except sqlite3.Error as exc:
        if _busy(exc):
            raise  # it waited its busy timeout already: not once more row by row
        return None
    if not count:
        return ()
    if others:
        return None
    if decoded is None:
        return _pairs(keys, values, count)
    return decoded.pairs(part, keys, values, count)


def _pairs(keys: str, values: str, count: int) -> Pairs | None:
    """An aggregated row's `count` (key, text) pairs; None if a key or a text holds the
    separator (it splits into more parts)."""
    split_keys, split_values = keys.split(SEPARATOR), values.split(SEPARATOR)
    if len(split_keys) != count or len(split_values) != count:
        return None
    return tuple(zip(split_keys, split_values, strict=True))


class _Decoded(Recent[tuple[int, str, str], tuple[str, str, "Pairs"]]):
    """Aggregated reads split before: a read whose two texts equal those of the last read of
    the same keys gives the very strings it gave then.

    The same board read again returns the same texts: comparing them costs a fraction of
    splitting them, and handing back the very strings of last time makes every later
    comparison of a record's text with the one it was validated from (`validate_raws`) an
    identity check instead of a comparison of hundreds of bytes. A read is looked up by how
    many keys it asked for and its first and last (not all of them: hashing thousands of
    fresh key strings cost more than the comparison); the texts decide, so another read
    under the same look-up is only a miss. At most `chars` characters of aggregated text
    are kept (with the strings split from them), the least recently read dropped first; one
    read bigger than that is not kept at all.
    """

    def pairs(self, part: Sequence[str], keys: str, values: str, count: int) -> Pairs | None:
        """The `count` (key, text) pairs of this aggregated row; None if it does not split."""
        asked = (len(part), part[0], part[-1])
        last = self.get(asked)
        if last is not None and len(last[2]) == count and last[0] == keys and last[1] == values:
            return last[2]
        found = _pairs(keys, values, count)
        if found is not None:
            self.keep(asked, (keys, values, found), len(keys) + len(values))
        return found


Pairs = tuple[tuple[str, str], ...]
DECODED_CHARS = 8_000_000  # aggregated text a store keeps to recognise a read (a board: 0.8 M)


def _busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for a lock (SQLITE_BUSY or SQLITE_LOCKED)."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


# A few keys are read on the event loop's own connection: handing them to aiosqlite's thread
# and back costs more than the read (a point read takes microseconds), and each handoff of
# the GIL between the loop and that thread makes both wait (under 4 concurrent clients the
# loop spent a quarter of its time in such waits, py-spy showed). The connection never
# waits for a lock (busy timeout 0) and only reads; whatever it cannot do at once (a lock
# during recovery, text that is not UTF-8, any error) goes to aiosqlite's reader, which
# waits and says what it is. (SQLite may still retry a WAL read a little on its own while a
# checkpoint restarts the log: rare, and short.)
def _connect_inline(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 0")
    conn.execute("PRAGMA query_only = 1")
    return conn


def _select_inline(
    conn: sqlite3.Connection, table: str, keys: Sequence[str], stats: Stats
) -> list[Raw | None] | None:
    """`keys`' values read at once on the loop's connection, or None to read them in the
    reader's thread instead."""
    wanted = unique(keys)
    sql = KEYED.format(table, ",".join("?" * len(wanted)))
    try:
        found: dict[str, Raw] = dict(conn.execute(sql, wanted).fetchall())
    except (sqlite3.Error, UnicodeEncodeError):
        return None
    stats.count(len(wanted))
    return [found.get(key) for key in keys]


class SQLiteTransaction(Transaction):
    """A write transaction on the writer connection."""

    def __init__(
        self, conn: aiosqlite.Connection, table: str, stats: Stats, *, joined: bool = True
    ) -> None:
        self._conn, self._table, self._stats, self._joined = conn, table, stats, joined
        self.changed: set[str] = set()

    async def get_many(self, keys: Sequence[str]) -> list[JSON | None]:
        found = await _select(self._conn, self._table, keys, self._stats, joined=self._joined)
        return [loads(raw) for raw in found]

    async def set_many(self, items: Mapping[str, JSON]) -> None:
        try:
            rows = [(k, dumps(v)) for k, v in items.items()]
        except orjson.JSONEncodeError as exc:
            raise RefusedError(f"SQLite cannot hold the value: {exc}") from exc
        await self._upsert(rows)

    async def set_many_raw(self, items: Mapping[str, str]) -> None:
        await self._upsert(list(items.items()))

    async def _upsert(self, rows: list[tuple[str, str]]) -> None:
        if not rows:
            return
        self.changed.update(key for key, _ in rows)
        sql = (
            f"INSERT INTO {self._table} (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        try:
            await self._conn.executemany(sql, rows)
        except (UnicodeEncodeError, sqlite3.DataError) as exc:
            raise RefusedError(f"SQLite cannot hold the value: {exc}") from exc
        self._stats.count()

    async def delete_many(self, keys: Sequence[str]) -> None:
        self.changed.update(keys)
        for part in chunks(unique(keys), CHUNK):
            sql = f"DELETE FROM {self._table} WHERE key IN ({','.join('?' * len(part))})"
            await self._conn.execute(sql, part)
            self._stats.count()


class SQLiteStore(Store):
    """A KV table in a SQLite file."""

    def __init__(
        self, url: str, table: str = "kv_store", *, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        super().__init__()
        self.url, self.path, self.table = url, path_from_url(url), table
        self.busy_timeout = busy_timeout
        self._table = quote_table(table)
        schema, _, name = table.rpartition(".")
        self._names = (name, schema or "main")  # the arguments of pragma_table_info & co.
        self._reader: aiosqlite.Connection | None = None
        self._inline: sqlite3.Connection | None = None  # a few keys, read on the loop itself
        self._decoded = _Decoded(DECODED_CHARS)  # many keys: reads recognised (`_Decoded`)
        self._joined = True  # many keys read as one joined row (`AGGREGATE`)
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.relay: SocketRelay | None = None  # tells other processes on this file (started)

    async def open(self, *, create: bool = True) -> None:
        if not create and (missing := missing_file(self.path)) is not None:
            raise TableError(missing)
        try:
            if create:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = await _connect(self.path, self.busy_timeout)
            columns = await self._columns(self._writer)
            if create and not columns:
                await self._writer.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._table} "
                    "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
            key = next((c for c in columns if c[0].lower() == "key"), None)
            self._joined = key is None or affinity(key[1]) in {"TEXT", "BLOB"}  # (AGGREGATE)
            self._reader = await _connect(self.path, self.busy_timeout)
            self._inline = _connect_inline(self.path)
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            message = f"cannot open SQLite file {self.path}: {exc}"
            if why := file_problems(self.path):  # say why, if it is the file's mode
                problem = TableProblem(why[0].code, f"{message}; {why[0].message}")
                raise TableError(problem) from exc
            raise StoreError(message) from exc
        except BaseException:
            await self.close()
            raise

    async def start_changes(self) -> None:
        if self.relay is None:
            self.relay = SocketRelay(self.path, self.changes)
            self.relay.start()

    async def stop_changes(self) -> None:
        if self.relay is not None:
            self.relay.stop()
            self.relay = None

    async def close(self) -> None:
        await self.stop_changes()
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        if self._inline is not None:
            with contextlib.suppress(sqlite3.Error):  # (closed by another thread: refused)
                self._inline.close()
        self._reader = self._writer = self._inline = None

    def _conn(self, conn: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if conn is None:
            raise StoreError("the store is not open")
        return conn

    async def ping(self) -> None:
        try:
            await self._conn(self._reader).execute_fetchall(f"SELECT 1 FROM {self._table} LIMIT 1")
        except (aiosqlite.Error, ValueError) as exc:
            raise StoreError(f"SQLite store not readable: {exc}") from exc

    async def inspect(self, *, writes: bool = True) -> list[TableProblem]:
        try:
            columns = await self._columns(self._conn(self._reader))
            if not columns:
                return [TableProblem(Fault.MISSING_TABLE, f"table {self.table} does not exist")]
            problems = shape_problems(self.table, columns, await self._unique_indexes())
            if writes:
                problems += file_problems(self.path) or await self._write_problems()
        except (aiosqlite.Error, ValueError) as exc:
            raise StoreError(f"SQLite store not readable: {exc}") from exc
        return problems

    async def _columns(self, conn: aiosqlite.Connection) -> list[Column]:
        sql = 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?, ?)'
        return [tuple(row) for row in await conn.execute_fetchall(sql, self._names)]

    async def _unique_indexes(self) -> list[list[str]]:
        conn = self._conn(self._reader)
        name, schema = self._names
        sql = 'SELECT name FROM pragma_index_list(?, ?) WHERE "unique" AND NOT partial'
        found = []
        for (index,) in await conn.execute_fetchall(sql, (name, schema)):
            rows = await conn.execute_fetchall(
                "SELECT name FROM pragma_index_info(?, ?) ORDER BY seqno", (index, schema)
            )
            found.append([str(row[0]) for row in rows])
        return found

    async def _write_problems(self) -> list[TableProblem]:
        """Try a write that changes nothing; reopen the writer once if it was opened read-only.

        A connection opened while the file was read-only stays read-only after the file is
        fixed, so without the reopen the store would only recover on a restart.
        """
        async with self._write_lock:
            error = await self._probe_write()
            if error is not None and "readonly" in error:
                await self._reopen_writer()
                error = await self._probe_write()
        if error is None:
            return []
        if "readonly" in error:
            return [TableProblem(Fault.READ_ONLY, f"SQLite store cannot be written: {error}")]
        raise StoreError(f"SQLite store cannot be written now: {error}")

    async def _probe_write(self) -> str | None:
        """Run a write that changes nothing; return its error message, if any."""
        try:
            if self._writer is None:  # a reopen failed: try again
                self._writer = await _connect(self.path, self.busy_timeout)
            await self._writer.execute(f"DELETE FROM {self._table} WHERE 0")
        except sqlite3.OperationalError as exc:
            return str(exc)
        return None

    async def _reopen_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()
        self._writer = await _connect(self.path, self.busy_timeout)

    async def get_many_raw(self, keys: Sequence[str]) -> list[Raw | None]:
        if self._inline is not None and len(keys) < AGGREGATE_FROM:
            found = _select_inline(self._inline, self._table, keys, self.stats)
            if found is not None:
                return found
        with unavailable(_FAULTS, "SQLite read failed"):
            reader = self._conn(self._reader)
            return await _select(reader, self._table, keys, self.stats, self._decoded, self._joined)

    async def scan_prefix_raw(
        self, prefix: str, *, after: str | None = None, limit: int = SCAN_PAGE
    ) -> list[tuple[str, Raw]]:
        # A key range instead of LIKE: no wildcards to escape, case-sensitive, uses the index.
        upper = prefix + "\U0010ffff"
        lower_op, lower = (">", after) if after is not None and after >= prefix else (">=", prefix)
        sql = (
            f"SELECT key, value FROM {self._table} WHERE key {lower_op} ? AND key < ? "
            "ORDER BY key LIMIT ?"
        )
        with unavailable(_FAULTS, "SQLite scan failed"):
            rows = await self._conn(self._reader).execute_fetchall(sql, (lower, upper, limit))
        found: list[tuple[str, Raw]] = [(key, value) for key, value in rows]
        self.stats.count(len(found))
        return found

    async def list_prefixes_raw(
        self, prefixes: Sequence[str], *, limit: int = SCAN_PAGE
    ) -> list[list[tuple[str, Raw]]]:
        wanted = unique(prefixes)
        found: dict[str, list[tuple[str, Raw]]] = {prefix: [] for prefix in wanted}
        for part in chunks(wanted, PREFIX_CHUNK):
            # One key range per prefix (no LIKE, no wildcards), each under its own LIMIT.
            one = f"SELECT * FROM (SELECT ? AS n, key, value FROM {self._table} "
            one += "WHERE key >= ? AND key < ? ORDER BY key LIMIT ?)"
            sql = " UNION ALL ".join([one] * len(part))
            args: list[object] = []
            for n, prefix in enumerate(part):
                args += [n, prefix, prefix + "\U0010ffff", limit]
            with unavailable(_FAULTS, "SQLite scan failed"):
                rows = await self._conn(self._reader).execute_fetchall(sql, args)
            for n, key, value in rows:
                found[part[n]].append((key, value))
            self.stats.count(len(part))
        return [sorted(found[prefix]) for prefix in prefixes]

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """This process's writer, waited for at most the busy timeout (then StoreError)."""
        try:
            async with asyncio.timeout(self.busy_timeout):
                await self._write_lock.acquire()
        except TimeoutError:
            raise StoreError(f"SQLite writer busy for {self.busy_timeout:g} s") from None
        try:
            yield
        finally:
            self._write_lock.release()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._writer_turn():
            conn = self._conn(self._writer)
            with unavailable(_FAULTS, "SQLite write failed"):
                try:
                    await conn.execute("BEGIN IMMEDIATE")
                    tx = SQLiteTransaction(conn, self._table, self.stats, joined=self._joined)
                    yield tx
                except BaseException:
                    await _rollback(conn)
                    raise
                await conn.execute("COMMIT")
            self.stats.count()
        if tx.changed:
            self.changes.publish(tx.changed)
            if self.relay is not None:
                self.relay.send(tx.changed)
