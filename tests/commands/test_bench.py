"""`kvgraph bench`: a tiny run of the three ways (no timing assertions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gql.commands.bench import bench_command
from gql.commands.cli import build_parser, main
from gql.kv import open_store

ROW = re.compile(r"^(gateway|floor|n\+1)\s+[\d.]+\s+[\d.]+\s+(\d+)\s+(\d+)\s+[\d,]+$", re.M)


def run_bench(capsys: pytest.CaptureFixture[str], trips: int) -> dict[str, int]:
    """Run a tiny bench and return each way's batch count."""
    argv = ["bench", "--trips", str(trips), "--items", "4", "--places", "6", "--requests", "2"]
    assert main([*argv, "--small-seconds", "0"]) == 0
    out = capsys.readouterr().out
    assert "gateway / floor" in out
    assert "n+1 / gateway" in out
    assert "small query" not in out
    return {way: int(batches) for way, batches, _ in ROW.findall(out)}


def test_bench_small_query_beside_the_bare_handler(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--trips", "2", "--items", "2", "--places", "3", "--requests", "1"]
    assert main([*argv, "--small-seconds", "0.2"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("small query"))
    assert re.search(r"gateway \d+ req/s .* bare aiohttp handler \d+ req/s .* gateway / bare", line)


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
async def test_bench_on_both_stores_and_at_scale(
    capsys: pytest.CaptureFixture[str], store_url: tuple[str, str]
) -> None:
    url, table = store_url
    argv = ["bench", "--trips", "2", "--items", "3", "--places", "4", "--requests", "1"]
    argv += ["--small-seconds", "0", "--postgres-url", url, "--kv-table", table, "--scale"]
    assert await bench_command(build_parser().parse_args(argv)) == 0
    out = capsys.readouterr().out
    assert out.count("gateway / floor") == 2 + 2 * 2  # two stores, then two sizes on each
    assert "board on postgresql://" in out
    assert ROW.findall(out).count(("gateway", "4", "4")) == 2
    for store in ("SQLite", "Postgres"):
        scale = out.split(f"scale ({store}):")[1]
        assert re.search(r"^  +2,000 items: .* batches 4 \(floor 4\)$", scale, re.M)
        assert re.search(r"^ +10,000 items: .* batches 4 \(floor 4\)$", scale, re.M)
        assert "5.0x the rows" in scale


def test_bench_rejects_pages_over_100(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--items", "101"]) == 2
    assert "at most 100" in capsys.readouterr().err


async def test_bench_refuses_a_store_with_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/kv.db"
    store = open_store(url)
    await store.open()
    await store.set("trip:x", {"id": "x", "userId": "u", "title": "t"})
    await store.close()
    args = build_parser().parse_args(["bench", "--trips", "1", "--items", "1", "--store-url", url])
    assert await bench_command(args) == 1
    assert "already has data" in capsys.readouterr().err


def test_bench_profile_shows_stages(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--profile", "--trips", "2", "--items", "3", "--places", "4"]
    assert main([*argv, "--requests", "2"]) == 0
    out = capsys.readouterr().out
    assert "board: server CPU per request by stage" in out
    assert "small query: server CPU per request by stage" in out
    assert "level executor and graphql-core" in out
    assert out.count("total CPU") == 2
