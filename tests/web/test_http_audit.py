"""The GraphQL-over-HTTP audit suite (npm `graphql-http`'s `serverAudits`) against a live
kvgraph: every audit, MUST, SHOULD and MAY alike, passes.

The Node side lives in `tests/node/` (package.json + package-lock.json); its packages are
installed from the lockfile (`npm ci`) the first time a test needs them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gql.web.app import create_app
from gql.web.settings import Settings
from tests.support import node_packages

SECRET = "test-secret-0123456789-0123456789-abcdef"


@pytest.fixture(scope="module")
def audit_packages() -> Path:
    """The Node folder with graphql-http installed from the lockfile."""
    return node_packages()


async def run_audits(audit_packages: Path, url: str) -> list[dict[str, Any]]:
    """Run every server audit against `url`; the results as the audit suite reports them."""
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(audit_packages / "audit.mjs"),
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
    # The audits ask `{ __typename }` and `__type(name:)`: introspection on, as with --dev.
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db", jwt_secret=SECRET, introspection=True
    )
    server = await aiohttp_server(create_app(settings))
    results = await run_audits(audit_packages, str(server.make_url("/graphql")))
    assert len(results) >= 30, results  # the whole suite ran
    failed = [
        f"{r['status']} {r['id']} {r['name']}: {r['reason']}"
        for r in results
        if r["status"] != "ok"
    ]
    assert failed == [], "\n".join(failed)
