"""The GraphQL-over-HTTP audit suite (npm `graphql-http`'s `serverAudits`) against a live
kvgraph: every audit, MUST, SHOULD and MAY alike, passes.

The Node side lives in `tests/web/http_audit/` (package.json + package-lock.json); its
packages are installed from the lockfile (`npm ci`) the first time this test runs.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gql.web.app import create_app
from gql.web.settings import Settings

AUDIT = Path(__file__).parent / "http_audit"
SECRET = "test-secret-0123456789-0123456789-abcdef"


@pytest.fixture(scope="module")
def audit_packages() -> Path:
    """The audit folder with its node_modules installed from the lockfile."""
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "node and npm are needed for the GraphQL-over-HTTP audit"
    installed = AUDIT / "node_modules" / ".package-lock.json"
    lock = AUDIT / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=AUDIT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return AUDIT


async def run_audits(url: str) -> list[dict[str, Any]]:
    """Run every server audit against `url`; the results as the audit suite reports them."""
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(AUDIT / "audit.mjs"),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()
    results: list[dict[str, Any]] = json.loads(out)
    return results


async def test_graphql_over_http_audits_all_pass(
    audit_packages: Path, aiohttp_server: Callable[..., Awaitable[Any]], tmp_path: Path
) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", jwt_secret=SECRET)
    server = await aiohttp_server(create_app(settings))
    results = await run_audits(str(server.make_url("/graphql")))
    assert len(results) >= 30, results  # the whole suite ran
    failed = [
        f"{r['status']} {r['id']} {r['name']}: {r['reason']}"
        for r in results
        if r["status"] != "ok"
    ]
    assert failed == [], "\n".join(failed)
