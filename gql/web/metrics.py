"""Prometheus metrics of one app, in a registry of its own (several apps in one process, as in
the tests, never share a counter).

Operation names come from clients, so labels are bounded: an unnamed operation is
`(anonymous)`, the names of registered documents (`KVGRAPH_PERSISTED_QUERIES_FILE`) always
have their own label, and of the others only the first `KVGRAPH_METRICS_MAX_OPERATIONS`
seen do; later ones count as `(other)`. Error codes and limit names are kvgraph's own, a
fixed set.

A WebSocket (subscriptions) is not a request: its handshake is counted by status and its life
by its own histogram, never in the request latency. Each refusal or event it answers with
errors counts its codes and limits as an HTTP answer does, so a refusal is counted by reason
whichever transport it came over.

Each worker process (`KVGRAPH_WORKERS`) counts on its own, and a scrape reaches one of them;
with `PROMETHEUS_MULTIPROC_DIR` set (prometheus_client's multi-process mode, chosen when it is
imported) every worker writes its counts there and /metrics answers their sum.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Iterable
from pathlib import Path
from threading import Lock

from aiohttp import web
from aiohttp.typedefs import Handler
from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.multiprocess import MultiProcessCollector

ANONYMOUS = "(anonymous)"  # not a GraphQL name, so no operation can be called so
OTHER = "(other)"
BATCH_BUCKETS = (0, 1, 2, 4, 8, 16, 32, 64)
KEY_BUCKETS = (0, 1, 10, 100, 1_000, 10_000, 100_000)
SOCKET_BUCKETS = (1, 10, 60, 300, 900, 3_600, 14_400, 86_400)  # seconds a socket stays open
UPGRADED = 101  # the status of a WebSocket handshake accepted
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
_COUNT_FILE = re.compile(r"(counter|gauge_\w+|histogram|summary)_\d+\.db")
UNAUTHORIZED = "/metrics needs Authorization: Bearer <KVGRAPH_METRICS_TOKEN>\n"


class OperationLabels:
    """The label of each operation name: its own for the registered and the first `cap` seen."""

    def __init__(self, registered: Iterable[str], cap: int) -> None:
        self._named = set(registered)
        self._room = cap
        self._lock = Lock()

    def label(self, name: str | None) -> str:
        """`name`'s label: itself, `(anonymous)` or, past the cap, `(other)`."""
        if name is None:
            return ANONYMOUS
        if name in self._named:
            return name
        with self._lock:
            if self._room <= 0:
                return OTHER
            self._room -= 1
            self._named.add(name)
        return name


def operation_names(documents: Iterable[str]) -> set[str]:
    """The names of the operations in `documents` (registered queries; unparsable ones skipped)."""
    names = set()
    for text in documents:
        try:
            document = parse(text)
        except GraphQLSyntaxError:
            continue
        for node in document.definitions:
            if isinstance(node, OperationDefinitionNode) and node.name:
                names.add(node.name.value)
    return names


class Metrics:
    """The app's metrics and the one call that records a finished request."""

    def __init__(self, labels: OperationLabels) -> None:
        self.labels = labels
        self.registry = registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=registry)
        self.requests = Counter(
            "kvgraph_requests",
            "/graphql requests answered, by operation name and HTTP status.",
            ["operation", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "kvgraph_request_duration_seconds",
            "Time from receiving a /graphql request to its answer, by operation name.",
            ["operation"],
            registry=registry,
        )
        self.batches = Counter(
            "kvgraph_store_batches",
            "Batched reads of the key-value table (one round trip each), by operation name.",
            ["operation"],
            registry=registry,
        )
        self.keys = Counter(
            "kvgraph_store_keys",
            "Keys read from the key-value table in batches, by operation name.",
            ["operation"],
            registry=registry,
        )
        self.batches_per_request = Histogram(
            "kvgraph_store_batches_per_request",
            "Batched reads per /graphql request.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.keys_per_request = Histogram(
            "kvgraph_store_keys_per_request",
            "Keys read in batches per /graphql request.",
            buckets=KEY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "kvgraph_errors",
            "/graphql answers (requests; a socket's refusals and events) with at least one "
            "error of this code.",
            ["code"],
            registry=registry,
        )
        self.rejections = Counter(
            "kvgraph_rejections",
            "/graphql answers (requests; a socket's refusals and events) refused for going "
            "over this limit.",
            ["limit"],
            registry=registry,
        )
        self.websockets = Counter(
            "kvgraph_websockets",
            "/graphql WebSocket handshakes answered, by HTTP status (101: a socket opened).",
            ["status"],
            registry=registry,
        )
        self.websocket_duration = Histogram(
            "kvgraph_websocket_duration_seconds",
            "How long each /graphql WebSocket stayed open.",
            buckets=SOCKET_BUCKETS,
            registry=registry,
        )
        # The labelled children, by label: at most the labels the cap allows (x statuses).
        self._requests: dict[tuple[str, int], Counter] = {}
        self._children: dict[str, tuple[Histogram, Counter, Counter]] = {}
        self.subscriptions = Gauge(
            "kvgraph_active_subscriptions",
            "Subscriptions active now (started and watching the store for changes).",
            registry=registry,
            multiprocess_mode="livesum",
        )

    def _per_operation(self, label: str) -> tuple[Histogram, Counter, Counter]:
        """The labelled duration, batches and keys of an operation (looked up once)."""
        found = self._children.get(label)
        if found is None:
            found = self._children[label] = (
                self.duration.labels(label),
                self.batches.labels(label),
                self.keys.labels(label),
            )
        return found

    def record(
        self,
        operation: str | None,
        status: int,
        seconds: float,
        batches: int,
        keys: int,
        codes: Iterable[str],
        limits: Iterable[str],
    ) -> None:
        """Count one answered /graphql request."""
        label = self.labels.label(operation)
        requests = self._requests.get((label, status))
        if requests is None:
            requests = self._requests[label, status] = self.requests.labels(label, str(status))
        requests.inc()
        duration, batches_read, keys_read = self._per_operation(label)
        duration.observe(seconds)
        if batches:
            batches_read.inc(batches)
            keys_read.inc(keys)
        self.batches_per_request.observe(batches)
        self.keys_per_request.observe(keys)
        self.count(codes, limits)

    def record_socket(
        self, status: int, seconds: float, codes: Iterable[str], limits: Iterable[str]
    ) -> None:
        """Count one /graphql WebSocket once it is closed (or its handshake refused)."""
        self.websockets.labels(str(status)).inc()
        if status == UPGRADED:
            self.websocket_duration.observe(seconds)
        self.count(codes, limits)

    def count(self, codes: Iterable[str], limits: Iterable[str]) -> None:
        """Count one answer's error codes and the limits it was refused for."""
        for code in codes:
            self.errors.labels(code).inc()
        for limit in limits:
            self.rejections.labels(limit).inc()


def exposed(metrics: Metrics) -> CollectorRegistry:
    """What /metrics shows: the app's registry, or in multi-process mode every worker's sum."""
    path = os.environ.get(MULTIPROC_DIR)
    if not path:
        return metrics.registry
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path)
    return registry


def clear_counts() -> None:
    """Remove the counts a previous run left in the multi-process directory (if one is set)."""
    path = os.environ.get(MULTIPROC_DIR)
    if path and Path(path).is_dir():
        for file in Path(path).iterdir():
            if _COUNT_FILE.fullmatch(file.name):
                file.unlink()


def metrics_handler(metrics: Metrics, token: str | None) -> Handler:
    """GET /metrics: the counts in Prometheus' text format, behind `token` if one is set."""
    expose = make_aiohttp_handler(exposed(metrics))
    expected = f"Bearer {token}".encode() if token else None

    async def serve_metrics(request: web.Request) -> web.StreamResponse:
        if expected is not None:
            given = request.headers.get("Authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, expected):
                challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
                return web.Response(status=401, text=UNAUTHORIZED, headers=challenge)
        return await expose(request)

    return serve_metrics
