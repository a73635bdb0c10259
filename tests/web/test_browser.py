"""Headless Chromium against a live server: GraphiQL loads and runs a typed query offline.

With default settings the page loads GraphiQL's files from the server itself (the copies
packaged with kvgraph); the test fails if the page asks for anything outside the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from aiohttp import web

from gql.commands.demo import DEMO_USER_ID, seed_demo
from gql.commands.serve import FIRST_QUERY, ide_link
from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.settings import DEV_JWT_SECRET, Settings
from tests.web.cdp import chromium_path, launch

pytestmark = pytest.mark.slow

TOTAL_TIMEOUT = 30.0
QUERY = "{ locations { nodes { name } } }"
PLACE = "Fado at the Old Tavern"


@pytest.fixture
def browser_app(tmp_path: Path) -> Callable[[], web.Application]:
    """Builds the real gateway with default GraphiQL settings (the packaged files)."""
    if chromium_path() is None:
        pytest.skip("browser test needs chromium (apt-get install chromium)")
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", insecure_no_auth=True)
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
    aiohttp_server: Any, tmp_path: Path
) -> None:
    """The newcomer's path: open the link `serve --dev` prints, press run, see the demo data
    (no network: GraphiQL's files are the packaged ones)."""
    if chromium_path() is None:
        pytest.skip("browser test needs chromium (apt-get install chromium)")
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", dev=True)
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


SUBSCRIBE = "subscription Chat($id: ID!) { messageAdded(conversationId: $id) { content } }"


async def test_graphiql_runs_a_subscription(aiohttp_server: Any, tmp_path: Path) -> None:
    """A subscription typed in GraphiQL goes over graphql-ws (bundled in the packaged GraphiQL,
    the Headers tab's token as the connection_init payload) and shows a message posted later."""
    if chromium_path() is None:
        pytest.skip("browser test needs chromium (apt-get install chromium)")
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", dev=True)
    server = await aiohttp_server(create_app(settings), host="127.0.0.1")
    token = mint_token(DEV_JWT_SECRET, DEMO_USER_ID)
    url = f"http://127.0.0.1:{server.port}/graphql"
    headers = {"Authorization": f"Bearer {token}"}

    async def http(query: str, variables: dict[str, Any]) -> Any:
        async with aiohttp.ClientSession() as session:
            body = {"query": query, "variables": variables}
            async with session.post(url, json=body, headers=headers) as resp:
                data = await resp.json()
        assert "errors" not in data, data
        return data["data"]

    started = await http(
        "mutation S($t: String) { startConversation(input: {title: $t}) { conversation { id } } }",
        {"t": "chat"},
    )
    conv = started["startConversation"]["conversation"]["id"]
    link = (
        url
        + "?"
        + urlencode(
            {"headers": json.dumps(headers), "q": SUBSCRIBE, "variables": json.dumps({"id": conv})},
            quote_via=quote,
        )
    )
    deadline = time.monotonic() + TOTAL_TIMEOUT

    async with launch(tmp_path / "chromium-profile") as page:
        await page.send("Page.navigate", url=link)
        await page.wait_for(
            f"!!document.querySelector('{EDITOR}')?.CodeMirror", "the GraphiQL editor", deadline
        )
        await page.click(".graphiql-execute-button")
        shown = (
            f"(() => (document.querySelector('{RESULT}')?.innerText || '').includes('posted'))()"
        )
        # graphql-transport-ws does not acknowledge a subscribe: post until one shows
        for n in range(40):
            await http(
                "mutation P($i: PostMessageInput!) { postMessage(input: $i) { message { id } } }",
                {"i": {"conversationId": conv, "content": f"posted {n}"}},
            )
            if await page.evaluate(shown):
                break
            assert time.monotonic() < deadline, f"nothing shown{page.report()}"
            await asyncio.sleep(0.5)
        result = await page.wait_for(
            f"(() => {{ const t = document.querySelector('{RESULT}')?.innerText || '';"
            " return t.includes('posted') ? t : ''; })()",
            "the result pane to show a posted message",
            deadline,
        )
        assert '"content": "posted' in result, f"{result!r}{page.report()}"
        outside = [
            u
            for u in page.requests
            if not u.startswith((f"http://127.0.0.1:{server.port}", "ws://127.0.0.1", "data:"))
        ]
        assert outside == [], outside
        assert page.errors == [], f"the page reported errors:{page.report()}"
