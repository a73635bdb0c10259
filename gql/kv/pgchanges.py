"""Postgres relay of the change feed: NOTIFY in the writing transaction, LISTEN on a session.

A write transaction calls `pg_notify` with the keys it changed just before it commits, so
the notification is delivered exactly when (and only if) the write commits. Every kvgraph
process on the database LISTENs on the table's channel (`channel`) on a connection of its
own, outside the pool: a transaction-mode pooler (Supabase's port 6543, pgbouncer) cannot
carry LISTEN, so that connection may use a direct session URL of its own
(`KVGRAPH_LISTEN_URL`). It publishes what others wrote on its own feed; its own writes are
published in-process when they commit (each payload names the process it came from).

A NOTIFY payload must stay under 8,000 bytes: the keys are split over several notifications
(`changes.messages`, the same split as SQLite's datagrams), and a transaction that changed
more than `MAX_NOTIFICATIONS` payloads' worth (an import) sends one `{"all": true}` marker
instead, on which every listener resyncs. A dropped connection (`pg_terminate_backend`, a
failover, a network cut) is noticed at once or by the keep-alive query, and the listener
connects again with backoff; once it LISTENs again, the feed resyncs, so whatever was written
meanwhile is read again by every subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterable
from typing import Any

import asyncpg

from gql.kv.changes import ChangeFeed, messages, read_message

log = logging.getLogger("kvgraph.changes")
PAYLOAD_BYTES = 7_900  # under Postgres' limit of 8,000 bytes per NOTIFY payload
MAX_NOTIFICATIONS = 16  # payloads per transaction; beyond that one resync marker
KEEPALIVE = 10.0  # seconds between the listener's liveness queries
RETRY_FIRST, RETRY_MAX = 0.1, 5.0  # reconnect backoff, seconds
APPLICATION_NAME = "kvgraph-listener"  # how the session shows in pg_stat_activity (+ table)
_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)


def channel(table: str) -> str:
    """The NOTIFY channel of a KV table (an identifier under 63 bytes, whatever the name)."""
    return "kvgraph_" + hashlib.sha256(table.encode()).hexdigest()[:16]


def payloads(origin: str, keys: Iterable[str]) -> list[str]:
    """The notification payloads carrying `keys` (`changes.messages`, each under
    `PAYLOAD_BYTES`), or one resync marker."""
    return [m.decode() for m in messages(keys, PAYLOAD_BYTES, MAX_NOTIFICATIONS, origin)]


async def notify(conn: Any, name: str, origin: str, keys: Iterable[str]) -> None:
    """NOTIFY the keys a transaction changed, inside it (delivered when it commits)."""
    await conn.execute(
        "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", name, payloads(origin, keys)
    )


class Listener:
    """LISTENs on a session connection of its own, reconnecting; relays to `feed`."""

    def __init__(
        self,
        url: str,
        name: str,
        origin: str,
        feed: ChangeFeed,
        *,
        keepalive: float = KEEPALIVE,
        table: str = "",
    ) -> None:
        self.url, self.name, self.origin, self.feed = url, name, origin, feed
        self.keepalive = keepalive
        self.application_name = f"{APPLICATION_NAME} {table}".strip()[:63]
        self.connected = asyncio.Event()
        self.connections = 0  # sessions opened so far (a reconnect adds one)
        self.pid: int | None = None  # the listening session's backend pid
        self._task: asyncio.Task[None] | None = None

    async def start(self, wait: float = 5.0) -> None:
        """Start listening; wait up to `wait` seconds for the first session (then go on
        trying in the background)."""
        self._task = asyncio.create_task(self._run(), name="kvgraph-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self.connected.wait()

    async def stop(self) -> None:
        """Stop listening and close the session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_notify(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        origin, keys = read_message(payload)
        if origin == self.origin:
            return  # this process's own write: published when it committed
        if keys is None:
            self.feed.resync()
        else:
            self.feed.publish(keys)

    async def _run(self) -> None:
        delay = RETRY_FIRST
        while True:
            try:
                conn = await asyncpg.connect(
                    self.url,
                    statement_cache_size=0,
                    server_settings={"application_name": self.application_name},
                )
            except (*_ERRORS, ValueError) as exc:
                log.warning("change listener cannot connect (retry in %g s): %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            delay = RETRY_FIRST
            try:
                await self._session(conn)
            except _ERRORS as exc:
                log.warning("change listener lost its connection: %s", exc)
            finally:
                self.connected.clear()
                with contextlib.suppress(*_ERRORS):
                    conn.terminate()

    async def _session(self, conn: Any) -> None:
        """Listen until the connection is lost; then the caller connects again."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(self.name, self._on_notify)
        self.pid = conn.get_server_pid()
        self.connections += 1
        self.connected.set()
        self.feed.resync()  # whatever was written while nobody listened is read again
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.keepalive):
                    await lost.wait()
            if not lost.is_set():
                async with asyncio.timeout(self.keepalive):
                    await conn.fetchval("SELECT 1")
        log.warning("change listener lost its connection; connecting again")
