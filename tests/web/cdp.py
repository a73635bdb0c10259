"""A tiny Chrome DevTools Protocol driver for the browser test: headless Chromium + aiohttp
websocket client (no selenium/playwright)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--remote-debugging-port=0",
)


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    return shutil.which("chromium")


class CDPError(AssertionError):
    """The browser did not do what the test expected (message includes the page's errors)."""


class Page:
    """One page target, driven over its DevTools websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.errors: list[str] = []  # console errors, exceptions, failed loads
        self.requests: list[str] = []  # every URL the page asked for
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
            else:
                self._event(data.get("method", ""), data.get("params", {}))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CDPError("DevTools connection closed"))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            args = params.get("args", [])
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in args)
            self.errors.append(f"console.error: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exc = details.get("exception", {}).get("description") or details.get("text", "")
            self.errors.append(f"exception: {exc}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text', '')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            self.requests.append(params.get("request", {}).get("url", ""))
        elif method == "Network.loadingFailed":
            self.errors.append(f"load failed: {params.get('errorText', '')}")

    async def send(self, method: str, wait_s: float = 10.0, **params: Any) -> dict[str, Any]:
        """Call a CDP method; return its result or raise CDPError."""
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        try:
            reply = await asyncio.wait_for(future, wait_s)
        except TimeoutError:
            raise CDPError(f"{method}: no reply in {wait_s} s{self.report()}") from None
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        """Evaluate JS in the page (promises awaited) and return its JSON value."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"evaluating {expression!r} threw: {text}")
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, what: str, deadline: float) -> Any:
        """Poll a JS expression until it is truthy; CDPError (with the page's errors) at
        `deadline` (a time.monotonic() value)."""
        while True:
            with contextlib.suppress(CDPError):
                value = await self.evaluate(expression)
                if value:
                    return value
            if time.monotonic() >= deadline:
                raise CDPError(f"timed out waiting for {what}{self.report()}")
            await asyncio.sleep(0.1)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element matching `selector`."""
        box = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        if not box:
            raise CDPError(f"no element {selector!r} to click{self.report()}")
        x, y = box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            extra: dict[str, Any] = (
                {"button": "left", "clickCount": 1} if kind != "mouseMoved" else {}
            )
            await self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, **extra)

    def report(self) -> str:
        """The page's errors and requested URLs, for failure messages."""
        lines = [f"\n  page errors: {self.errors or 'none'}"]
        lines.append(f"  requested: {self.requests}")
        return "\n".join(lines)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _open_log(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


async def _wait(check: Callable[[], Awaitable[Any]], what: str, wait_s: float) -> Any:
    deadline = time.monotonic() + wait_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise CDPError(f"timed out ({wait_s} s) waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def launch(profile: Path, *, start_s: float = 15.0) -> AsyncIterator[Page]:
    """Start headless Chromium with a fresh profile in `profile`, yield its first page (with
    Page/Runtime/Log/Network events enabled); Chromium is always killed afterwards."""
    binary = chromium_path()
    if binary is None:
        raise CDPError("chromium is not installed")
    stderr_path = profile / "chromium.stderr"
    with await asyncio.to_thread(_open_log, stderr_path) as stderr:
        proc = await asyncio.create_subprocess_exec(
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group: renderers are killed with it
        )
    try:
        async with aiohttp.ClientSession() as session:
            port_file = profile / "DevToolsActivePort"

            async def read_port() -> str | None:
                if proc.returncode is not None:
                    tail = stderr_path.read_text(errors="replace")[-2000:]
                    raise CDPError(f"chromium exited with {proc.returncode}:\n{tail}")
                with contextlib.suppress(OSError):
                    lines = port_file.read_text().splitlines()
                    if lines and lines[0].strip().isdigit():
                        return lines[0].strip()
                return None

            port = await _wait(read_port, "Chromium's DevToolsActivePort", start_s)

            async def page_ws_url() -> str | None:
                async with session.get(f"http://127.0.0.1:{port}/json/list") as resp:
                    targets = await resp.json(content_type=None)
                pages = [t for t in targets if t.get("type") == "page"]
                return pages[0]["webSocketDebuggerUrl"] if pages else None

            ws_url = await _wait(page_ws_url, "a page target", start_s)
            ws = await session.ws_connect(ws_url, max_msg_size=0)
            page = Page(ws)
            try:
                for domain in ("Page", "Runtime", "Log", "Network"):
                    await page.send(f"{domain}.enable")
                yield page
            finally:
                await page.close()
    finally:
        await _stop(proc)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Terminate Chromium's process group, then kill it if it lingers."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            continue
        # the group may outlive its leader for a moment
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return
