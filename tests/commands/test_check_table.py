"""`check` and `repair` report the table's own problems first (one line each) and exit 2."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import asyncpg
import pytest

from gql.commands.check import Options, check_command
from gql.kv import open_store
from gql.web.settings import Settings
from tests.support import PG_SKIP, PG_URL, drop_table, pg_role


async def run_check(
    capsys: pytest.CaptureFixture[str], repair: bool = False, **kw: str
) -> tuple[int, list[str]]:
    code = await check_command(Settings(**kw), Options(repair=repair))
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("repair", [False, True])
async def test_table_without_primary_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], repair: bool
) -> None:
    with sqlite3.connect(tmp_path / "kv.db") as conn:
        conn.execute("CREATE TABLE kv (key TEXT, value TEXT)")
        conn.execute("""INSERT INTO kv VALUES ('trip:t1', '{"id": "t1"}')""")
    code, lines = await run_check(
        capsys, repair, store_url=f"sqlite:///{tmp_path}/kv.db", kv_table="kv"
    )
    assert code == 2
    assert lines[0] == "the table cannot be used as it is:"
    assert "column key of kv is not a primary key or unique" in lines[1]
    assert len(lines) == 2


async def test_a_good_table_is_scanned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = await run_check(capsys, store_url=f"sqlite:///{tmp_path}/kv.db")
    assert (code, lines[-1]) == (0, "no problems found")


@pytest.mark.postgres
async def test_role_without_select_and_rls(capsys: pytest.CaptureFixture[str]) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    store = open_store(PG_URL, table)
    await store.open()
    await store.close()
    try:
        async with pg_role(table, "INSERT") as url:
            code, lines = await run_check(capsys, store_url=url, kv_table=table)
            assert code == 2 and "lacks SELECT, UPDATE, DELETE on" in lines[1], lines
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        await conn.close()
        async with pg_role(table, "SELECT", "INSERT", "UPDATE", "DELETE") as url:
            code, lines = await run_check(capsys, store_url=url, kv_table=table)
            assert code == 2 and "row-level security" in lines[1], lines
            assert "KVGRAPH_ALLOW_RLS" in lines[1]
            code, lines = await run_check(capsys, store_url=url, kv_table=table, allow_rls="true")
            assert (code, lines[-1]) == (0, "no problems found")
    finally:
        await drop_table(PG_URL, table)
