"""The store interface every backend implements, and what they share."""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gql.kv import jsontext
from gql.kv.changes import ChangeFeed
from gql.kv.jsontext import Unreadable

JSON = Any
Raw = str | bytes  # a stored value as the database returns it: JSON text (usually)
SCAN_PAGE = 500
_TABLE_NAME = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$")


class StoreError(Exception):
    """A store operation failed for a reason that is not the caller's input."""


@contextmanager
def unavailable(errors: tuple[type[BaseException], ...], what: str) -> Iterator[None]:
    """Turn a driver's own errors (down, locked, refusing the role) into StoreError.

    Callers above the store then meet one exception, whatever the backend: the web layer
    answers it with 503 `STORE_UNAVAILABLE`. Errors that are already StoreErrors pass as
    they are.
    """
    try:
        yield
    except StoreError:
        raise
    except errors as exc:
        raise StoreError(f"{what}: {one_line(exc)}") from exc


def one_line(exc: BaseException) -> str:
    """An error message on one line (Postgres puts DETAIL and HINT on lines of their own)."""
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or repr(exc)


class ConflictError(StoreError):
    """A transaction lost a race (deadlock, serialization); running it again may succeed."""


class RefusedError(StoreError):
    """The store cannot hold a key or value (NUL on Postgres, a lone surrogate, an oversize key)."""


class Fault(StrEnum):
    """What kind of thing is wrong with the table itself (not with its data)."""

    UNREACHABLE = "unreachable"
    MISSING_TABLE = "missing_table"
    SHAPE = "shape"
    NO_READ = "no_read"
    NO_WRITE = "no_write"
    READ_ONLY = "read_only"
    RLS = "rls"


@dataclass(frozen=True)
class TableProblem:
    """One reason kvgraph cannot use the table as it is, said in one line."""

    code: Fault
    message: str


class TableError(StoreError):
    """`open()` found the table unusable (e.g. missing, and the role may not create it)."""

    def __init__(self, problem: TableProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class Stats:
    """Round trips to the database and keys read, counted since the store opened."""

    round_trips: int = 0
    keys_read: int = 0

    def count(self, keys: int = 0) -> None:
        """Record one round trip that read `keys` keys."""
        self.round_trips += 1
        self.keys_read += keys


def quote_table(name: str) -> str:
    """Return `name` quoted as an SQL identifier, or raise ValueError if it is not a name."""
    if not _TABLE_NAME.match(name):
        raise ValueError(f"invalid table name {name!r}: use letters, digits and _ (schema.table)")
    return ".".join(f'"{part}"' for part in name.split("."))


def dumps(value: JSON) -> str:
    """Encode a value as compact JSON text (numbers and kept members as they were read)."""
    return jsontext.encode(value)


def loads(raw: Raw | None) -> JSON | Unreadable:
    """Decode stored JSON text exactly (`jsontext`); None stays None, and a value that cannot
    be decoded comes back as Unreadable (with its text and why), never as an exception."""
    return None if raw is None else jsontext.read(raw)


def unique(keys: Iterable[str]) -> list[str]:
    """Return keys without duplicates, first occurrence order."""
    return list(dict.fromkeys(keys))


def chunks(keys: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    """Split keys into slices of at most `size`."""
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


class Transaction(abc.ABC):
    """An atomic read-modify-write unit; reads lock their keys until commit.

    Backends add the keys each write names to `changed`: once the transaction commits they
    are published on the store's change feed (`gql.kv.changes`).
    """

    changed: set[str]

    @abc.abstractmethod
    async def get_many(self, keys: Sequence[str]) -> list[JSON | None]:
        """Read and lock keys; order-preserving, None for missing."""

    async def get(self, key: str) -> JSON | None:
        """Read and lock one key."""
        return (await self.get_many([key]))[0]

    async def peek_many(self, keys: Sequence[str]) -> list[JSON | None]:
        """Read keys without locking them (what is committed now, and this transaction's own
        writes); a backend whose transactions exclude each other anyway just reads them."""
        return await self.get_many(keys)

    @abc.abstractmethod
    async def set_many(self, items: Mapping[str, JSON]) -> None:
        """Write several keys."""

    async def set(self, key: str, value: JSON) -> None:
        """Write one key."""
        await self.set_many({key: value})

    @abc.abstractmethod
    async def set_many_raw(self, items: Mapping[str, str]) -> None:
        """Write stored text as it is (import's raw rows), as far as the column can hold it:
        a Postgres jsonb column refuses text that is not JSON (RefusedError)."""

    @abc.abstractmethod
    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete several keys (missing keys are ignored)."""

    async def delete(self, key: str) -> None:
        """Delete one key."""
        await self.delete_many([key])


class Store(abc.ABC):
    """A key-value table of JSON values: `key TEXT PRIMARY KEY, value JSON`."""

    url: str
    table: str

    def __init__(self) -> None:
        self.stats = Stats()
        self.changes = ChangeFeed()  # the keys each committed write changed

    async def start_changes(self) -> None:
        """Relay the change feed to and from other processes on this table (the backend's
        mechanism); without it, the feed is this process's own writes only."""
        return None

    async def stop_changes(self) -> None:
        """Stop relaying changes (idempotent)."""
        return None

    @abc.abstractmethod
    async def open(self, *, create: bool = True) -> None:
        """Connect; create the table only if it is missing (no DDL when it exists), and not
        at all without `create` (a command that only reads: the table is reported missing)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StoreError unless the table can be read."""

    @abc.abstractmethod
    async def inspect(self, *, writes: bool = True) -> list[TableProblem]:
        """What is wrong with the table: existence, shape, privileges, RLS, writability.

        `writes=False` for a command that only reads (`check`, `export`): then only what
        reading needs is checked (SELECT; a read-only file or session is fine). Cheap enough
        to poll (a couple of catalog queries); raises StoreError when the store cannot be
        reached at all.
        """

    @abc.abstractmethod
    async def get_many_raw(self, keys: Sequence[str]) -> list[Raw | None]:
        """Read keys in one batch as JSON text; order-preserving, None for missing."""

    async def get_many(self, keys: Sequence[str]) -> list[JSON | None]:
        """Read keys in one batch; order-preserving, None for missing, duplicates allowed
        (a value that cannot be decoded: Unreadable)."""
        return [loads(raw) for raw in await self.get_many_raw(keys)]

    async def get(self, key: str) -> JSON | None:
        """Read one key."""
        return (await self.get_many([key]))[0]

    @abc.abstractmethod
    async def scan_prefix_raw(
        self, prefix: str, *, after: str | None = None, limit: int = SCAN_PAGE
    ) -> list[tuple[str, Raw]]:
        """Return up to `limit` (key, stored text) pairs whose key starts with `prefix`, by key."""

    @abc.abstractmethod
    async def list_prefixes_raw(
        self, prefixes: Sequence[str], *, limit: int = SCAN_PAGE
    ) -> list[list[tuple[str, Raw]]]:
        """For each prefix, up to `limit` (key, stored text) pairs whose key starts with it,
        by key (code point order), all in one round trip: the keys several parents list by
        prefix (`collaborator:{tripId}:`). A prefix matches literally (`%`, `_` and `\\` are
        no wildcards); repeated prefixes get the same pairs."""

    async def scan_prefix(
        self, prefix: str, *, after: str | None = None, limit: int = SCAN_PAGE
    ) -> list[tuple[str, JSON]]:
        """Return up to `limit` (key, value) pairs whose key starts with `prefix`, by key (a
        value that cannot be decoded: Unreadable)."""
        rows = await self.scan_prefix_raw(prefix, after=after, limit=limit)
        return [(key, loads(raw)) for key, raw in rows]

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a transaction: commit on normal exit, roll back on an exception."""

    async def set_many(self, items: Mapping[str, JSON]) -> None:
        """Write several keys atomically."""
        async with self.transaction() as tx:
            await tx.set_many(items)

    async def set(self, key: str, value: JSON) -> None:
        """Write one key."""
        await self.set_many({key: value})

    async def set_many_raw(self, items: Mapping[str, str]) -> None:
        """Write stored text as it is, atomically (see `Transaction.set_many_raw`)."""
        async with self.transaction() as tx:
            await tx.set_many_raw(items)

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete several keys atomically."""
        async with self.transaction() as tx:
            await tx.delete_many(keys)

    async def delete(self, key: str) -> None:
        """Delete one key."""
        await self.delete_many([key])

    async def iter_prefix(
        self, prefix: str, *, page: int = SCAN_PAGE
    ) -> AsyncIterator[tuple[str, JSON]]:
        """Yield every (key, value) under `prefix`, one page per round trip (a value that
        cannot be decoded: Unreadable)."""
        async for key, raw in self.iter_prefix_raw(prefix, page=page):
            yield key, loads(raw)

    async def iter_prefix_raw(
        self, prefix: str, *, page: int = SCAN_PAGE
    ) -> AsyncIterator[tuple[str, Raw]]:
        """Yield every (key, stored text) under `prefix`, one page per round trip."""
        after: str | None = None
        while True:
            rows = await self.scan_prefix_raw(prefix, after=after, limit=page)
            for row in rows:
                yield row
            if len(rows) < page:
                return
            after = rows[-1][0]


async def table_problems(store: Store, *, writes: bool = True) -> list[TableProblem]:
    """`store.inspect()`, with a store that cannot be reached reported as one problem."""
    try:
        return await store.inspect(writes=writes)
    except StoreError as exc:
        return [TableProblem(Fault.UNREACHABLE, str(exc))]


async def open_and_inspect(store: Store, *, writes: bool = True) -> list[TableProblem]:
    """Open the store and inspect its table; a failed open is reported as its problem.

    `writes=False` (a command that only reads) creates nothing and needs only SELECT.
    """
    try:
        await store.open(create=writes)
    except TableError as exc:
        return [exc.problem]
    except StoreError as exc:
        return [TableProblem(Fault.UNREACHABLE, str(exc))]
    return await table_problems(store, writes=writes)


def blocking(problems: Iterable[TableProblem], *, allow_rls: bool) -> list[TableProblem]:
    """The problems that stop kvgraph: all of them, except row-level security when allowed."""
    return [p for p in problems if not (allow_rls and p.code is Fault.RLS)]
