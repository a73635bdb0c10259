"""`check` and `repair` report the table's own problems first (one line each) and exit 2;
the commands that only read (`check`, `check --shapes`, `export`) need only SELECT, create
nothing, and say once when row-level security they were allowed to ignore may hide rows."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from gql.commands import cli
from gql.commands.check import Options, check_command
from gql.kv import open_store
from gql.web.settings import Settings
from tests.support import PG_SKIP, PG_URL, admin, drop_table, pg_role, read_only

ROWS = {"trip:t1": {"id": "t1", "userId": "u1", "title": "Lisbon"}, "trips:index:u1": ["t1"]}


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
    await seeded(f"sqlite:///{tmp_path}/kv.db", "kv_store")
    code, lines = await run_check(capsys, store_url=f"sqlite:///{tmp_path}/kv.db")
    assert (code, lines[-1]) == (0, "no problems found")


async def seeded(url: str, table: str) -> None:
    """Create the table (as a command that writes does) with ROWS in it."""
    store = open_store(url, table)
    try:
        await store.open()
        await store.set_many(ROWS)
    finally:
        await store.close()


async def cli_run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI; its exit code, stdout and stderr."""
    code = await asyncio.to_thread(cli.main, list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


READING = [("check",), ("check", "--shapes"), ("export", "-o", "{out}")]


@pytest.mark.parametrize("command", READING)
async def test_reading_commands_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    url = f"sqlite:///{tmp_path}/data/kv.db"
    args = [a.format(out=tmp_path / "kv.jsonl") for a in command]
    code, out, err = await cli_run(capsys, *args, "--store-url", url)
    assert code == 2
    assert f"SQLite file {tmp_path}/data/kv.db does not exist" in out + err
    assert not os.listdir(tmp_path)  # no file, no folder, no export


async def test_reading_commands_work_on_a_read_only_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/kv.db"
    await seeded(url, "kv_store")
    out_file = tmp_path / "out" / "kv.jsonl"
    out_file.parent.mkdir()
    with read_only(tmp_path / "kv.db"):
        for command in READING:
            args = [a.format(out=out_file) for a in command]
            code, out, err = await cli_run(capsys, *args, "--store-url", url)
            assert code == 0, (command, out, err)
        assert out_file.read_bytes().count(b"\n") == len(ROWS)
        code, out, _ = await cli_run(capsys, "repair", "--apply", "--store-url", url)
        assert code == 2 and f"SQLite file {tmp_path}/kv.db is read-only" in out
        code, _, err = await cli_run(capsys, "import", str(out_file), "--store-url", url)
        assert code == 2 and "is read-only" in err


@pytest.fixture
async def pg_kv() -> AsyncIterator[str]:
    """A Postgres table (made by the superuser) holding ROWS; dropped afterwards."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    await seeded(PG_URL, table)
    yield table
    await drop_table(PG_URL, table)


@pytest.mark.postgres
async def test_a_select_only_role_can_check_describe_and_export(
    pg_kv: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "kv.jsonl"
    async with pg_role(pg_kv, "SELECT") as url:
        flags = ("--store-url", url, "--kv-table", pg_kv)
        for command in READING:
            args = [a.format(out=out_file) for a in command]
            code, out, err = await cli_run(capsys, *args, *flags)
            assert code == 0, (command, out, err)
        assert out_file.read_bytes().count(b"\n") == len(ROWS)
        code, out, _ = await cli_run(capsys, "repair", *flags)
        assert code == 2 and f"lacks INSERT, UPDATE, DELETE on {pg_kv}" in out
        code, _, err = await cli_run(capsys, "import", str(out_file), *flags)
        assert code == 2 and f"lacks INSERT, UPDATE, DELETE on {pg_kv}" in err


@pytest.mark.postgres
async def test_allowed_row_level_security_is_said_once(
    pg_kv: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await admin(f"ALTER TABLE {pg_kv} ENABLE ROW LEVEL SECURITY")
    async with pg_role(pg_kv, "SELECT", "INSERT", "UPDATE", "DELETE") as url:
        flags = ("--store-url", url, "--kv-table", pg_kv)
        monkeypatch.setenv("KVGRAPH_ALLOW_RLS", "true")
        for command, what in [
            (("check",), "checked"),
            (("check", "--json"), "checked"),
            (("check", "--shapes"), "described"),
            (("repair",), "repaired"),
            (("export", "-o", str(tmp_path / "kv.jsonl")), "exported"),
        ]:
            code, out, err = await cli_run(capsys, *command, *flags)
            warnings = [line for line in err.splitlines() if line.startswith("warning:")]
            assert len(warnings) == 1, (command, err)
            assert f"row-level security on {pg_kv} filters rows for role" in warnings[0]
            assert warnings[0].endswith(f"rows its policies hide are not {what}")
            assert "warning" not in out  # --json stays JSON
        monkeypatch.setenv("KVGRAPH_ALLOW_RLS", "false")
        code, out, err = await cli_run(capsys, "check", *flags)
        assert code == 2 and "row-level security" in out and "warning" not in err


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
            assert code == 2 and "lacks SELECT on" in lines[1], lines
            assert f": GRANT SELECT ON {table} TO kv_role_" in lines[1]
            code, lines = await run_check(capsys, True, store_url=url, kv_table=table)
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
