"""The per-request context every resolver receives."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gql.kv.base import Store
from gql.kv.changes import EventReads
from gql.kv.mapping import IDENTITY, AppMapping
from gql.kv.models import InvalidRecord, Record
from gql.kv.repo import Repository
from gql.kv.secrets import SecretBox
from resolvers.errors import Abort
from resolvers.loaders import Loaders, weakly
from resolvers.meter import Meter, ReadLimits

log = logging.getLogger("kvgraph.records")
SERVICE_ROLE = "service_role"  # the token role of server-side code (Supabase's service key)


@dataclass
class Context:
    """Viewer, fresh loaders and the repository for one request."""

    store: Store
    viewer_id: str | None = None
    role: str | None = None
    request: Any = None
    response: Any = None
    debug_stats: bool = False
    executor: str = "graphql-core"  # which executor answered ("level" for the fast path)
    mapping: AppMapping = IDENTITY  # the app's names for fields and enum values
    read_limits: ReadLimits = field(default_factory=ReadLimits)
    secret_box: SecretBox | None = None  # encrypts API keys; None: none are stored
    context_history_cap: int = 50  # AI context snapshots kept per conversation
    loaders: Loaders = field(init=False)
    problems: dict[str, str] = field(default_factory=dict)
    # Records shown with optional fields left empty (unreadable values): key -> {field: why}.
    dropped: dict[str, Mapping[str, str]] = field(default_factory=dict)
    # The viewer's role on each trip met so far, by the trip's key (`resolvers/access.py`),
    # until the next write.
    trip_roles: dict[str, str | None] = field(default_factory=dict)
    # A subscription's deadline (the web layer's `asyncio.Timeout`): it runs while an event
    # is read and executed (`busy`), never while the subscription waits (`idle`); `slots`
    # bounds how many subscriptions of the process work on an event at once.
    deadline: asyncio.Timeout | None = None
    event_seconds: float = 0.0
    slots: asyncio.Semaphore | None = None
    _slot: bool = False
    _report: Callable[[InvalidRecord], None] = field(init=False, repr=False)
    _repo: Repository | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # The loaders and the repository call back into the context weakly: a reference
        # cycle would keep everything a request read (its loaders' texts and records) alive
        # until the next garbage collection instead of freeing it with the request.
        self._report = weakly(self.report)
        self.loaders = Loaders(
            self.store, self.mapping, report=self._report, meter=Meter(self.read_limits)
        )

    @property
    def repo(self) -> Repository:
        """The request's repository, made by its first write (most requests make none).

        Whatever a write changed, the rest of the request reads afresh (the repository names
        the keys: its record, indexes, owned keys, children, alerts, swept records)."""
        if self._repo is None:
            self._repo = Repository(
                self.store, self.mapping, wrote=weakly(self._forget_all), report=self._report
            )
        return self._repo

    def renew(self, shared: EventReads | None = None) -> None:
        """Before each subscription event: fresh loaders, roles and reports, so nothing read
        for an earlier event (or by whom the viewer was then) decides this one; `shared`:
        the event's reads, fetched once for every subscription handling it."""
        self.loaders = Loaders(
            self.store,
            self.mapping,
            report=self._report,
            meter=Meter(self.read_limits),
            shared=shared,
        )
        self.trip_roles.clear()
        self.problems.clear()
        self.dropped.clear()

    async def busy(self) -> None:
        """A subscription event is to be read and executed: once one of the process's slots
        is free (a broadcast to thousands is worked on a few at a time), the deadline runs."""
        if self.slots is not None and not self._slot:
            await self.slots.acquire()
            self._slot = True
        if self.deadline is not None:
            self.deadline.reschedule(asyncio.get_running_loop().time() + self.event_seconds)

    def idle(self) -> None:
        """A subscription waits for the next change: no deadline, its slot given back, and
        the last event's shared reads let go (another subscription may keep them longer)."""
        self.loaders.shared = None
        if self.deadline is not None:
            self.deadline.reschedule(None)
        if self._slot and self.slots is not None:
            self._slot = False
            self.slots.release()

    def forget(self, *keys: str) -> None:
        """After a write: the rest of the request reads these keys and every role afresh."""
        self.loaders.forget(*keys)
        self.trip_roles.clear()

    def _forget_all(self, keys: Iterable[str]) -> None:
        self.forget(*keys)

    @property
    def records_read(self) -> int:
        """How many records the request has decoded so far (what it pays for)."""
        return self.loaders.meter.records

    @property
    def aborted(self) -> Abort | None:
        """What stopped the operation (it read past its limits), if anything did."""
        return self.loaders.meter.exceeded

    def restart(self) -> None:
        """Before the operation runs again from the start (the level executor gave it
        back): what it reports is reported afresh, so nothing of the first attempt remains
        (counts memoized by the first attempt count again, reporting what they meet)."""
        self.problems.clear()
        self.dropped.clear()
        self.loaders.recount()

    def report(self, invalid: InvalidRecord) -> None:
        """Remember an invalid record for the response's `errors` (logged once per request)."""
        if invalid.key not in self.problems:
            log.warning("invalid record %s: %s", invalid.key, invalid.message)
            self.problems[invalid.key] = invalid.message


def shown(ctx: Context, key: str, record: Any) -> Any:
    """Note that `record` (stored at `key`) is shown: fields it left empty are reported."""
    if isinstance(record, Record) and record.dropped_fields and key not in ctx.dropped:
        log.warning("record %s: fields left empty: %s", key, dict(record.dropped_fields))
        ctx.dropped[key] = record.dropped_fields
    return record


def usable(ctx: Context, loaded: Any) -> Any:
    """The record, or None if it is missing or invalid (invalid ones are reported)."""
    if isinstance(loaded, InvalidRecord):
        ctx.report(loaded)
        return None
    return loaded
