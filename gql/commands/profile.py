"""`kvgraph bench --profile`: where the server's time goes, by stage, for the board and the
small query.

The gateway runs in a thread of its own with `cProfile` enabled in that thread only, the
client in the main thread, so the client's work is not counted. Each function's own time
(`tottime`) is put in one stage by the module it lives in (and, for a few, by its name);
time the server spends waiting for the store's thread or the database shows as "waiting".
cProfile adds a cost per call, so stages made of many small calls look larger than they are:
compare stages within one run, and use the timings of `kvgraph bench` for absolute figures.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import aiohttp

Rule = tuple[str, Callable[[str, str], bool]]
WAITING = "waiting (I/O, store thread, database, client)"


def _in(*parts: str) -> Callable[[str, str], bool]:
    return lambda path, _name: any(part in path for part in parts)


def _named(path_part: str, *names: str) -> Callable[[str, str], bool]:
    return lambda path, name: path_part in path and name in names


# First match wins; the order matters where paths overlap.
STAGES: Sequence[Rule] = (
    (WAITING, lambda p, n: "poll" in n and p == "~"),
    ("date-time formatting", _in("strawberry/schema/types/base_scalars")),
    ("JSON encode/decode (orjson)", lambda p, n: p == "~" and "orjson" in n),
    ("HTTP (aiohttp)", lambda p, n: p == "~" and "_socket.socket" in n),
    ("store driver (aiosqlite, asyncpg)", lambda p, n: p == "~" and "SimpleQueue" in n),
    ("auth (JWT)", _in("gql/web/auth.py", "/jwt/", "hmac.py")),
    ("context and loaders setup", _named("resolvers/context.py", "__init__", "__post_init__")),
    (
        "view (Strawberry HTTP, kvgraph view)",
        _in(
            "strawberry/http",
            "strawberry/aiohttp",
            "gql/web/view.py",
            "gql/web/body.py",
            "gql/web/media.py",
            "gql/web/persisted.py",
        ),
    ),
    (
        "middlewares (request id, rate limit, timeout)",
        _in(
            "gql/web/observe.py",
            "gql/web/ratelimit.py",
            "gql/web/timeout.py",
            "gql/web/metrics.py",
            "gql/web/logs.py",
        ),
    ),
    ("limits (cost, depth, node budget)", _in("gql/schema/limits.py", "resolvers/meter.py")),
    (
        "parse and validate (cached)",
        _in("graphql/language", "graphql/validation", "graphql/utilities"),
    ),
    (
        "schema extensions (errors, reports, stats)",
        _in(
            "gql/schema/extensions.py",
            "strawberry/extensions",
            "strawberry/schema/schema.py",
            "strawberry/schema/execute",
        ),
    ),
    (
        "level executor and graphql-core",
        _in(
            "gql/schema/executor.py",
            "graphql/execution",
            "graphql/type",
            "graphql/pyutils",
            "gql/schema/base.py",
            "strawberry/",
        ),
    ),
    ("access checks", _in("resolvers/access.py")),
    (
        "record validation (models, pydantic)",
        _in("gql/kv/models.py", "gql/kv/jsontext.py", "gql/kv/scalars.py", "pydantic"),
    ),
    (
        "loaders, paging, domain batch functions",
        _in("resolvers/", "gql/kv/entities.py", "gql/kv/keys.py", "gql/kv/indexes.py"),
    ),
    ("store driver (aiosqlite, asyncpg)", _in("aiosqlite", "asyncpg", "gql/kv/")),
    ("HTTP (aiohttp)", _in("aiohttp", "multidict", "yarl", "http/")),
    ("event loop (asyncio)", _in("asyncio", "selectors", "contextvars", "threading")),
)
OTHER = "other"


def stage_of(path: str, name: str) -> str | None:
    """The stage a function (its file and name) belongs to; None for a built-in or a
    standard-library helper, whose time counts for the stage of its callers."""
    path = path.replace("\\", "/")
    for stage, matches in STAGES:
        if matches(path, name):
            return stage
    if path == "~" or "site-packages" not in path:
        return None
    return OTHER


Key = tuple[str, int, str]


def stages(profile: cProfile.Profile) -> dict[str, float]:
    """Own time (seconds) per stage of a finished profile (helpers' time to their callers')."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}

    def shares(key: Key, seen: frozenset[Key]) -> dict[str, float]:
        """How `key`'s time splits over stages (fractions summing to 1)."""
        own = stage_of(key[0], key[2])
        if own is not None:
            return {own: 1.0}
        callers = stats.get(key, (0, 0, 0.0, 0.0, {}))[4]
        weights = {c: v[2] for c, v in callers.items() if c not in seen}
        whole = sum(weights.values())
        if not whole:
            return {OTHER: 1.0}
        out: dict[str, float] = {}
        for caller, weight in weights.items():
            for stage, part in shares(caller, seen | {key}).items():
                out[stage] = out.get(stage, 0.0) + part * weight / whole
        return out

    for key, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        for stage, part in shares(key, frozenset()).items():
            totals[stage] = totals.get(stage, 0.0) + tottime * part
    return totals


def format_stages(title: str, totals: dict[str, float], requests: int) -> str:
    """A table of stages: ms per request and share of the server's time."""
    totals = dict(totals)
    waiting = totals.pop(WAITING, 0.0)
    whole = sum(totals.values()) or 1.0
    lines = [f"{title}: server CPU per request by stage (cProfile, {requests} requests)"]
    for stage, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        share = seconds / whole
        if share >= 0.005:
            lines.append(f"  {stage:<48}{seconds / requests * 1e3:>8.2f} ms{share:>7.1%}")
    lines.append(f"  {'total CPU':<48}{whole / requests * 1e3:>8.2f} ms")
    lines.append(f"  {WAITING + ', not CPU':<48}{waiting / requests * 1e3:>8.2f} ms")
    return "\n".join(lines)


class ProfiledServer:
    """Run a coroutine factory's server in a thread whose loop can be profiled on demand."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.profile = cProfile.Profile()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[[], None]) -> None:
        """Run `fn` in the server's thread and wait for it."""
        done: Future[None] = Future()

        def run() -> None:
            try:
                fn()
                done.set_result(None)
            except BaseException as exc:  # handed to the caller
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        done.result()

    def close(self) -> None:
        """Stop the thread's loop."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


async def profile_requests(
    server: ProfiledServer,
    endpoint: str,
    payload: bytes,
    headers: dict[str, str],
    requests: int,
) -> dict[str, float]:
    """POST `payload` `requests` times (after a warm-up) with the server profiled."""
    server.profile = cProfile.Profile()
    async with aiohttp.ClientSession() as session:

        async def fetch() -> None:
            async with session.post(endpoint, data=payload, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status}")

        for _ in range(3):
            await fetch()
        server.call(server.profile.enable)
        for _ in range(requests):
            await fetch()
        server.call(server.profile.disable)
    return stages(server.profile)


SMALL_QUERY = "query T($id: ID!) { trip(id: $id) { id title } }"
