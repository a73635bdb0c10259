"""Browser origins: one rule decides for CORS over HTTP and for the WebSocket handshake, and
`KVGRAPH_CORS_ORIGINS` holds only what that rule can match (`null` included, matched as sent).
A same-origin page's socket: `tests/web/test_subscriptions.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from gql.web.origins import allows, origin_key
from gql.web.settings import Settings
from tests.support import SECRET, app_client
from tests.web.gqlws import PROTOCOL

MakeClient = Callable[..., Awaitable[Any]]
APP = "https://app.example"


async def over_http(client: Any, origin: str) -> bool:
    """Whether a page on `origin` may read the answer to its POST (CORS)."""
    resp = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin}
    )
    assert resp.status == 200
    allowed = resp.headers.get("Access-Control-Allow-Origin")
    assert allowed in (None, origin)
    return allowed is not None


async def over_websocket(client: Any, origin: str) -> bool:
    """Whether a page on `origin` may open the subscription socket."""
    try:
        ws = await client.ws_connect("/graphql", protocols=[PROTOCOL], headers={"Origin": origin})
    except aiohttp.WSServerHandshakeError as refused:
        status = refused.status
    else:
        await ws.close()
        return True
    assert status == 403
    return False


@pytest.mark.parametrize(
    ("configured", "sent", "allowed"),
    [
        ([], APP, False),  # no setting: no page on another origin
        ([APP], APP, True),  # exact
        ([APP], APP + "/", True),  # trailing slash sent
        ([APP + "/"], APP, True),  # trailing slash configured
        ([APP], "https://APP.Example", True),  # case of the host sent
        (["HTTPS://App.Example"], APP, True),  # case configured
        ([APP + ":443"], APP, True),  # the default port is no part of an origin
        ([APP], "https://app.example:8443", False),
        ([APP], "http://app.example", False),
        ([APP], "null", False),  # a sandboxed iframe or a file:// page
        (["null"], "null", True),
        (["null"], APP, False),
        (["null"], "NULL", False),  # `null` is matched as browsers send it
        (["*"], "null", True),
        (["*"], "https://any.example", True),
    ],
)
async def test_http_and_websocket_decide_alike(
    aiohttp_client: MakeClient, tmp_path: Path, configured: list[str], sent: str, allowed: bool
) -> None:
    client = await app_client(aiohttp_client, tmp_path, cors_origins=configured)
    assert (await over_http(client, sent), await over_websocket(client, sent)) == (
        allowed,
        allowed,
    )


def test_settings_keep_origins_as_browsers_send_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KVGRAPH_CORS_ORIGINS", "HTTPS://App.Example:443/, null, http://x.test:8080")
    settings = Settings(jwt_secret=SECRET)
    assert settings.cors_origins == [APP, "null", "http://x.test:8080"]


@pytest.mark.parametrize(
    "value",
    ["app.example", "https://app.example/path", "https://app.example?x=1", "Null", "https://"],
)
def test_what_is_no_origin_is_refused_with_the_rule(value: str) -> None:
    with pytest.raises(ValidationError, match="not an origin") as refused:
        Settings(jwt_secret=SECRET, cors_origins=[value])
    assert "scheme://host[:port]" in str(refused.value) and "null" in str(refused.value)


def test_the_rule() -> None:
    assert origin_key("https://App.Example:443/") == APP
    assert origin_key("http://[::1]:80") == "http://[::1]"
    assert origin_key("capacitor://localhost") == "capacitor://localhost"
    assert origin_key("null") == "null"
    assert origin_key("https://app.example/x") is None
    assert allows([APP], "https://app.example") and not allows([APP], "null")
    assert allows(["*"], "not even an origin")
