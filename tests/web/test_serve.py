"""`kvgraph serve --dev` as a newcomer runs it: seeds, prints a working token, stops cleanly."""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import asyncpg
import pytest

from gql.web.auth import mint_token
from gql.web.server import GC_THRESHOLD, settle_gc
from gql.web.settings import DEV_JWT_SECRET
from tests.support import PG_URL, pg_role

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 30.0) -> list[str]:
    """Lines the process prints until one contains `marker`."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} in the output: {lines}")


def start(tmp_path: Path, *args: str, **env_extra: str) -> subprocess.Popen[str]:
    """Run `python -m gql serve ARGS` in `tmp_path`, with no KVGRAPH_* from this environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVGRAPH_")}
    env |= {"PYTHONPATH": str(ROOT), **env_extra}
    return subprocess.Popen(
        [sys.executable, "-m", "gql", "serve", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_up(url: str) -> None:
    """Poll `/healthz` until the server answers (10 s at most)."""
    for _ in range(50):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> int:
    """SIGTERM the server and return its exit code."""
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    proc.stdout.close()  # type: ignore[union-attr]
    return code


def post(url: str, query: str, token: str) -> dict:
    body = json.dumps({"query": query}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def status_of(url: str, query: str, token: str) -> int:
    """The HTTP status of a POST (errors included)."""
    try:
        post(url, query, token)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    return 200


def test_serve_dev_seeds_prints_a_token_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = start(tmp_path, "--dev", "--port", str(port))
    try:
        lines = read_until(proc, "valid 7 days")
        token = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert any("seeded" in line for line in lines), lines
        assert any(line.startswith("kvgraph: WARNING: --dev") for line in lines), lines
        assert any(f"http://127.0.0.1:{port}/graphql?headers=" in line for line in lines), lines
        assert (tmp_path / "kvgraph.db").exists()
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        data = post(f"{url}/graphql", "{ viewer { displayName trips { totalCount } } }", token)
        assert data["data"]["viewer"]["displayName"] == "Dana Demo"
        assert data["data"]["viewer"]["trips"]["totalCount"] == 3
        assert DEV_JWT_SECRET not in "\n".join(lines)
    finally:
        code = stop(proc)
    assert code == 0


def test_workers_share_the_port_and_stop_together(tmp_path: Path) -> None:
    port = free_port()
    proc = start(
        tmp_path,
        *("--insecure-no-auth", "--workers", "2", "--port", str(port)),
        KVGRAPH_STORE_URL=f"sqlite:///{tmp_path}/kv.db",
    )
    try:
        lines = read_until(proc, "2 workers")
        assert f"http://127.0.0.1:{port}/graphql" in lines[-1]
        assert lines[0].startswith("kvgraph: WARNING: --insecure-no-auth"), lines
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        query = "{ locations { totalCount } }"
        for _ in range(10):
            body = json.dumps({"query": query}).encode()
            req = urllib.request.Request(
                f"{url}/graphql", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert json.loads(resp.read()) == {"data": {"locations": {"totalCount": 0}}}
    finally:
        code = stop(proc)
    assert code == 0


# ---------------------------------------------- the start-up check of the table (Postgres)

SECRET = "serve-test-secret-0123456789-0123456789"
DML = ("SELECT", "INSERT", "UPDATE", "DELETE")


def start_on(
    tmp_path: Path, url: str, table: str, *args: str, **env: str
) -> tuple[subprocess.Popen[str], str]:
    """`serve` on a Postgres table with a JWT secret and a free port; (process, base URL)."""
    port = free_port()
    store = {"KVGRAPH_STORE_URL": url, "KVGRAPH_KV_TABLE": table, "KVGRAPH_JWT_SECRET": SECRET}
    proc = start(tmp_path, "--port", str(port), *args, **store, **env)
    return proc, f"http://127.0.0.1:{port}"


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def refused(started: tuple[subprocess.Popen[str], str]) -> tuple[int, list[str]]:
    """Exit code and output lines of a server expected to refuse to start."""
    proc = started[0]
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out.splitlines()


@pytest.mark.postgres
async def test_dml_only_role_starts_and_serves(tmp_path: Path, pg_table: str) -> None:
    async with pg_role(pg_table, *DML) as url:
        proc, base = start_on(tmp_path, url, pg_table)
        try:
            read_until(proc, "serving")
            wait_until_up(base)
            token = mint_token(SECRET, "u1")
            created = post(
                f"{base}/graphql",
                'mutation { createTrip(input: {title: "Lisbon"}) { trip { id } userErrors { code } } }',
                token,
            )
            assert created["data"]["createTrip"]["userErrors"] == [], created
            listed = post(f"{base}/graphql", "{ viewer { trips { totalCount } } }", token)
            assert listed["data"]["viewer"]["trips"]["totalCount"] == 1
            assert get_json(f"{base}/readyz") == {"status": "ok"}
        finally:
            assert stop(proc) == 0


@pytest.mark.postgres
async def test_role_without_select_is_refused_in_one_line(tmp_path: Path, pg_table: str) -> None:
    async with pg_role(pg_table, "INSERT", "UPDATE", "DELETE") as url:
        code, lines = refused(start_on(tmp_path, url, pg_table))
    assert code == 1
    assert len(lines) == 1, lines
    assert "refusing to start" in lines[0] and "lacks SELECT on" in lines[0]
    assert f"GRANT SELECT, INSERT, UPDATE, DELETE ON {pg_table}" in lines[0]


@pytest.mark.postgres
async def test_missing_table_and_no_create_is_refused_in_one_line(
    tmp_path: Path, pg_table: str
) -> None:
    async with pg_role(pg_table, *DML) as url:
        code, lines = refused(start_on(tmp_path, url, pg_table + "_absent", "--workers", "2"))
    assert code == 1
    assert len(lines) == 1, lines
    assert "does not exist and could not be created (permission denied" in lines[0]


@pytest.mark.postgres
async def test_unreachable_store_is_refused_in_one_line(tmp_path: Path) -> None:
    code, lines = refused(start_on(tmp_path, "postgresql://postgres@127.0.0.1:9/x", "kv_store"))
    assert code == 1
    assert lines == [lines[0]] and "cannot connect to Postgres" in lines[0], lines


@pytest.mark.postgres
async def test_table_without_primary_key_is_refused(tmp_path: Path, pg_table: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f"ALTER TABLE {pg_table} DROP CONSTRAINT {pg_table}_pkey")
    finally:
        await conn.close()
    code, lines = refused(start_on(tmp_path, PG_URL, pg_table))
    assert code == 1
    assert len(lines) == 1 and "is not a primary key or unique" in lines[0], lines


@pytest.mark.postgres
async def test_row_level_security_is_refused_unless_allowed(tmp_path: Path, pg_table: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f"ALTER TABLE {pg_table} ENABLE ROW LEVEL SECURITY")
    finally:
        await conn.close()
    async with pg_role(pg_table, *DML) as url:
        code, lines = refused(start_on(tmp_path, url, pg_table))
        assert code == 1
        assert len(lines) == 1 and "row-level security" in lines[0], lines
        assert "KVGRAPH_ALLOW_RLS=true or --allow-rls" in lines[0]
        for how in ({"KVGRAPH_ALLOW_RLS": "true"}, {"args": "--allow-rls"}):
            args = [how["args"]] if "args" in how else []
            env = {k: v for k, v in how.items() if k != "args"}
            proc, base = start_on(tmp_path, url, pg_table, *args, **env)
            try:
                lines = read_until(proc, "serving")
                assert any("warning: row-level security" in line for line in lines), lines
                wait_until_up(base)
                assert get_json(f"{base}/readyz") == {"status": "ok"}
            finally:
                assert stop(proc) == 0


SECRET = "prod-secret-0123456789-0123456789-abcdef"


def test_dev_flags_in_the_environment_leave_production_mode(tmp_path: Path) -> None:
    """KVGRAPH_DEV=1 and KVGRAPH_INSECURE_NO_AUTH=1 beside a real secret: nothing changes."""
    port = free_port()
    proc = start(
        tmp_path,
        "--port",
        str(port),
        KVGRAPH_DEV="1",
        KVGRAPH_INSECURE_NO_AUTH="1",
        KVGRAPH_JWT_SECRET=SECRET,
    )
    try:
        lines = read_until(proc, f"{port}/graphql")  # the banner, in any mode
        assert lines[-1].startswith("kvgraph serving"), lines
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        endpoint = f"{url}/graphql"
        forged = mint_token(DEV_JWT_SECRET, "7b0f5d2e-4c1a-4e8b-9f3d-2a6c8e1b5d70")
        assert status_of(endpoint, "{ viewer { id } }", forged) == 401
        real = post(
            endpoint, "{ viewer { id } locations { totalCount } }", mint_token(SECRET, "u1")
        )
        assert real == {"data": {"viewer": {"id": "u1"}, "locations": {"totalCount": 0}}}
        intro = post(endpoint, "{ __schema { queryType { name } } }", mint_token(SECRET, "u1"))
        assert intro["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert not any("WARNING" in line or "eyJ" in line or "seeded" in line for line in lines)
    finally:
        code = stop(proc)
    assert code == 0


def test_dev_in_the_environment_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    proc = start(tmp_path, "--port", "0", KVGRAPH_DEV="1", KVGRAPH_INSECURE_NO_AUTH="yes")
    try:
        output, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 2 and "refusing to start: no keys" in output
    assert "eyJ" not in output and not (tmp_path / "kvgraph.db").exists()


def test_serving_settles_the_garbage_collector() -> None:
    """What exists once the app is up leaves later collections, and young ones are rare."""
    threshold = gc.get_threshold()
    try:
        settle_gc()
        assert gc.get_threshold() == GC_THRESHOLD and GC_THRESHOLD[0] >= 10_000
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
