"""`kvgraph check --shapes [--json] [--mapping-file F]`: readable output, a mapping to copy."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from gql.commands import cli
from gql.kv import Store
from tests.support import APP_RECORDS, BACKENDS

on_both_stores = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


@on_both_stores
async def test_shapes_walk_through(
    store: Store, store_url: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, table = store_url
    flags = ["check", "--shapes", "--store-url", url, "--kv-table", table]
    await store.set_many(APP_RECORDS)

    assert await asyncio.to_thread(cli.main, flags) == 0
    out = capsys.readouterr().out
    assert "scanned 25 keys (mapping: (none))" in out
    assert "item:{id}  3 records" in out
    assert "one of user|assistant|system|tool  [user 1, model? 1]" in out
    assert 'propose createdAt = "timestamp"' in out
    assert "-> coordinates (embedded object)" in out
    assert "proposed mapping file (8 new entries;" in out
    proposed = out.split("KVGRAPH_MAPPING_FILE=kvgraph.toml):\n", 1)[1]
    assert (
        '[message.values.role]\nmodel = { means = "assistant", write = true }  '
        "# same as assistant: kvgraph writes model (1 record)"
    ) in proposed
    assert (
        '[item.values.kind]\nflight = { means = "transport", write = false }  '
        "# read-only: may not mean exactly transport, so kvgraph writes transport (1 record)"
    ) in proposed
    assert max(len(line) for line in out.splitlines()) < 160

    path = tmp_path / "kvgraph.toml"
    path.write_text(proposed, encoding="utf-8")
    assert await asyncio.to_thread(cli.main, [*flags, "--mapping-file", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"(mapping: {path})" in out
    assert "[user 1, model=assistant 1]" in out
    assert (
        "nothing (more) to map: values kvgraph keeps as they are:\n  item.locationType: 'hotel'"
        in out
    )

    assert await asyncio.to_thread(cli.main, [*flags, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["entities"]["suggestion"]["fields"]["status"]["values"] == {"pending": 1}


@on_both_stores
async def test_a_bad_mapping_file_stops_every_command(
    store_url: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, table = store_url
    path = tmp_path / "kvgraph.toml"
    path.write_text('[trip.fields]\nownerId = "owner"\n', encoding="utf-8")
    for command in (["check", "--shapes"], ["check"], ["repair"], ["serve"]):
        args = [*command, "--store-url", url, "--kv-table", table, "--mapping-file", str(path)]
        assert await asyncio.to_thread(cli.main, args) == 2
        err = capsys.readouterr().err
        assert "invalid configuration" in err and "trip has no field 'owner'" in err


async def test_a_table_kvgraph_cannot_use_is_not_scanned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(tmp_path / "bad.db") as conn:
        conn.execute("CREATE TABLE kv (key TEXT, value TEXT)")
    args = ["check", "--shapes", "--store-url", f"sqlite:///{tmp_path}/bad.db", "--kv-table", "kv"]
    assert await asyncio.to_thread(cli.main, args) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "the table cannot be used as it is:"
    assert "is not a primary key or unique" in lines[1]


@on_both_stores
async def test_a_minority_spelling_is_proposed_and_then_read(
    store: Store, store_url: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, table = store_url
    flags = ["check", "--shapes", "--store-url", url, "--kv-table", table]
    owners = {f"t{i}": {"userId": "u1"} for i in range(7)} | {"t7": {"ownerId": "u1"}}
    await store.set_many({f"trip:{i}": {"id": i, "title": i, **o} for i, o in owners.items()})

    assert await asyncio.to_thread(cli.main, flags) == 0
    out = capsys.readouterr().out
    assert "trip:{id}  8 records, 1 invalid" in out
    assert "missing: userId (required) is absent or null in some records" in out
    assert (
        'ownerId        1  string              not read (kept as is); propose ownerId = "userId" (read-only)'
        in out
    )
    proposed = out.split("KVGRAPH_MAPPING_FILE=kvgraph.toml):\n", 1)[1]
    assert (
        '[trip.fields]\nownerId = { means = "userId", write = false }  '
        "# 1 of 8 trips; 7 use userId, which kvgraph writes"
    ) in proposed

    path = tmp_path / "kvgraph.toml"
    path.write_text(proposed, encoding="utf-8")
    assert await asyncio.to_thread(cli.main, [*flags, "--mapping-file", str(path)]) == 0
    out = capsys.readouterr().out
    assert "trip:{id}  8 records\n" in out and "missing:" not in out
    assert "-> userId (mapped read-only), string, required" in out
    assert "nothing (more) to map" in out
