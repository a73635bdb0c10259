"""`kvgraph bench`: time the trip board through the gateway, against the KV floor and N+1.

One run seeds a store (a temporary SQLite file unless `--store-url` names an empty one) with
one user's `--trips` trips x `--items` items, linked to `--places` places, in the seed's key
conventions, then times the same board three ways, each after warm-up requests whose last
answer is verified (trip and item ids in index order, every item with a place); at the end it
deletes the keys it wrote, so a `--store-url` store is left empty again.

- gateway: POST the board query over HTTP to `create_app` running in this process;
- floor:   the same JSON fetched directly with one `get_many` per level, encoded with orjson
  (peers' `kv_board`);
- n+1:     one `store.get` per id (index, each trip, each item index, each item, each item's
  place, no cache), encoded with orjson: what apps do today.

Batches are `get_many`/`get` calls (for the gateway, its `extensions.kv.batches`); round trips
are statements sent to the database (`Store.stats`; SQLite splits a large batch into
statements of at most 4,000 keys). The KV table is `args.kv_table` when given, else `kv_store`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import secrets
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from gql.commands.profile import SMALL_QUERY, ProfiledServer, format_stages, profile_requests
from gql.kv import JSON, Store, StoreError, open_store
from gql.kv import keys as k
from gql.kv.entities import LOCATIONS
from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.server import settle_gc
from gql.web.settings import Settings
from resolvers import nodes
from resolvers.paging import MAX_PAGE  # a connection page holds at most this many nodes

BOARD_QUERY = """query Board {
  viewer {
    trips(first: 100) {
      nodes {
        id
        title
        items(first: 100) { nodes { id title startTime location { name kind: __typename } } }
      }
    }
  }
}"""
WARMUP = 3
SQLITE = "sqlite:///"
SMALL_SECONDS = 3.0  # per round and server
REQUEST_TIMEOUT = 60  # seconds a benchmark request may take before the bench gives up
SCALE_SIZES = ((50, 40, 200), (100, 100, 1000))  # 2,000 and 10,000 items (trips, items, places)
SEED = 42
SEED_CHUNK = 10_000  # keys per seeding transaction
# The GraphQL type of each kind of place, from the node registry (filled by gql.web.app's schema).
TYPENAME = {kind: nodes.type_name_of(spec.model) for kind, spec in LOCATIONS.items()}
CITIES = ("Lisbon", "Kyoto", "Oaxaca", "Reykjavik", "Tbilisi", "Hanoi", "Porto", "Marrakesh")
WORDS = ("Blue", "Old", "Harbor", "Garden", "Night", "Sun", "River", "Stone", "Market", "Hill")
ACTIVITIES = ("Breakfast", "Museum visit", "Walk", "Lunch", "Ride", "Dinner", "Concert")
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

Fetch = Callable[[], Awaitable[bytes]]


class BenchError(Exception):
    """The benchmark cannot run or a response failed verification."""


# ---------------------------------------------------------------- data set


@dataclass
class Dataset:
    """The records to seed and the ids the board must show, in order."""

    user_id: str
    trip_ids: list[str] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    rows: dict[str, JSON] = field(default_factory=dict)


def _iso(moment: dt.datetime) -> str:
    """Format a UTC datetime as ISO-8601 with `Z`, as the seed does."""
    return moment.isoformat().replace("+00:00", "Z")


def _new_id(rng: random.Random) -> str:
    """Draw a UUID4 string from `rng`."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _add_places(data: Dataset, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Add `count` places (kinds in turn) and their catalog indexes; return (kind, id) pairs."""
    places: list[tuple[str, str]] = []
    for n in range(count):
        kind = k.LOCATION_KINDS[n % len(k.LOCATION_KINDS)]
        place_id = _new_id(rng)
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {TYPENAME[kind]} {n + 1}"
        city = rng.choice(CITIES)
        data.rows[k.LOCATION_ENTITY[kind].key(place_id)] = {
            "id": place_id,
            "name": name,
            "city": city,
        }
        places.append((kind, place_id))
    for kind in k.LOCATION_KINDS:
        data.rows[k.LOCATION_INDEX[kind].key()] = [pid for pk, pid in places if pk == kind]
    return places


def _add_trip(
    data: Dataset, rng: random.Random, n: int, items: int, places: list[tuple[str, str]]
) -> None:
    """Add trip number `n`, its `items` items (each linked to a place) and its item index."""
    trip_id = _new_id(rng)
    start = START + dt.timedelta(days=7 * n)
    city = CITIES[n % len(CITIES)]
    data.rows[k.TRIP.key(trip_id)] = {
        "id": trip_id,
        "userId": data.user_id,
        "title": f"Trip {n + 1} to {city}",
        "destination": city,
        "startDate": start.date().isoformat(),
        "endDate": (start + dt.timedelta(days=items // 8)).date().isoformat(),
    }
    item_ids = [_new_id(rng) for _ in range(items)]
    for p, item_id in enumerate(item_ids):
        kind, place_id = rng.choice(places)
        day, slot = divmod(p, 8)
        data.rows[k.ITEM.key(item_id)] = {
            "id": item_id,
            "tripId": trip_id,
            "title": f"{rng.choice(ACTIVITIES)} #{p + 1}",
            "startTime": _iso(start + dt.timedelta(days=day, hours=8 + slot)),
            "locationType": kind,
            "locationId": place_id,
        }
    data.rows[k.ITEMS_INDEX.key(trip_id)] = item_ids
    data.trip_ids.append(trip_id)
    data.item_ids.extend(item_ids)


def build_dataset(trips: int, items: int, places: int, seed: int = SEED) -> Dataset:
    """Generate one user's board deterministically from `seed`."""
    rng = random.Random(seed)
    data = Dataset(user_id=_new_id(rng))
    data.rows[k.PROFILE.key(data.user_id)] = {
        "id": data.user_id,
        "email": "bench@example.com",
        "displayName": "Bench User",
    }
    catalog = _add_places(data, rng, places)
    for n in range(trips):
        _add_trip(data, rng, n, items, catalog)
    data.rows[k.TRIPS_INDEX.key(data.user_id)] = list(data.trip_ids)
    return data


async def seed_store(store: Store, rows: dict[str, JSON]) -> None:
    """Write `rows` with `set_many`, one transaction per chunk, showing progress."""
    keys = list(rows)
    for start in range(0, len(keys), SEED_CHUNK):
        part = keys[start : start + SEED_CHUNK]
        await store.set_many({key: rows[key] for key in part})
        if len(keys) > SEED_CHUNK:
            done = start + len(part)
            print(f"  seeded {done:,} / {len(keys):,} keys", flush=True)


# ---------------------------------------------------------------- verification


def _board_trips(doc: Any) -> list[Any]:
    """Return the trip nodes of a board response, or raise BenchError."""
    if not isinstance(doc, dict):
        raise BenchError("response is not a JSON object")
    if doc.get("errors"):
        raise BenchError(f"GraphQL errors: {str(doc['errors'])[:300]}")
    try:
        nodes = doc["data"]["viewer"]["trips"]["nodes"]
    except (KeyError, TypeError):
        raise BenchError("response has no data.viewer.trips.nodes") from None
    if not isinstance(nodes, list):
        raise BenchError("data.viewer.trips.nodes is not a list")
    return nodes


def _has_place(item: Any) -> bool:
    """Whether an item node carries a location with a name and a known kind."""
    location = item.get("location") if isinstance(item, dict) else None
    return (
        isinstance(location, dict)
        and bool(location.get("name"))
        and location.get("kind") in TYPENAME.values()
    )


def verify_board(body: bytes, data: Dataset) -> Any:
    """Check trips and items (ids, index order) and every item's place; return the document."""
    doc = orjson.loads(body)
    trips = _board_trips(doc)
    items = [item for trip in trips for item in (trip.get("items") or {}).get("nodes") or []]
    if [trip.get("id") for trip in trips] != data.trip_ids:
        raise BenchError(f"got {len(trips)} trips, expected {len(data.trip_ids)} in index order")
    if [item.get("id") for item in items] != data.item_ids:
        raise BenchError(f"got {len(items)} items, expected {len(data.item_ids)} in index order")
    missing = sum(not _has_place(item) for item in items)
    if missing:
        raise BenchError(f"{missing} of {len(items)} items have no location with name and kind")
    return doc


# ---------------------------------------------------------------- timing


@dataclass
class Result:
    """One way's timings and counts."""

    way: str
    median_ms: float
    p95_ms: float
    batches: int
    round_trips: int
    size: int


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` quantile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def time_runs(fetch: Fetch, requests: int) -> list[float]:
    """Run `fetch` `requests` times; return the durations in ms."""
    durations: list[float] = []
    for _ in range(requests):
        started = time.perf_counter()
        await fetch()
        durations.append((time.perf_counter() - started) * 1e3)
    return durations


@dataclass
class Counter:
    """Batches issued by the latest hand-written fetch."""

    batches: int = 0


async def measure(
    way: str,
    fetch: Fetch,
    store: Store,
    data: Dataset,
    requests: int,
    batches_of: Callable[[Any], int],
) -> Result:
    """Warm up (verifying the last answer, counting its batches and round trips), then time."""
    for _ in range(WARMUP - 1):
        await fetch()
    before = store.stats.round_trips
    body = await fetch()
    round_trips = store.stats.round_trips - before
    batches = batches_of(verify_board(body, data))
    durations = await time_runs(fetch, requests)
    median, p95 = statistics.median(durations), percentile(durations, 0.95)
    return Result(way, median, p95, batches, round_trips, len(body))


# ---------------------------------------------------------------- the three ways


def _item_node(item: JSON, place: JSON) -> dict[str, Any]:
    """The board's item node from an item record and its place record."""
    kind = TYPENAME[item["locationType"]]
    return {
        "id": item["id"],
        "title": item["title"],
        "startTime": item["startTime"],
        "location": {"name": place["name"], "kind": kind},
    }


def _board(trips: list[tuple[JSON, list[dict[str, Any]]]]) -> bytes:
    """Encode the board document, shaped like the gateway's answer."""
    nodes = [
        {"id": trip["id"], "title": trip["title"], "items": {"nodes": items}}
        for trip, items in trips
    ]
    return orjson.dumps({"data": {"viewer": {"trips": {"nodes": nodes}}}})


def _place_key(item: JSON) -> str:
    """The key of an item's place record."""
    return f"{item['locationType']}:{item['locationId']}"


async def floor_board(store: Store, user_id: str, counter: Counter) -> bytes:
    """Fetch the board with one `get_many` per level (peers' `kv_board`), decoded by orjson."""

    async def get_many(keys: list[str]) -> list[JSON]:
        return [
            None if raw is None else orjson.loads(raw) for raw in await store.get_many_raw(keys)
        ]

    counter.batches = 4
    trip_ids = (await get_many([k.TRIPS_INDEX.key(user_id)]))[0] or []
    level2 = await get_many(
        [k.TRIP.key(t) for t in trip_ids] + [k.ITEMS_INDEX.key(t) for t in trip_ids]
    )
    trips, indexes = level2[: len(trip_ids)], level2[len(trip_ids) :]
    item_keys = [k.ITEM.key(i) for index in indexes for i in index or []]
    items = dict(zip(item_keys, await get_many(item_keys), strict=True))
    place_keys = list(dict.fromkeys(_place_key(item) for item in items.values() if item))
    places = dict(zip(place_keys, await get_many(place_keys), strict=True))
    board = []
    for trip, index in zip(trips, indexes, strict=True):
        records = [items[k.ITEM.key(i)] for i in index or []]
        board.append((trip, [_item_node(it, places[_place_key(it)]) for it in records]))
    return _board(board)


async def n_plus_one_board(store: Store, user_id: str, counter: Counter) -> bytes:
    """Fetch the board with one `store.get` per id, as apps do without batching."""

    async def get(key: str) -> JSON:
        counter.batches += 1
        return await store.get(key)

    counter.batches = 0
    board = []
    for trip_id in await get(k.TRIPS_INDEX.key(user_id)) or []:
        trip = await get(k.TRIP.key(trip_id))
        nodes = []
        for item_id in await get(k.ITEMS_INDEX.key(trip_id)) or []:
            item = await get(k.ITEM.key(item_id))
            nodes.append(_item_node(item, await get(_place_key(item))))
        board.append((trip, nodes))
    return _board(board)


@asynccontextmanager
async def running_gateway(url: str, table: str) -> AsyncIterator[tuple[str, Settings, Store]]:
    """Serve the gateway on a free local port; yield (endpoint, its settings, its store)."""
    settings = Settings(
        store_url=url,
        kv_table=table,
        jwt_secret=secrets.token_urlsafe(32),
        debug_stats=True,
        graphiql=False,
        rate_limit=0,  # many boards a minute: measure the gateway, not the rate limiter
    )
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    settle_gc()  # as `serve` does (this process's floors run with it too)
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}/graphql", settings, app[STORE]
    finally:
        await runner.cleanup()


def gateway_batches(doc: Any) -> int:
    """The gateway's `extensions.kv.batches` for a response, or raise BenchError."""
    batches = (doc.get("extensions") or {}).get("kv", {}).get("batches")
    if not isinstance(batches, int):
        raise BenchError("the gateway reported no extensions.kv.batches (debug stats off?)")
    return batches


async def bench_gateway(url: str, table: str, data: Dataset, requests: int) -> Result:
    """Time the board query over HTTP through the gateway."""
    async with running_gateway(url, table) as (endpoint, settings, app_store):
        token = mint_token(settings.secret() or "", data.user_id, audience=settings.jwt_audience)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        payload = orjson.dumps({"query": BOARD_QUERY})
        async with aiohttp.ClientSession() as session:

            async def fetch() -> bytes:
                async with session.post(endpoint, data=payload, headers=headers) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        raise BenchError(f"gateway answered HTTP {resp.status}: {body[:300]!r}")
                    return body

            return await measure("gateway", fetch, app_store, data, requests, gateway_batches)


async def bench_direct(
    way: str,
    board: Callable[[Store, str, Counter], Awaitable[bytes]],
    store: Store,
    data: Dataset,
    requests: int,
) -> Result:
    """Time a hand-written fetch of the board from the store."""
    counter = Counter()

    async def fetch() -> bytes:
        return await board(store, data.user_id, counter)

    return await measure(way, fetch, store, data, requests, lambda _doc: counter.batches)


# ---------------------------------------------------------------- the small query

SMALL_CONNECTIONS = 4  # concurrent clients, as peers' small_query.sh runs wrk
SMALL_ROUNDS = 3  # alternating rounds per server; the median is reported


@dataclass
class SmallResult:
    """Requests per second of the small query on the gateway and on the bare handler."""

    gateway: list[float]
    bare: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.gateway) / statistics.median(self.bare)


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def server_process(argv: list[str], env: dict[str, str], url: str) -> AsyncIterator[None]:
    """Run a server process until the block ends; wait until `url` answers a POST. Its output
    goes to a temporary file (a pipe nobody reads would fill up and stop the server)."""
    with tempfile.TemporaryFile() as output:
        process = await asyncio.create_subprocess_exec(
            *argv, env={**os.environ, **env}, stdout=output, stderr=output
        )
        try:
            await _answering(process, url)
            if process.returncode is not None:
                output.seek(0)
                said = output.read().decode(errors="replace")
                raise BenchError(f"{argv[2]} server did not start: {said[-500:]}")
            yield
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()


async def _answering(process: asyncio.subprocess.Process, url: str) -> None:
    """Wait until `url` answers (or the process ends, or 30 s pass)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if process.returncode is not None:
                return
            try:
                async with session.post(url, data=b"{}") as resp:
                    await resp.read()
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise BenchError(f"no answer from {url} within 30 s")


async def requests_per_second(
    url: str, body: bytes, headers: dict[str, str], seconds: float
) -> float:
    """Requests per second of `SMALL_CONNECTIONS` clients posting `body` for `seconds`."""
    done = 0
    connector = aiohttp.TCPConnector(limit=SMALL_CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    done += resp.status == 200

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(SMALL_CONNECTIONS)))
        return done / (time.perf_counter() - started)


async def bench_small(path: str, table: str, data: Dataset, seconds: float) -> SmallResult:
    """`trip(id:) { id title }` with a token: the gateway beside the bare handler (`bare.py`),
    each in a process of its own on the same SQLite file, in alternating rounds."""
    secret = secrets.token_urlsafe(32)
    token = mint_token(secret, data.user_id)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    trip_id = data.trip_ids[0]
    body = orjson.dumps({"query": SMALL_QUERY, "variables": {"id": trip_id}})
    gw_port, bare_port = free_port(), free_port()
    gw_url = f"http://127.0.0.1:{gw_port}/graphql"
    bare_url = f"http://127.0.0.1:{bare_port}/graphql"
    gw_argv = [sys.executable, "-m", "gql", "serve", "--store-url", f"sqlite:///{path}"]
    gw_argv += ["--kv-table", table, "--port", str(gw_port)]
    gw_env = {"KVGRAPH_JWT_SECRET": secret, "KVGRAPH_RATE_LIMIT": "0", "KVGRAPH_WORKERS": "1"}
    bare_argv = [sys.executable, "-m", "gql.commands.bare", path, table, secret, str(bare_port)]
    async with (
        server_process(gw_argv, gw_env, gw_url),
        server_process(bare_argv, {}, bare_url),
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)) as session,
    ):
        for url in (gw_url, bare_url):  # warm up, and check both answer the trip
            for _ in range(WARMUP):
                async with session.post(url, data=body, headers=headers) as resp:
                    answer = await resp.read()
            if trip_id.encode() not in answer:
                raise BenchError(f"{url} did not answer trip {trip_id}: {answer[:300]!r}")
        result = SmallResult([], [])
        for _ in range(SMALL_ROUNDS):
            result.gateway.append(await requests_per_second(gw_url, body, headers, seconds))
            result.bare.append(await requests_per_second(bare_url, body, headers, seconds))
    return result


def format_small(result: SmallResult) -> str:
    """The small query's line: both rates (median of the rounds) and their ratio."""
    gateway, bare = statistics.median(result.gateway), statistics.median(result.bare)
    rounds = lambda values: ", ".join(f"{v:.0f}" for v in values)  # noqa: E731
    return (
        f"small query (trip(id:) {{ id title }}, {SMALL_CONNECTIONS} connections): gateway "
        f"{gateway:.0f} req/s ({rounds(result.gateway)}), bare aiohttp handler {bare:.0f} req/s "
        f"({rounds(result.bare)}); gateway / bare {result.ratio:.2f}"
    )


# ---------------------------------------------------------------- report and command


def format_table(results: Sequence[Result]) -> str:
    """The results as a short table followed by the ratios."""
    lines = [
        f"{'way':<10}{'median ms':>11}{'p95 ms':>10}{'batches':>9}{'round trips':>13}{'bytes':>11}"
    ]
    for r in results:
        lines.append(
            f"{r.way:<10}{r.median_ms:>11.2f}{r.p95_ms:>10.2f}{r.batches:>9}"
            f"{r.round_trips:>13}{r.size:>11,}"
        )
    by_way = {r.way: r for r in results}
    gateway, floor = by_way["gateway"], by_way["floor"]
    ratios = f"gateway / floor: {gateway.median_ms / floor.median_ms:.2f}x   "
    if (naive := by_way.get("n+1")) is not None:
        ratios += f"n+1 / gateway: {naive.median_ms / gateway.median_ms:.1f}x   "
    lines.append(ratios + "(medians)")
    return "\n".join(lines)


def format_scale(sizes: Sequence[tuple[Dataset, list[Result]]], store: str) -> str:
    """How the board's time grows with its rows on `store`, against the floor's."""
    lines = []
    for data, results in sizes:
        by_way = {r.way: r for r in results}
        gateway, floor = by_way["gateway"], by_way["floor"]
        lines.append(
            f"  {len(data.item_ids):>7,} items: gateway {gateway.median_ms:8.2f} ms, "
            f"floor {floor.median_ms:8.2f} ms, "
            f"gateway / floor {gateway.median_ms / floor.median_ms:.2f}x, "
            f"batches {gateway.batches} (floor {floor.batches})"
        )
    (small, small_results), (large, large_results) = sizes[0], sizes[-1]
    grow = {
        way: {r.way: r for r in large_results}[way].median_ms
        / {r.way: r for r in small_results}[way].median_ms
        for way in ("gateway", "floor")
    }
    rows = len(large.item_ids) / len(small.item_ids)
    lines.append(
        f"  {rows:.1f}x the rows: gateway {grow['gateway']:.1f}x the time, "
        f"floor {grow['floor']:.1f}x"
    )
    return "\n".join([f"scale ({store}):", *lines])


def check_args(args: argparse.Namespace) -> str | None:
    """Why these flags cannot be benchmarked, if they cannot."""
    if not 1 <= args.trips <= MAX_PAGE or not 1 <= args.items <= MAX_PAGE:
        return (
            f"--trips and --items must be between 1 and {MAX_PAGE}: the board query reads "
            f"one connection page per level, and a page holds at most {MAX_PAGE} nodes"
        )
    if args.places < 1 or args.requests < 1:
        return "--places and --requests must be at least 1"
    return None


@contextmanager
def bench_store_url(url: str | None) -> Iterator[str]:
    """Yield `url`, or the URL of a SQLite file in a temporary folder removed afterwards."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="kvgraph-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


async def prepare(store: Store, data: Dataset) -> None:
    """Refuse a store that has data, then seed the board."""
    if await store.scan_prefix("", limit=1):
        raise BenchError(f"refusing to seed: table {store.table!r} already has data")
    started = time.perf_counter()
    await seed_store(store, data.rows)
    print(f"seeded {len(data.rows):,} keys in {time.perf_counter() - started:.2f} s")


async def profile_gateway(url: str, table: str, data: Dataset, requests: int) -> str:
    """Profile the board and the small query through the gateway (server thread only)."""
    server = ProfiledServer()
    loop = asyncio.get_running_loop()
    started: asyncio.Future[tuple[str, Settings, asyncio.Event]] = loop.create_future()

    async def serve() -> None:
        stop = asyncio.Event()
        async with running_gateway(url, table) as (endpoint, settings, _store):
            loop.call_soon_threadsafe(started.set_result, (endpoint, settings, stop))
            await stop.wait()

    def failed(done: Any) -> None:  # the gateway did not start: say why instead of waiting
        if not started.done() and not done.cancelled() and done.exception() is not None:
            started.set_exception(done.exception())

    serving = asyncio.run_coroutine_threadsafe(serve(), server.loop)
    serving.add_done_callback(lambda done: loop.call_soon_threadsafe(failed, done))
    stop: asyncio.Event | None = None
    try:
        endpoint, settings, stop = await started
        token = mint_token(settings.secret() or "", data.user_id, audience=settings.jwt_audience)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        board = orjson.dumps({"query": BOARD_QUERY})
        small = orjson.dumps({"query": SMALL_QUERY, "variables": {"id": data.trip_ids[0]}})
        board_stages = await profile_requests(server, endpoint, board, headers, requests)
        small_stages = await profile_requests(server, endpoint, small, headers, requests * 20)
    finally:
        if stop is not None:
            server.loop.call_soon_threadsafe(stop.set)
        await asyncio.wrap_future(serving)
        server.close()
    return "\n".join(
        [
            format_stages("board", board_stages, requests),
            format_stages("small query", small_stages, requests * 20),
        ]
    )


async def run_bench(
    url: str,
    table: str,
    data: Dataset,
    requests: int,
    *,
    naive: bool = True,
    small_seconds: float = 0.0,
) -> tuple[list[Result], SmallResult | None]:
    """Seed the store, then time the ways one after the other (the n+1 way if `naive`), and
    on a SQLite store the small query for `small_seconds` per round (0: not)."""
    store = open_store(url, table)
    await store.open()
    try:
        await prepare(store, data)
        try:
            results = [
                await bench_gateway(url, table, data, requests),
                await bench_direct("floor", floor_board, store, data, requests),
            ]
            if naive:
                results.append(await bench_direct("n+1", n_plus_one_board, store, data, requests))
            small = None
            if small_seconds > 0 and url.startswith(SQLITE):
                small = await bench_small(url[len(SQLITE) :], table, data, small_seconds)
        finally:  # the store was empty: leave it so
            await store.delete_many(list(data.rows))
    finally:
        await store.close()
    return results, small


async def run_profile(url: str, table: str, data: Dataset, requests: int) -> str:
    """Seed the store, profile the gateway by stage, leave the store empty again."""
    store = open_store(url, table)
    await store.open()
    try:
        await prepare(store, data)
        try:
            return await profile_gateway(url, table, data, requests)
        finally:
            await store.delete_many(list(data.rows))
    finally:
        await store.close()


def describe(args: argparse.Namespace, url: str | None) -> str:
    """One line saying what is measured."""
    where = re.sub(r"//[^/@]*@", "//***@", url) if url else "a temporary SQLite file"
    return (
        f"trip board: {args.trips} trips x {args.items} items = {args.trips * args.items:,} "
        f"items, {args.places:,} places, on {where}; {WARMUP} warm-ups, {args.requests} timed runs"
    )


async def bench_command(args: argparse.Namespace) -> int:
    """Run `kvgraph bench`: seed, time the three ways, print the table; the exit code."""
    if reason := check_args(args):
        print(f"kvgraph bench: {reason}", file=sys.stderr)
        return 2
    url: str | None = getattr(args, "store_url", None)
    table: str = getattr(args, "kv_table", None) or "kv_store"
    data = build_dataset(args.trips, args.items, args.places)
    print(describe(args, url), flush=True)
    try:
        with bench_store_url(url) as store_url:
            if getattr(args, "profile", False):
                print(await run_profile(store_url, table, data, args.requests))
                return 0
            await run_stores(args, store_url, table, data)
    except (BenchError, StoreError, ValueError) as exc:
        print(f"kvgraph bench: {exc}", file=sys.stderr)
        return 1
    return 0


async def run_stores(args: argparse.Namespace, url: str, table: str, data: Dataset) -> None:
    """The board on the store (and on `--postgres-url`), the small query, and the scale."""
    small_seconds: float = getattr(args, "small_seconds", SMALL_SECONDS)
    stores = [(url, small_seconds)]
    if postgres := getattr(args, "postgres_url", None):
        stores.append((postgres, 0.0))
    for store_url, seconds in stores:
        results, small = await run_bench(
            store_url, table, data, args.requests, small_seconds=seconds
        )
        print(f"board on {_where(store_url)}:", flush=True)
        print(format_table(results), flush=True)
        if small is not None:
            print(format_small(small), flush=True)
    if getattr(args, "scale", False):
        for scale_store in [None, *([postgres] if postgres else [])]:  # SQLite: a new file
            sizes = []
            for trips, items, places in SCALE_SIZES:
                scaled = build_dataset(trips, items, places)
                with bench_store_url(scale_store) as scale_url:
                    found, _ = await run_bench(scale_url, table, scaled, args.requests, naive=False)
                sizes.append((scaled, found))
            print(format_scale(sizes, "Postgres" if scale_store else "SQLite"), flush=True)


def _where(url: str) -> str:
    """A store URL as printed (no password)."""
    return re.sub(r"//[^/@]*@", "//***@", url)
