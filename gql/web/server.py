"""Running the app: start-up checks, one process or several workers on one port."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.connection import wait
from pathlib import Path

from aiohttp import web

from gql.kv.base import Fault, TableProblem, blocking, open_and_inspect
from gql.web import logs
from gql.web.app import create_app
from gql.web.metrics import MULTIPROC_DIR, clear_counts
from gql.web.settings import Settings

GC_THRESHOLD = (10_000, 20, 50)  # allocations before a young collection; see settle_gc
SHUTDOWN_TIMEOUT = 10.0  # seconds in-flight requests get on SIGTERM/SIGINT
ALLOW_RLS_HINT = "KVGRAPH_ALLOW_RLS=true or --allow-rls"


def refuse_reason(settings: Settings) -> str | None:
    """Why the server must not start with these settings, if it must not."""
    counts = os.environ.get(MULTIPROC_DIR)
    if settings.metrics and counts and not Path(counts).is_dir():
        return f"{MULTIPROC_DIR} ({counts}) is not a folder: make it, empty, or unset it"
    if settings.workers > 1 and settings.port == 0:
        return "several workers need a fixed port (they share it): pass --port"
    if settings.dev and settings.insecure_no_auth:
        return "--dev and --insecure-no-auth exclude each other: pick one"
    if (settings.dev or settings.insecure_no_auth) and settings.real_keys():
        flag = "--dev" if settings.dev else "--insecure-no-auth"
        return (
            f"{flag} is refused when KVGRAPH_JWT_SECRET or KVGRAPH_JWKS_URL is set "
            "(this looks like a real deployment)"
        )
    if not (settings.real_keys() or settings.dev or settings.insecure_no_auth):
        return (
            "no keys to check tokens: set KVGRAPH_JWT_SECRET (your Supabase JWT secret) and/or "
            "KVGRAPH_JWKS_URL, or run with --dev for local development, or --insecure-no-auth "
            "to serve anonymous requests only"
        )
    return None


def serve(settings: Settings, banner: str = "", *, table_checked: bool = False) -> int:
    """Run the gateway until SIGINT/SIGTERM; returns the exit code.

    `banner` is printed once the settings and the table are accepted (default: where it
    serves); `table_checked` when the caller has already run `check_table`.
    """
    logs.configure(settings.log_format)
    if reason := refuse_reason(settings):
        print(f"kvgraph: refusing to start: {reason}", file=sys.stderr)
        return 2
    if not table_checked and check_table(settings):  # once, before forking workers
        return 1
    if not banner:
        workers = f", {settings.workers} workers" if settings.workers > 1 else ""
        where = settings.store_url.split("@")[-1]
        banner = f"kvgraph serving {url_of(settings)} (store {where}{workers})"
    print(banner)
    for warning in settings.metrics_warnings():
        print(f"kvgraph: warning: {warning}")
    for note in settings.api_key_notes():
        print(f"kvgraph: note: {note}")
    if settings.metrics:
        clear_counts()  # in multi-process mode, a previous run's counts must not be added
    if settings.workers == 1:
        _worker(settings, reuse_port=False)
        return 0
    return _supervise(settings)


def check_table(settings: Settings) -> list[TableProblem]:
    """Open the store once and print, one line each, the table problems that stop the server.

    Returns those problems (empty: start). Opening also creates a missing table and, for
    SQLite, switches to WAL, so workers forked afterwards find both done.
    """
    found = asyncio.run(_inspect(settings))
    refusing = blocking(found, allow_rls=settings.allow_rls)
    for problem in found:
        if problem in refusing:
            print(f"kvgraph: refusing to start: {explain(problem)}", file=sys.stderr)
        else:
            print(f"kvgraph: warning: {problem.message} (allowed by KVGRAPH_ALLOW_RLS)")
    return refusing


def explain(problem: TableProblem) -> str:
    """A problem's line, with how to allow row-level security where that is the problem."""
    if problem.code is Fault.RLS:
        return f"{problem.message} ({ALLOW_RLS_HINT})"
    return problem.message


def url_of(settings: Settings) -> str:
    """The GraphQL endpoint these settings serve."""
    return f"http://{settings.host}:{settings.port}/graphql"


async def _inspect(settings: Settings) -> list[TableProblem]:
    try:
        store = settings.make_store()
    except ValueError as exc:  # e.g. a SQLite URL that names no file
        return [TableProblem(Fault.UNREACHABLE, str(exc))]
    try:
        return await open_and_inspect(store)
    finally:
        await store.close()


def _worker(settings: Settings, *, reuse_port: bool) -> None:
    """Serve until SIGINT/SIGTERM (in-flight requests get SHUTDOWN_TIMEOUT to finish)."""
    sock = socket.create_server((settings.host, settings.port), reuse_port=reuse_port)
    asyncio.run(_serve(settings, sock))


async def _serve(settings: Settings, sock: socket.socket) -> None:
    """Run the app on `sock` until the first SIGINT/SIGTERM, then shut down gracefully.

    A second signal (Ctrl-C reaches every process of the group, and the supervisor forwards
    SIGTERM too) must not interrupt the shutdown half-way, so signals only set an event.
    """
    runner = web.AppRunner(
        create_app(settings),
        handle_signals=False,
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    settle_gc()
    await web.SockSite(runner, sock).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def settle_gc() -> None:
    """Tune the garbage collector for serving, once the app is built and its store open.

    A request allocates thousands of short-lived objects (the board: ~100,000), all freed by
    reference counting; with Python's default threshold (700) they set off a young collection
    every few hundred and a full one, which walks every object the process holds (schema,
    modules, cached records), every hundred or so. `gc.freeze()` leaves what exists at start
    out of every later collection, and a young threshold of 10,000 makes collections rare
    (cycles wait a little longer for theirs).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def _supervise(settings: Settings) -> int:
    """Run worker processes on one port; stop them all on a signal or when one dies.

    Each worker listens on its own SO_REUSEPORT socket and the kernel hashes new connections
    across them (with one shared socket, one busy worker tends to take them all).
    """
    forks = multiprocessing.get_context("fork")
    workers = [
        forks.Process(target=_worker, args=(settings,), kwargs={"reuse_port": True})
        for _ in range(settings.workers)
    ]
    for process in workers:
        process.start()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for process in workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: each worker shuts down gracefully

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while alive := [process for process in workers if process.is_alive()]:
        wait([process.sentinel for process in alive], timeout=1.0)
        if not stopping and any(process.exitcode not in (None, 0) for process in workers):
            print("kvgraph: a worker died; stopping the others", file=sys.stderr)
            stop()
    crashed = any(process.exitcode not in (0, -signal.SIGTERM) for process in workers)
    return 1 if crashed and not stopping else 0
