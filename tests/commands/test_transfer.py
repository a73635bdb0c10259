"""`kvgraph export` / `kvgraph import` as a person runs them: files, summary, progress, exit codes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import threading
import uuid
from pathlib import Path

import pytest

from gql.commands.cli import main
from gql.kv import open_store
from tests.support import PG_SKIP, PG_URL, drop_table

ROWS = {"trip:t1": {"id": "t1", "title": "Lisbon"}, "trips:index:u1": ["t1"], "theme": "dark"}


def seed(url: str, table: str = "kv_store") -> None:
    async def write() -> None:
        store = open_store(url, table)
        await store.open()
        try:
            await store.set_many(ROWS)
        finally:
            await store.close()

    asyncio.run(write())


@pytest.fixture
def source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/source.db"
    seed(url)
    return url


@pytest.mark.parametrize("name", ["kv.jsonl", "kv.csv"])
def test_export_then_import_into_a_new_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, name: str
) -> None:
    path = tmp_path / name
    assert main(["export", "--store-url", source, "-o", str(path)]) == 0
    fmt = "csv" if name.endswith(".csv") else "jsonl"
    assert capsys.readouterr().out == f"exported 3 keys to {path} ({fmt})\n"
    assert not (tmp_path / f"{name}.partial").exists()
    target = f"sqlite:///{tmp_path}/new/target.db"
    assert main(["import", str(path), "--store-url", target, "--kv-table", "kv_store_ab12"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"imported {path}: 3 keys written, 0 unchanged",
        "verified: 3 of 3 keys in the store with equal values",
    ]
    assert "import [##############################] 100% 3 rows" in captured.err
    assert "verify [##############################] 100% 3 rows" in captured.err
    with sqlite3.connect(tmp_path / "new/target.db") as conn:  # created with its primary key
        columns = conn.execute("SELECT name, pk FROM pragma_table_info('kv_store_ab12')")
        assert columns.fetchall() == [("key", 1), ("value", 0)]
    again = tmp_path / f"again-{name}"
    assert (
        main(["export", "--store-url", target, "--kv-table", "kv_store_ab12", "-o", str(again)])
        == 0
    )
    assert again.read_bytes() == path.read_bytes()


def test_export_to_standard_output(capsys: pytest.CaptureFixture[str], source: str) -> None:
    assert main(["export", "--store-url", source, "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith('key,value\r\ntheme,"""dark"""\r\ntrip:t1,')
    assert "exported 3 keys to - (csv)" in captured.err


def test_bad_lines_make_import_exit_1_and_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kv.jsonl"
    path.write_text('{"key":"a","value":1}\nnot json\n{"key":"b","value":2}\n')
    assert main(["import", str(path), "--store-url", f"sqlite:///{tmp_path}/kv.db"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        f"imported {path}: 2 keys written, 0 unchanged",
        "verified: 2 of 2 keys in the store with equal values",
        "1 line(s) not imported:",
    ]
    assert out[3].startswith("  line 2: not JSON (")


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "import failed: [Errno 2]"), ("id,data\r\n", "expected the columns key and value")],
)
def test_unreadable_files_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "kv.csv"
    if content is not None:
        path.write_text(content)
    assert main(["import", str(path), "--store-url", f"sqlite:///{tmp_path}/kv.db"]) == 2
    assert message in capsys.readouterr().err


def test_export_of_an_unusable_table_exits_2_and_leaves_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kv.jsonl"
    assert (
        main(["export", "--store-url", "postgresql://postgres@127.0.0.1:9/x", "-o", str(out)]) == 2
    )
    assert "cannot connect to Postgres" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "kv.jsonl.partial").exists()


@pytest.mark.postgres
def test_nul_into_postgres_is_reported_by_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    path = tmp_path / "kv.jsonl"
    path.write_text('{"key":"a","value":"x\\u0000y"}\n{"key":"b","value":2}\n')
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    try:
        assert main(["import", str(path), "--store-url", PG_URL, "--kv-table", table]) == 1
    finally:
        asyncio.run(drop_table(PG_URL, table))
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "verified: 1 of 1 keys in the store with equal values"
    assert out[2] == "1 key(s) the store refused:"
    assert out[3].startswith("  line 1, key 'a': Postgres refused the value: unsupported Unicode")


def test_export_into_a_named_pipe_writes_through_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    pipe = tmp_path / "kv.fifo"
    os.mkfifo(pipe)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()), daemon=True)
    reader.start()
    try:
        code = main(["export", "--store-url", source, "-o", str(pipe)])
    finally:
        reader.join(timeout=30)
    assert code == 0 and not reader.is_alive()
    assert got[0].count(b"\n") == len(ROWS) and got[0].startswith(b'{"key":"theme"')
    assert stat.S_ISFIFO(pipe.stat().st_mode)  # still the pipe, not a file put in its place
    assert sorted(os.listdir(tmp_path)) == ["kv.fifo", "source.db"]  # no .partial left
    assert f"exported 3 keys to {pipe} (jsonl)" in capsys.readouterr().out


def test_export_into_a_device_writes_into_it_and_leaves_it_a_device(
    tmp_path: Path, source: str
) -> None:
    # As root, a device node of our own (like /dev/null: major 1, minor 3), so that nothing
    # else on the machine can be hurt if this ever regresses; otherwise the real /dev/null,
    # which a user who is not root cannot replace anyway.
    if os.geteuid() == 0:
        device = tmp_path / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:
        device = Path("/dev/null")
    before = device.stat()
    assert stat.S_ISCHR(before.st_mode)
    assert main(["export", "--store-url", source, "-o", str(device), "--format", "csv"]) == 0
    after = device.stat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev)  # the same node
    assert not Path(f"{device}.partial").exists()


def test_export_follows_a_link_to_a_file_and_keeps_the_link(tmp_path: Path, source: str) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real)
    assert main(["export", "--store-url", source, "-o", str(link)]) == 0
    assert link.is_symlink() and real.read_bytes().count(b"\n") == len(ROWS)


def test_values_kvgraph_cannot_read_are_listed_exit_1_and_come_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/source.db"
    seed(url)
    with sqlite3.connect(tmp_path / "source.db") as conn:
        conn.execute(
            "INSERT INTO kv_store VALUES ('trip:bad', 'not json'), ('trip:sur', ?)",
            ['{"id":"sur","title":"x\\ud800"}'],
        )
    path = tmp_path / "kv.jsonl"
    assert main(["export", "--store-url", url, "-o", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"exported 5 keys to {path} (jsonl)",
        '2 value(s) kvgraph cannot read, written as their stored text (flagged "raw"; import '
        "puts them back as they are):",
        "  trip:bad: not valid JSON (Expecting value)",
        "  trip:sur: title contains a lone surrogate (U+D800), which is not valid Unicode",
    ]
    target = f"sqlite:///{tmp_path}/target.db"
    assert main(["import", str(path), "--store-url", target]) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        "verified: 5 of 5 keys in the store with equal values"
    )
    with sqlite3.connect(tmp_path / "target.db") as conn:
        rows = dict(conn.execute("SELECT key, value FROM kv_store WHERE key LIKE 'trip:%'"))
    assert rows["trip:bad"] == "not json" and rows["trip:sur"] == '{"id":"sur","title":"x\\ud800"}'
