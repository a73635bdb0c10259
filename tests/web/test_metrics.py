"""Prometheus metrics: what moves for a query, an error, a rejection; the label cap; /metrics
itself (off by default, behind its token when one is set); one registry per app."""

from __future__ import annotations

import asyncio
import io
import json
import urllib.request
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from gql.web.appkeys import LIMITER, METRICS, STORE
from gql.web.auth import mint_token
from gql.web.metrics import ANONYMOUS, OTHER, Metrics, OperationLabels, operation_names
from gql.web.observe import TOKEN_LIMIT_WORDS, observe_middleware
from gql.web.persisted import Operation, document_hash, manifest
from gql.web.server import refuse_reason
from gql.web.settings import Settings
from gql.web.timeout import within
from tests.support import BOARD, SECRET, U, app_client, board_data, over
from tests.web.test_serve import free_port, start, stop, wait_until_up

Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]
METRICS_TOKEN = "scrape-token-0123456789"
SIXTY = "{ viewer { trips(first: 60) { nodes { id } } } }"  # 62 nodes
DEEP = "query Deep { viewer { trips(first: 1) { nodes { items(first: 1) { nodes { trip { items(first: 1) { nodes { trip { id } } } } } } } } } }"


def bearer(user: str = U) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user)}"}


def sample(client: Client, name: str, **labels: str) -> float:
    """A sample of the app's own registry (0.0 when it has not been counted yet)."""
    value = client.app[METRICS].registry.get_sample_value(name, labels)
    return value or 0.0


def requests(client: Client, operation: str, status: str = "200") -> float:
    return sample(client, "kvgraph_requests_total", operation=operation, status=status)


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await app_client(aiohttp_client, tmp_path, metrics=True, debug_stats=True)


async def test_a_query_moves_requests_latency_and_store_counters(client: Client) -> None:
    await board_data(client.app[STORE], trips=3, items=4)
    resp = await over(client, "POST", BOARD, headers=bearer())
    kv = (await resp.json())["extensions"]["kv"]  # the request's own count (debug stats)
    assert resp.status == 200 and kv["batches"] > 0 and kv["keys"] > 0
    assert requests(client, "Board") == 1
    assert sample(client, "kvgraph_request_duration_seconds_count", operation="Board") == 1
    assert sample(client, "kvgraph_store_batches_total", operation="Board") == kv["batches"]
    assert sample(client, "kvgraph_store_keys_total", operation="Board") == kv["keys"]
    assert sample(client, "kvgraph_store_keys_per_request_sum") == kv["keys"]
    assert sample(client, "kvgraph_store_batches_per_request_count") == 1
    await over(client, "GET", BOARD, headers=bearer())
    assert requests(client, "Board") == 2
    assert sample(client, "kvgraph_store_batches_total", operation="Board") == 2 * kv["batches"]
    assert sample(client, "kvgraph_errors_total", code="INTERNAL_SERVER_ERROR") == 0


async def test_error_codes_are_counted_once_per_request(client: Client) -> None:
    await over(client, "POST", "{ nope }")
    await over(client, "POST", "{ nope nope2 }")  # two errors, one request
    assert sample(client, "kvgraph_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 2
    resp = await over(client, "POST", "{ viewer { id } }", headers={"Authorization": "Bearer x"})
    assert resp.status == 401
    assert sample(client, "kvgraph_errors_total", code="UNAUTHENTICATED") == 1
    assert requests(client, ANONYMOUS, "401") == 1


async def test_a_rate_limit_rejection_is_counted(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await app_client(
        aiohttp_client, tmp_path, metrics=True, max_nodes=100, rate_limit=100, rate_window=3600.0
    )
    assert (await over(client, "POST", SIXTY, headers=bearer())).status == 200
    assert (await over(client, "POST", SIXTY, headers=bearer())).status == 429  # admission
    while (await over(client, "POST", "{ viewer {", headers=bearer())).status == 200:
        pass  # refused documents cost their tokens, into debt: then refused before reading
    assert sample(client, "kvgraph_rejections_total", limit="rate") == 2
    assert sample(client, "kvgraph_errors_total", code="RATE_LIMITED") == 2
    assert requests(client, ANONYMOUS, "429") == 2


@pytest.mark.parametrize(
    ("settings", "document", "limit"),
    [
        ({"max_depth": 3}, DEEP, "depth"),
        ({"max_aliases": 1}, "{ a: viewer { id } b: viewer { id } }", "aliases"),
        ({"max_nodes": 10}, SIXTY, "nodes"),
        ({"max_tokens": 5}, DEEP, "tokens"),
    ],
)
async def test_limit_rejections_are_counted_by_limit(
    aiohttp_client: MakeClient, tmp_path: Path, settings: dict, document: str, limit: str
) -> None:
    client = await app_client(aiohttp_client, tmp_path, metrics=True, **settings)
    body = await (await over(client, "POST", document, headers=bearer())).json()
    assert body["errors"], body
    if limit == "tokens":  # graphql-core's words, the only mark of the token limit
        assert body["errors"][0]["message"].startswith(TOKEN_LIMIT_WORDS)
    assert sample(client, "kvgraph_rejections_total", limit=limit) == 1
    assert (
        sum(
            sample(client, "kvgraph_rejections_total", limit=other)
            for other in ("depth", "aliases", "nodes", "tokens", "rate", "body")
        )
        == 1
    )


async def test_a_read_limit_rejection_is_counted(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await app_client(aiohttp_client, tmp_path, metrics=True, max_records=2)
    await board_data(client.app[STORE], trips=3, items=4)
    body = await (await over(client, "POST", BOARD, headers=bearer())).json()
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert sample(client, "kvgraph_rejections_total", limit="records") == 1
    assert sample(client, "kvgraph_errors_total", code="QUERY_TOO_LARGE") == 1


async def test_a_body_too_large_is_a_rejection(client: Client) -> None:
    resp = await client.post(
        "/graphql", data=io.BytesIO(b"x" * (2 << 20)), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert sample(client, "kvgraph_rejections_total", limit="body") == 1
    assert requests(client, ANONYMOUS, "413") == 1


async def test_a_timeout_is_a_rejection(aiohttp_client: MakeClient) -> None:
    metrics = Metrics(OperationLabels((), 10))
    app = web.Application(middlewares=[observe_middleware(metrics, lines=None)])

    async def never(request: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    app.router.add_post("/graphql", partial(within, 0.01, handler=never))
    client = await aiohttp_client(app)
    assert (await client.post("/graphql")).status == 504
    registry = metrics.registry
    assert registry.get_sample_value("kvgraph_rejections_total", {"limit": "timeout"}) == 1
    assert registry.get_sample_value("kvgraph_errors_total", {"code": "TIMEOUT"}) == 1
    assert (
        registry.get_sample_value(
            "kvgraph_requests_total", {"operation": ANONYMOUS, "status": "504"}
        )
        == 1
    )


async def test_operation_labels_are_capped(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    client = await app_client(aiohttp_client, tmp_path, metrics=True, metrics_max_operations=2)
    for name in ("A", "B", "C", "D", "A"):
        await over(client, "POST", f"query {name} {{ viewer {{ id }} }}")
    await over(client, "POST", "{ viewer { id } }")
    assert [requests(client, name) for name in ("A", "B", OTHER, ANONYMOUS)] == [2, 1, 2, 1]
    assert requests(client, "C") == requests(client, "D") == 0
    exposed = (await (await client.get("/metrics")).text()).splitlines()
    labelled = {
        line.split('operation="')[1].split('"')[0] for line in exposed if "operation=" in line
    }
    assert labelled == {"A", "B", OTHER, ANONYMOUS}


async def test_an_operation_name_that_names_nothing_is_no_label(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await app_client(aiohttp_client, tmp_path, metrics=True, metrics_max_operations=1)
    resp = await client.post(
        "/graphql", json={"query": "query A { viewer { id } }", "operationName": "Spoofed"}
    )
    assert resp.status == 400  # the name names no operation of the document
    await over(client, "POST", "query A { viewer { id } }")
    assert requests(client, "A") == 1 and requests(client, "Spoofed", str(resp.status)) == 0


async def test_registered_operations_keep_their_labels(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    documents = ["query Trips { viewer { id } }", "query Me { viewer { id } }"]
    path = tmp_path / "persisted-queries.json"
    ops = [Operation(document_hash(d), f"Op{n}", "query", d) for n, d in enumerate(documents)]
    path.write_bytes(manifest(ops))
    client = await app_client(
        aiohttp_client,
        tmp_path,
        metrics=True,
        metrics_max_operations=0,
        persisted_queries_file=str(path),
    )
    for document in [*documents, "query Stranger { viewer { id } }"]:
        assert (await over(client, "POST", document)).status == 200
    assert [requests(client, name) for name in ("Trips", "Me", OTHER)] == [1, 1, 1]


def test_operation_names_of_documents() -> None:
    found = operation_names(["query A { x } mutation B { y }", "{ z }", "query {", "query C { w }"])
    assert found == {"A", "B", "C"}
    labels = OperationLabels({"A"}, 1)
    assert [labels.label(n) for n in ("A", None, "X", "Y", "A", "X")] == [
        "A",
        ANONYMOUS,
        "X",
        OTHER,
        "A",
        "X",
    ]


async def test_preflights_and_the_ide_page_are_not_operations(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await app_client(
        aiohttp_client, tmp_path, metrics=True, cors_origins=["https://app.example"]
    )
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    assert (await client.options("/graphql", headers=preflight)).status == 204
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status == 200 and page.content_type == "text/html"
    assert sample(client, "kvgraph_store_batches_per_request_count") == 0


async def test_metrics_endpoint_exposes_every_family(client: Client) -> None:
    await over(client, "POST", "query Me { viewer { id } }", headers=bearer())
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
    for name in (
        "kvgraph_requests",
        "kvgraph_request_duration_seconds",
        "kvgraph_store_batches",
        "kvgraph_store_keys",
        "kvgraph_store_batches_per_request",
        "kvgraph_store_keys_per_request",
        "kvgraph_errors",
        "kvgraph_rejections",
        "kvgraph_active_subscriptions",
        "kvgraph_websockets",
        "kvgraph_websocket_duration_seconds",
        "process_cpu_seconds",
    ):
        assert name in families, name
    [gauge] = families["kvgraph_active_subscriptions"].samples
    assert gauge.value == 0  # no subscriptions yet
    assert (await client.get("/metrics")).status == 200  # not counted as a /graphql request
    assert requests(client, "Me") == 1


async def test_metrics_are_off_by_default(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    client = await app_client(aiohttp_client, tmp_path)
    assert (await client.get("/metrics")).status == 404
    assert METRICS not in client.app
    assert (await over(client, "POST", "{ viewer { id } }")).status == 200


async def test_the_metrics_token_is_required_when_set(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await app_client(aiohttp_client, tmp_path, metrics=True, metrics_token=METRICS_TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        resp = await client.get("/metrics", headers=headers)
        assert resp.status == 401 and "Bearer" in resp.headers["WWW-Authenticate"]
        assert METRICS_TOKEN not in await resp.text()
    ok = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status == 200 and "kvgraph_requests" in await ok.text()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"metrics": True, "metrics_token": "short"}, "at least 16 characters"),
        ({"metrics_token": METRICS_TOKEN}, "KVGRAPH_METRICS is off"),
        ({"metrics_max_operations": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_metrics_settings_are_refused(values: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(jwt_secret=SECRET, **values)


def test_metrics_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KVGRAPH_METRICS", "true")
    monkeypatch.setenv("KVGRAPH_METRICS_TOKEN", METRICS_TOKEN)
    settings = Settings(jwt_secret=SECRET)
    assert settings.metrics and settings.metrics_token is not None
    assert METRICS_TOKEN not in repr(settings)


def test_metrics_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert Settings(jwt_secret=SECRET).metrics_warnings() == []
    assert Settings(jwt_secret=SECRET, metrics=True).metrics_warnings() == []  # loopback
    public = Settings(jwt_secret=SECRET, metrics=True, host="0.0.0.0", workers=2)
    open_port, workers = public.metrics_warnings()
    assert "KVGRAPH_METRICS_TOKEN" in open_port and "2 workers" in workers
    guarded = Settings(jwt_secret=SECRET, metrics=True, metrics_token=METRICS_TOKEN, host="::")
    assert guarded.metrics_warnings() == []


async def test_apps_in_one_process_count_apart(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = await app_client(aiohttp_client, tmp_path / "a", metrics=True)
    second = await app_client(aiohttp_client, tmp_path / "b", metrics=True)
    await over(first, "POST", "query Me { viewer { id } }")
    assert requests(first, "Me") == 1 and requests(second, "Me") == 0


@pytest.mark.slow
def test_workers_add_up_in_multi_process_mode(tmp_path: Path) -> None:
    counts = tmp_path / "counts"
    counts.mkdir()
    (counts / "counter_1.db").write_bytes(b"a previous run's counts")
    port = free_port()
    proc = start(
        tmp_path,
        "--insecure-no-auth",
        "--port",
        str(port),
        "--workers",
        "2",
        KVGRAPH_METRICS="true",
        PROMETHEUS_MULTIPROC_DIR=str(counts),
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        body = json.dumps({"query": "query Me { viewer { id } }"}).encode()
        for _ in range(20):  # a new connection each: the kernel spreads them over the workers
            request = urllib.request.Request(
                f"{url}/graphql", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as resp:
                assert resp.status == 200
        assert len(list(counts.glob("histogram_*.db"))) == 2  # one file per worker
        assert not (counts / "counter_1.db").exists()  # cleared at start
        for _ in range(3):  # whichever worker answers the scrape
            with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
                exposed = resp.read().decode()
            assert 'kvgraph_requests_total{operation="Me",status="200"} 20.0' in exposed
    finally:
        assert stop(proc) == 0


def test_a_missing_multi_process_folder_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    reason = refuse_reason(Settings(jwt_secret=SECRET, metrics=True))
    assert reason is not None and "PROMETHEUS_MULTIPROC_DIR" in reason
    assert refuse_reason(Settings(jwt_secret=SECRET)) is None  # no metrics: not used
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert refuse_reason(Settings(jwt_secret=SECRET, metrics=True)) is None


# ----------------------------------------------------------------------------------- sockets

SUBSCRIBE = "subscription Mine { suggestionChanged { id status } }"


async def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """/metrics as it is served: each sample's value by its name and labels."""
    text = await (await client.get("/metrics")).text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of the samples of `name` having these labels (among others)."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in scraped.items() if n == name and wanted <= found)


async def scraped_until(client: Client, name: str, **labels: str) -> Any:
    """Scrape until a sample of `name` (with these labels) counts (the server finishes a
    socket after the client has closed it)."""
    for _ in range(200):
        scraped = await scrape(client)
        if total(scraped, name, **labels):
            return scraped
        await asyncio.sleep(0.025)
    raise AssertionError(f"{name} {labels} never counted")


async def test_a_socket_is_counted_apart_from_requests(client: Client) -> None:
    """Its whole life is no request's latency: a socket has its own count and duration."""
    from tests.web.gqlws import bearer as init_bearer
    from tests.web.gqlws import connect

    async with connect(client, "/graphql") as ws:
        await ws.init(init_bearer(mint_token(SECRET, U)))
        await ws.subscribe(SUBSCRIBE)
        await asyncio.sleep(0.3)
    scraped = await scraped_until(client, "kvgraph_websocket_duration_seconds_count")
    assert total(scraped, "kvgraph_websocket_duration_seconds_count") == 1
    assert total(scraped, "kvgraph_websocket_duration_seconds_sum") >= 0.3
    assert total(scraped, "kvgraph_websockets_total", status="101") == 1
    assert total(scraped, "kvgraph_requests_total") == 0
    assert total(scraped, "kvgraph_request_duration_seconds_count") == 0


async def refused_socket(client: Client, how: str) -> None:
    """Open a socket that is refused `how`."""
    from tests.web.gqlws import bearer as init_bearer
    from tests.web.gqlws import connect

    if how in ("origin", "upgrade token"):
        headers = {"Origin": "https://evil.example"} if how == "origin" else {}
        headers |= {"Authorization": "Bearer x"} if how == "upgrade token" else {}
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await client.ws_connect("/graphql", protocols=["graphql-transport-ws"], headers=headers)
        return
    async with connect(client, "/graphql") as ws:
        if how == "init token":
            await ws.send({"type": "connection_init", "payload": {"Authorization": "Bearer x"}})
            await ws.closed()
            return
        await ws.init(init_bearer(mint_token(SECRET, U)))
        if how == "rate":  # the viewer's allowance is spent (by its HTTP requests, say)
            limiter = client.app[LIMITER]
            assert limiter.viewers is not None
            limiter.viewers.charge(f"viewer:{U}", limiter.viewers.allowance)
        for _ in range(101 if how == "subscriptions" else 1):
            await ws.subscribe(SUBSCRIBE)  # admitted ones send nothing until an event
        refusal = await ws.receive()
        assert refusal["type"] == "error", refusal
        [error] = refusal["payload"]
        assert error["extensions"]["code"] == ("RATE_LIMITED" if how == "rate" else "BAD_REQUEST")
        return
    raise AssertionError(f"never refused: {how}")


@pytest.mark.parametrize(
    ("how", "status", "code", "limit"),
    [
        ("origin", "403", "FORBIDDEN", None),
        ("upgrade token", "401", "UNAUTHENTICATED", None),
        ("init token", "101", "UNAUTHENTICATED", None),
        ("rate", "101", "RATE_LIMITED", "rate"),
        ("subscriptions", "101", "BAD_REQUEST", "subscriptions"),
    ],
)
async def test_a_refused_socket_is_counted_by_reason(
    aiohttp_client: MakeClient, tmp_path: Path, how: str, status: str, code: str, limit: str | None
) -> None:
    """As an HTTP refusal is: its code in kvgraph_errors, its limit in kvgraph_rejections."""
    client = await app_client(
        aiohttp_client,
        tmp_path,
        metrics=True,
        cors_origins=["https://app.example"],
    )
    await refused_socket(client, how)
    scraped = await scraped_until(client, "kvgraph_errors_total", code=code)
    assert total(scraped, "kvgraph_errors_total", code=code) == 1
    assert total(scraped, "kvgraph_errors_total") == 1
    assert total(scraped, "kvgraph_rejections_total") == (1 if limit else 0)
    if limit:
        assert total(scraped, "kvgraph_rejections_total", limit=limit) == 1
    scraped = await scraped_until(client, "kvgraph_websockets_total", status=status)
    assert total(scraped, "kvgraph_websockets_total") == 1
    assert total(scraped, "kvgraph_requests_total") == 0
