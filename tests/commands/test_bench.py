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
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "gateway / floor" in out
    assert "n+1 / gateway" in out
    return {way: int(batches) for way, batches, _ in ROW.findall(out)}


def test_bench_batches_do_not_grow_with_rows(capsys: pytest.CaptureFixture[str]) -> None:
    small, large = run_bench(capsys, 3), run_bench(capsys, 6)
    assert set(small) == set(large) == {"gateway", "floor", "n+1"}
    assert small["gateway"] == large["gateway"]
    assert small["floor"] == large["floor"] == 4
    assert small["n+1"] == 1 + 3 * 2 + 3 * 4 * 2
    assert large["n+1"] == 1 + 6 * 2 + 6 * 4 * 2


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
