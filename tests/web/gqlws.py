"""A small graphql-transport-ws client for the tests (the protocol of the `graphql-ws` npm
package, spoken over aiohttp's WebSocket client): text frames only, pings answered."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

PROTOCOL = "graphql-transport-ws"
WAIT = 20.0  # seconds a test waits for a message before failing (generous: never a timing test)


class Closed(Exception):
    """The server closed the socket: its close code and reason."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code, self.reason = code, reason


class GqlWs:
    """One socket speaking graphql-transport-ws."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send `connection_init`; return the `connection_ack` (or raise Closed)."""
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        ack = await self.receive()
        assert ack["type"] == "connection_ack", ack
        return ack

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def subscribe(
        self,
        query: str | None,
        variables: dict[str, Any] | None = None,
        *,
        extensions: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> str:
        """Send `subscribe`; return its id."""
        op_id = str(next(self._ids))
        payload: dict[str, Any] = {}
        if query is not None:
            payload["query"] = query
        if variables is not None:
            payload["variables"] = variables
        if extensions is not None:
            payload["extensions"] = extensions
        if operation_name is not None:
            payload["operationName"] = operation_name
        await self.send({"id": op_id, "type": "subscribe", "payload": payload})
        return op_id

    async def complete(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "complete"})

    async def receive(self, wait: float = WAIT) -> dict[str, Any]:
        """The next protocol message (pings answered); raise Closed when the socket closes."""
        while True:
            frame = await self.ws.receive(timeout=wait)
            if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                raise Closed(self.ws.close_code, frame.extra or "")
            assert frame.type == aiohttp.WSMsgType.TEXT, f"not a text frame: {frame.type}"
            message: dict[str, Any] = json.loads(frame.data)
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def next(self, op_id: str, wait: float = WAIT) -> dict[str, Any]:
        """The next message of operation `op_id` (`next`, `error` or `complete`)."""
        while True:
            message = await self.receive(wait)
            if message.get("id") == op_id:
                return message

    async def data(self, op_id: str, wait: float = WAIT) -> dict[str, Any]:
        """The payload of the next `next` message of `op_id` (anything else fails)."""
        message = await self.next(op_id, wait)
        assert message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]
        return payload

    async def closed(self, wait: float = WAIT) -> Closed:
        """Wait for the server to close the socket; the close."""
        try:
            while True:
                await self.receive(wait)
        except Closed as exc:
            return exc

    async def nothing(self, seconds: float) -> None:
        """Assert that no message arrives within `seconds` (a socket left open)."""
        try:
            frame = await self.ws.receive(timeout=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame: {frame.type} {frame.data!r}")


@asynccontextmanager
async def connect(
    session: Any, url: str, *, headers: dict[str, str] | None = None, protocol: str = PROTOCOL
) -> AsyncIterator[GqlWs]:
    """Open a socket on `url` with `session` (an aiohttp ClientSession or test client)."""
    ws = await session.ws_connect(url, protocols=[protocol], headers=headers or {})
    try:
        yield GqlWs(ws)
    finally:
        await ws.close()


def bearer(token: str) -> dict[str, str]:
    """The `connection_init` payload carrying a token."""
    return {"Authorization": f"Bearer {token}"}
