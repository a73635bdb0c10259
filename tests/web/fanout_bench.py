"""Subscription fan-out benchmark: real server processes, real graphql-transport-ws clients.

    python -m tests.web.fanout_bench                      # SQLite file, 2 processes
    python -m tests.web.fanout_bench --store postgresql://postgres@127.0.0.1:5432/test

Prints (figures for docs/scale-out.md, never asserted):
- the delivery latency of a message posted over HTTP to one process and received by a
  subscriber on the other (and on the same process, for comparison), median and p95;
- a broadcast to `--subscribers` sockets on one process: how long until all received it;
- the server's resident memory before, with the subscribers, and 2 s after they
  disconnected (the server releases memory a second after a burst of closes), over two
  rounds (a leak shows as growth from round to round); how far it falls depends on the
  allocator (run with `PYTHONMALLOC=malloc` in the environment to compare), so:
- the same broadcast to a server running in this process, with the Python heap measured by
  `tracemalloc` (server and clients): before, with the subscribers, after they left, and the
  store round trips of the post and the broadcast.

The clients offer permessage-deflate, as browsers do.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.settings import Settings
from tests.web.gqlws import GqlWs, bearer
from tests.web.servers import SECRET, Server, free_port

USER = "a11ce000-0000-4000-8000-000000000001"
SUBSCRIBE = "subscription M($id: ID!) { messageAdded(conversationId: $id) { id content } }"
START = (
    "mutation S($input: StartConversationInput!) "
    "{ startConversation(input: $input) { conversation { id } } }"
)
POST = (
    "mutation P($input: PostMessageInput!) "
    "{ postMessage(input: $input) { message { id } userErrors { code } } }"
)
TOKEN = mint_token(SECRET, USER)


async def graphql(session: aiohttp.ClientSession, url: str, query: str, variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = {"query": query, "variables": variables}
    async with session.post(f"{url}/graphql", json=body, headers=headers) as resp:
        data = await resp.json()
    assert "errors" not in data, data
    return data["data"]


async def post(session: aiohttp.ClientSession, url: str, conv: str, text: str) -> str:
    variables = {"input": {"conversationId": conv, "content": text}}
    return str((await graphql(session, url, POST, variables))["postMessage"]["message"]["id"])


async def gauge(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(f"{url}/metrics") as resp:
        for line in (await resp.text()).splitlines():
            if line.startswith("kvgraph_active_subscriptions "):
                return float(line.split()[1])
    return 0.0


async def until_gauge(session: aiohttp.ClientSession, url: str, wanted: int) -> None:
    for _ in range(1200):
        if await gauge(session, url) == wanted:
            await asyncio.sleep(0.3)  # the last ones read their first state
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the gauge never showed {wanted}")


async def subscriber(session: aiohttp.ClientSession, url: str, conv: str) -> tuple[Any, GqlWs]:
    """A socket offering permessage-deflate, as browsers' WebSockets always do."""
    protocols = ["graphql-transport-ws"]
    ws = await session.ws_connect(f"{url}/graphql", protocols=protocols, compress=15)
    client = GqlWs(ws)
    await client.init(bearer(TOKEN))
    return ws, client


async def latency(
    session: aiohttp.ClientSession, sub_url: str, post_url: str, conv: str, count: int
) -> list[float]:
    """Seconds from sending the POST to receiving the event, `count` times."""
    ws, client = await subscriber(session, sub_url, conv)
    op = await client.subscribe(SUBSCRIBE, {"id": conv})
    await until_gauge(session, sub_url, 1)
    found = []
    for n in range(count):
        start = time.perf_counter()
        posted = await post(session, post_url, conv, f"latency {n}")
        got = await client.data(op)
        found.append(time.perf_counter() - start)
        assert got["data"]["messageAdded"]["id"] == posted
    await ws.close()
    await until_gauge(session, sub_url, 0)
    return found


async def broadcast(
    session: aiohttp.ClientSession, one: Server, two: Server, conv: str, count: int
) -> tuple[float, int, int]:
    """(seconds until all `count` subscribers on `one` got a message posted on `two`, RSS with
    them, RSS after they left)."""
    sockets = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as many:
        for start in range(0, count, 100):
            batch = await asyncio.gather(
                *(subscriber(many, one.url, conv) for _ in range(start, min(count, start + 100)))
            )
            sockets += batch
        begin = time.perf_counter()
        ops = await asyncio.gather(*(c.subscribe(SUBSCRIBE, {"id": conv}) for _, c in sockets))
        await until_gauge(session, one.url, count)
        print(f"  ({count} subscriptions started in {time.perf_counter() - begin:.1f} s)")
        with_them = one.rss()
        begin = time.perf_counter()
        posted = await post(session, two.url, conv, "broadcast")
        results = await asyncio.gather(
            *(c.data(op) for (_, c), op in zip(sockets, ops, strict=True))
        )
        took = time.perf_counter() - begin
        assert all(r["data"]["messageAdded"]["id"] == posted for r in results)
        await asyncio.gather(*(ws.close() for ws, _ in sockets))
    await until_gauge(session, one.url, 0)
    await asyncio.sleep(2.0)  # the server releases memory a second after the last close
    return took, with_them, one.rss()


async def in_process(store: str, table: str, folder: Path, count: int) -> None:
    """The broadcast to a server in this process, its heap traced (server and clients)."""
    url = store or f"sqlite:///{folder}/inprocess.db"
    settings = Settings(
        store_url=url, kv_table=table, jwt_secret=SECRET, rate_limit=0, access_log=False
    )
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base_url = f"http://127.0.0.1:{port}"
    feed = app[STORE].changes
    try:
        async with aiohttp.ClientSession() as session:
            created = await graphql(session, base_url, START, {"input": {"title": "heap"}})
            conv = created["startConversation"]["conversation"]["id"]
            stats = app[STORE].stats
            await heap_round(session, base_url, conv, feed, count, stats)  # warm-up
            gc.collect()
            tracemalloc.start()  # counts what is allocated from now on and still held
            baseline = tracemalloc.get_traced_memory()[0]
            for round_ in (1, 2):
                with_them, took, trips = await heap_round(
                    session, base_url, conv, feed, count, stats
                )
                gc.collect()
                after = tracemalloc.get_traced_memory()[0]
                print(
                    f"in-process round {round_}: {count} subscribers got the broadcast in "
                    f"{took * 1000:.0f} ms; traced heap {baseline / 2**20:.2f} MiB before, "
                    f"{with_them / 2**20:.2f} MiB with them, {after / 2**20:.2f} MiB after "
                    f"(+{(after - baseline) / 2**10:.0f} KiB); the post and the broadcast took "
                    f"{trips} store round trips"
                )
            tracemalloc.stop()
    finally:
        await runner.cleanup()


async def heap_round(
    session: aiohttp.ClientSession, url: str, conv: str, feed: Any, count: int, stats: Any
) -> tuple[int, float, int]:
    """Connect `count` subscribers, broadcast, disconnect: (traced bytes with them, seconds,
    store round trips of the post and the broadcast)."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as many:
        sockets = []
        for start in range(0, count, 100):
            sockets += await asyncio.gather(
                *(subscriber(many, url, conv) for _ in range(start, min(count, start + 100)))
            )
        ops = await asyncio.gather(*(c.subscribe(SUBSCRIBE, {"id": conv}) for _, c in sockets))
        await until(lambda: feed.active >= count)
        gc.collect()
        with_them = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
        begin, trips = time.perf_counter(), stats.round_trips
        posted = await post(session, url, conv, "broadcast")
        results = await asyncio.gather(
            *(c.data(op) for (_, c), op in zip(sockets, ops, strict=True))
        )
        took, trips = time.perf_counter() - begin, stats.round_trips - trips
        assert all(r["data"]["messageAdded"]["id"] == posted for r in results)
        await asyncio.gather(*(ws.close() for ws, _ in sockets))
        del sockets, results
    await until(lambda: not (feed.active or len(feed)))
    return with_them, took, trips


async def until(check: Any) -> None:
    """Poll `check()` every 50 ms until it holds (two minutes at most)."""
    for _ in range(2400):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(values) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


async def run(store: str, subscribers: int, messages: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kvgraph-fanout-"))
    table = f"kv_bench_{uuid.uuid4().hex[:8]}"
    url = store or f"sqlite:///{folder}/kv.db"
    env = {"KVGRAPH_METRICS": "true", "KVGRAPH_RATE_LIMIT": "0"}
    one = Server(folder, url, table, **env)
    two = Server(folder, url, table, **env)
    try:
        async with aiohttp.ClientSession() as session:
            variables = {"input": {"title": "bench"}}
            created = await graphql(session, two.url, START, variables)
            conv = created["startConversation"]["conversation"]["id"]
            same = await latency(session, one.url, one.url, conv, messages)
            other = await latency(session, one.url, two.url, conv, messages)
            print(f"store: {url.split('@')[-1]}, {messages} messages each")
            print(f"  post and subscriber on one process:   {ms(same)}")
            print(f"  post on one, subscriber on the other: {ms(other)}")
            await broadcast(session, one, two, conv, 50)  # warm-up
            baseline = one.rss()
            for round_ in (1, 2):
                took, with_them, after = await broadcast(session, one, two, conv, subscribers)
                print(
                    f"round {round_}: {subscribers} subscribers on one process got a message "
                    f"posted on the other in {took * 1000:.0f} ms; server RSS "
                    f"{baseline / 2**20:.1f} MiB before, {with_them / 2**20:.1f} MiB with "
                    f"them, {after / 2**20:.1f} MiB after they left"
                )
        await in_process(store, table + "_heap", folder, subscribers)
    finally:
        one.stop()
        two.stop()
        if url.startswith("postgres"):
            conn = await asyncpg.connect(url)
            await conn.execute(f'DROP TABLE IF EXISTS "{table}", "{table}_heap"')
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="", help="postgresql://... (default: a SQLite file)")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(run(args.store, args.subscribers, args.messages))


if __name__ == "__main__":
    main()
