"""`check` and `repair` on the command line: how much they show, JSON for scripts, orphans."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gql.commands import cli
from gql.kv import Store
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "user-1"
GONE = [f"t-gone-{n:02d}" for n in range(30)]
ROWS: dict[str, Any] = {
    "trip:t-1": {"id": "t-1", "userId": U, "title": "Lisbon"},
    f"trips:index:{U}": ["t-1", *GONE],  # 30 dangling ids
    "item:i-1": {"id": "i-1", "tripId": "t-deleted", "title": "Left behind"},  # an orphan
}


async def run(store_url: tuple[str, str], *args: str) -> tuple[int, str]:
    """Run the CLI against the test table; return the exit code (stdout is captured)."""
    url, table = store_url
    return await asyncio.to_thread(cli.main, [*args, "--store-url", url, "--kv-table", table])


def listed(out: str) -> list[str]:
    """The indented finding lines of a text report."""
    return [line for line in out.splitlines() if line.startswith("  ") and "..." not in line]


async def test_default_output_is_short_and_all_shows_everything(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    await store.set_many(ROWS)
    assert await run(store_url, "check") == 1
    out = capsys.readouterr().out
    assert "problems: 30 dangling, 1 orphan" in out
    assert len(listed(out)) == 20
    assert "... and 11 more (--all shows every one)" in out

    assert await run(store_url, "check", "--all") == 1
    out = capsys.readouterr().out
    assert len(listed(out)) == 31 and "more" not in out
    assert "orphan     item:i-1: its parent trip:t-deleted is missing" in out

    assert await run(store_url, "check", "--limit", "3") == 1
    out = capsys.readouterr().out
    assert len(listed(out)) == 3 and "... and 28 more" in out


async def test_json_report_holds_every_finding(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    await store.set_many(ROWS)
    assert await run(store_url, "check", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["clean"] is False and report["scanned"] == 3
    assert report["counts"]["dangling"] == 30 and report["counts"]["orphan"] == 1
    assert len(report["problems"]) == 31
    assert {"kind": "orphan", "key": "item:i-1", "parent": "trip:t-deleted"}.items() <= next(
        p for p in report["problems"] if p["kind"] == "orphan"
    ).items()
    assert "repair" not in report


async def test_repair_json_and_delete_orphans(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    await store.set_many(ROWS)
    assert await run(store_url, "repair", "--apply", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["repair"]["applied"] is True and out["repair"]["deleteOrphans"] is False
    changes = out["repair"]["changes"]
    assert sum(c["action"] == "remove dangling id" for c in changes) == 30
    assert {"key": "item:i-1", "action": "leave"}.items() <= changes[-1].items()
    assert await store.get(f"trips:index:{U}") == ["t-1"]
    assert await store.get("item:i-1") is not None  # an orphan stays without the flag

    assert await run(store_url, "repair", "--apply") == 0
    assert "1 orphan(s) left alone: remove them with --delete-orphans" in capsys.readouterr().out

    assert await run(store_url, "repair", "--delete-orphans") == 0
    out_text = capsys.readouterr().out
    assert "item:i-1: delete orphan (its parent trip:t-deleted is missing)" in out_text
    assert "dry run" in out_text and await store.get("item:i-1") is not None

    assert await run(store_url, "repair", "--apply", "--delete-orphans") == 0
    assert "repaired: 1 change(s) written" in capsys.readouterr().out
    assert await store.get("item:i-1") is None
    assert await run(store_url, "check") == 0


@pytest.mark.parametrize("flags", [["--all", "--limit", "3"], ["--limit", "-1"], ["--limit", "x"]])
async def test_bad_flags_are_refused(
    store_url: tuple[str, str], flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        await run(store_url, "check", *flags)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err
