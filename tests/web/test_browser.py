"""Headless Chromium against a live server: the offline GraphiQL loads and runs a typed query.

The machine running this has no internet, so the IDE can only render if the files fetched with
`fetch_command` (real `npm pack`) are served locally and the page points at them.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gql.commands.demo import DEMO_USER_ID, seed_demo
from gql.commands.fetch_graphiql import fetch_command
from gql.commands.serve import FIRST_QUERY, ide_link
from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.graphiql import check_assets
from gql.web.settings import DEV_JWT_SECRET, Settings
from tests.web.cdp import chromium_path, launch

pytestmark = pytest.mark.slow

TOTAL_TIMEOUT = 30.0
QUERY = "{ locations { nodes { name } } }"
PLACE = "Fado at the Old Tavern"


@pytest.fixture(scope="module")
def graphiql_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real GraphiQL files, fetched from npm by `fetch_command` (once per module)."""
    missing = [
        tool
        for tool, found in (("npm", shutil.which("npm")), ("chromium", chromium_path()))
        if found is None
    ]
    if missing:
        pytest.skip(f"browser test needs {' and '.join(missing)} (apt-get install chromium npm)")
    dest = tmp_path_factory.mktemp("graphiql") / "assets"
    code = asyncio.run(fetch_command(str(dest)))
    assert code == 0, f"fetch_command({dest}) exited {code} (see captured output)"
    assert check_assets(dest) == []
    return dest


@pytest.fixture
def browser_app(graphiql_assets: Path, tmp_path: Path) -> Callable[[], web.Application]:
    """Builds the real gateway, serving the fetched GraphiQL files."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db",
        insecure_no_auth=True,
        graphiql_assets=str(graphiql_assets),
    )
    return lambda: create_app(settings)


EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".graphiql-response"


async def test_offline_graphiql_runs_a_typed_query(
    browser_app: Callable[[], web.Application],
    aiohttp_server: Any,
    tmp_path: Path,
) -> None:
    server = await aiohttp_server(browser_app(), host="127.0.0.1")
    await server.app[STORE].set_many(
        {"events:index": ["e1"], "event:e1": {"id": "e1", "name": PLACE, "city": "Lisbon"}}
    )
    origin = f"http://127.0.0.1:{server.port}"
    deadline = time.monotonic() + TOTAL_TIMEOUT

    async with launch(tmp_path / "chromium-profile") as page:
        await page.send("Page.navigate", url=f"{origin}/graphql")
        await page.wait_for(
            f"!!document.querySelector('{EDITOR}')?.CodeMirror",
            "the GraphiQL query editor to render (local assets loaded?)",
            deadline,
        )
        outside = [url for url in page.requests if not url.startswith((origin, "data:"))]
        assert outside == [], f"the page requested files outside the server: {outside}"

        # type the query into the editor like a user (after clearing the welcome text)
        await page.evaluate(
            f"(() => {{ const cm = document.querySelector('{EDITOR}').CodeMirror;"
            " cm.setValue(''); cm.focus(); })()"
        )
        await page.send("Input.insertText", text=QUERY)
        typed = await page.evaluate(f"document.querySelector('{EDITOR}').CodeMirror.getValue()")
        assert typed == QUERY, f"editor holds {typed!r} after typing {QUERY!r}{page.report()}"

        await page.click(".graphiql-execute-button")
        result = await page.wait_for(
            f"(() => {{ const t = document.querySelector('{RESULT}')?.innerText || '';"
            f" return t.includes('{PLACE}') ? t : ''; }})()",
            "the result pane to show the query's data",
            deadline,
        )
        assert f'"name": "{PLACE}"' in result, f"unexpected result pane: {result!r}{page.report()}"
        assert page.errors == [], f"the page reported errors:{page.report()}"


async def test_dev_link_opens_signed_in_with_the_first_query(
    graphiql_assets: Path, aiohttp_server: Any, tmp_path: Path
) -> None:
    """The newcomer's path: open the link `serve --dev` prints, press run, see the demo data."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db",
        dev=True,
        graphiql_assets=str(graphiql_assets),
    )
    server = await aiohttp_server(create_app(settings), host="127.0.0.1")
    await seed_demo(server.app[STORE])
    token = mint_token(DEV_JWT_SECRET, DEMO_USER_ID)
    link = ide_link(f"http://127.0.0.1:{server.port}/graphql", token)
    deadline = time.monotonic() + TOTAL_TIMEOUT

    async with launch(tmp_path / "chromium-profile") as page:
        await page.send("Page.navigate", url=link)
        await page.wait_for(
            f"!!document.querySelector('{EDITOR}')?.CodeMirror", "the GraphiQL editor", deadline
        )
        loaded = await page.evaluate(f"document.querySelector('{EDITOR}').CodeMirror.getValue()")
        assert loaded == FIRST_QUERY
        await page.click(".graphiql-execute-button")
        result = await page.wait_for(
            f"(() => {{ const t = document.querySelector('{RESULT}')?.innerText || '';"
            " return t.includes('totalCount') ? t : ''; })()",
            "the result pane to show the demo user's trips",
            deadline,
        )
        assert '"displayName": "Dana Demo"' in result, f"{result[:500]!r}{page.report()}"
        assert '"__typename": "Restaurant"' in result
        assert page.errors == [], f"the page reported errors:{page.report()}"


def test_readme_first_query_is_the_dev_link_query() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert FIRST_QUERY in readme
