"""`Store.inspect()`: the table's existence, shape, privileges, row-level security and
writability, on SQLite files and real Postgres roles; `open()` runs no DDL on an existing table."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from gql.kv import Store, open_store
from gql.kv.base import Fault, RefusedError, TableProblem, blocking, open_and_inspect
from gql.kv.sqlitetable import affinity
from tests.support import BACKENDS, PG_SKIP, PG_URL, admin, drop_table, pg_role, read_only

DML = ("SELECT", "INSERT", "UPDATE", "DELETE")


def codes(problems: list[TableProblem]) -> list[Fault]:
    return [problem.code for problem in problems]


async def inspect_url(url: str, table: str) -> list[TableProblem]:
    """Open a store on `url`, inspect it, close it."""
    store = open_store(url, table)
    try:
        return await open_and_inspect(store)
    finally:
        await store.close()


# ------------------------------------------------------------------------- both stores


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_table_kvgraph_created_has_no_problems(store: Store) -> None:
    assert await store.inspect() == []


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_dropped_table_is_reported_missing(
    store: Store, store_url: tuple[str, str]
) -> None:
    url, table = store_url
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(f'DROP TABLE "{table}"')
    else:
        await drop_table(url, table)
    assert codes(await store.inspect()) == [Fault.MISSING_TABLE]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_closed_store_is_unreachable(store: Store) -> None:
    from gql.kv.base import table_problems

    await store.close()
    assert codes(await table_problems(store)) == [Fault.UNREACHABLE]


def test_blocking_keeps_rls_only_when_not_allowed() -> None:
    rls = TableProblem(Fault.RLS, "rls")
    shape = TableProblem(Fault.SHAPE, "shape")
    assert blocking([rls, shape], allow_rls=False) == [rls, shape]
    assert blocking([rls, shape], allow_rls=True) == [shape]


# ------------------------------------------------------------------------------ SQLite


def sqlite_table(path: Path, ddl: str) -> str:
    """Create a table by hand in a fresh SQLite file; return its store URL."""
    with sqlite3.connect(path) as conn:
        conn.execute(ddl)
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    ("ddl", "expected"),
    [
        ("CREATE TABLE kv (key TEXT, value TEXT)", "not a primary key or unique"),
        ("CREATE TABLE kv (key TEXT PRIMARY KEY, value JSON)", "NUMERIC affinity"),
        ("CREATE TABLE kv (key INTEGER PRIMARY KEY, value TEXT)", "column key of kv is INTEGER"),
        ("CREATE TABLE kv (key TEXT PRIMARY KEY, data TEXT)", "no column named value"),
        (
            "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT, owner TEXT NOT NULL)",
            "column owner of kv is NOT NULL without a default",
        ),
        (
            "CREATE TABLE kv (key TEXT, value TEXT); CREATE UNIQUE INDEX k ON kv (key) WHERE key > 'a'",
            "not a primary key or unique",
        ),
    ],
)
async def test_sqlite_shape_problems(tmp_path: Path, ddl: str, expected: str) -> None:
    with sqlite3.connect(tmp_path / "kv.db") as conn:
        conn.executescript(ddl)
    problems = await inspect_url(f"sqlite:///{tmp_path}/kv.db", "kv")
    assert codes(problems) == [Fault.SHAPE], problems
    assert expected in problems[0].message


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE kv (key VARCHAR(200) NOT NULL, value, created TEXT NOT NULL DEFAULT 'x'); "
        "CREATE UNIQUE INDEX kv_key ON kv (key)",
        "CREATE TABLE kv (Key TEXT PRIMARY KEY, Value CLOB) WITHOUT ROWID",
    ],
)
async def test_sqlite_tables_kvgraph_can_use(tmp_path: Path, ddl: str) -> None:
    with sqlite3.connect(tmp_path / "kv.db") as conn:
        conn.executescript(ddl)
    store = open_store(f"sqlite:///{tmp_path}/kv.db", "kv")
    try:
        assert await open_and_inspect(store) == []
        await store.set("k", {"n": 42})
        await store.set("k", 7)
        assert await store.get("k") == 7
    finally:
        await store.close()


def test_affinity_follows_sqlite_rules() -> None:
    assert [affinity(t) for t in ("TEXT", "varchar(10)", "", "BLOB", "JSON", "INT", "FLOAT")] == [
        "TEXT",
        "TEXT",
        "BLOB",
        "BLOB",
        "NUMERIC",
        "INTEGER",
        "REAL",
    ]


async def test_sqlite_creates_a_missing_table_with_its_primary_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/sub/dir/kv.db"
    assert await inspect_url(url, "kv_store_new") == []
    with sqlite3.connect(tmp_path / "sub/dir/kv.db") as conn:
        pk = conn.execute("SELECT name, pk FROM pragma_table_info('kv_store_new')").fetchall()
    assert pk == [("key", 1), ("value", 0)]


async def test_sqlite_read_only_file_is_opened_without_ddl_and_reported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kv.db"
    assert await inspect_url(url, "kv") == []
    with read_only(tmp_path / "kv.db"):
        problems = await inspect_url(url, "kv")
        assert codes(problems) == [Fault.READ_ONLY]
        assert "kv.db is read-only" in problems[0].message


async def test_sqlite_read_only_directory_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    url = f"sqlite:///{folder}/kv.db"
    assert await inspect_url(url, "kv") == []
    with read_only(folder):
        problems = await inspect_url(url, "kv")
    assert codes(problems) == [Fault.READ_ONLY]
    assert "is not writable" in problems[0].message


async def test_sqlite_store_opened_read_only_recovers_when_the_file_is_fixed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/kv.db"
    assert await inspect_url(url, "kv") == []
    store = open_store(url, "kv")
    try:
        with read_only(tmp_path / "kv.db"):
            await store.open()  # both connections are read-only from here on
            assert codes(await store.inspect()) == [Fault.READ_ONLY]
        assert await store.inspect() == []  # the writer was reopened
        await store.set("k", 1)
        assert await store.get("k") == 1
    finally:
        await store.close()


async def test_sqlite_refuses_lone_surrogates(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/kv.db", "kv")
    await store.open()
    try:
        with pytest.raises(RefusedError):
            await store.set("k", {"name": "\ud800"})
        with pytest.raises(RefusedError):
            await store.set("\udfff", 1)
        await store.set("nul", "a\x00b")  # SQLite holds NUL
        assert await store.get("nul") == "a\x00b"
    finally:
        await store.close()


# ---------------------------------------------------------------------------- Postgres


@pytest.mark.postgres
async def test_pg_dml_only_role_opens_an_existing_table_without_ddl(pg_table: str) -> None:
    async with pg_role(pg_table, *DML) as url:
        store = open_store(url, pg_table)
        try:
            assert await open_and_inspect(store) == []
            await store.set("trip:t1", {"id": "t1"})
            assert await store.get("trip:t1") == {"id": "t1"}
        finally:
            await store.close()


@pytest.mark.postgres
async def test_pg_missing_table_without_create_is_one_problem(pg_table: str) -> None:
    async with pg_role(pg_table, *DML) as url:
        problems = await inspect_url(url, pg_table + "_absent")
    assert codes(problems) == [Fault.MISSING_TABLE]
    assert "permission denied for schema public" in problems[0].message
    assert "\n" not in problems[0].message


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("grants", "code", "lacking"),
    [
        ((), Fault.NO_READ, "lacks SELECT, INSERT, UPDATE, DELETE"),
        (("INSERT", "UPDATE", "DELETE"), Fault.NO_READ, "lacks SELECT on"),
        (("SELECT",), Fault.NO_WRITE, "lacks INSERT, UPDATE, DELETE on"),
        (("SELECT", "INSERT", "UPDATE"), Fault.NO_WRITE, "lacks DELETE on"),
    ],
)
async def test_pg_missing_privileges(
    pg_table: str, grants: tuple[str, ...], code: Fault, lacking: str
) -> None:
    async with pg_role(pg_table, *grants) as url:
        problems = await inspect_url(url, pg_table)
    assert codes(problems) == [code]
    assert lacking in problems[0].message
    assert f"GRANT SELECT, INSERT, UPDATE, DELETE ON {pg_table} TO kv_role_" in problems[0].message


@pytest.mark.postgres
async def test_pg_revoked_insert_is_seen_by_an_open_store(pg_table: str) -> None:
    async with pg_role(pg_table, *DML) as url:
        store = open_store(url, pg_table)
        try:
            await store.open()
            assert await store.inspect() == []
            await admin(f"REVOKE INSERT ON {pg_table} FROM {url.split('//')[1].split('@')[0]}")
            assert codes(await store.inspect()) == [Fault.NO_WRITE]
        finally:
            await store.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("ddl", "expected"),
    [
        ("(key text, value jsonb)", "not a primary key or unique"),
        ("(key text, value jsonb, UNIQUE (key) DEFERRABLE)", "not a primary key or unique"),
        ("(key text PRIMARY KEY, value integer)", "is integer: kvgraph needs jsonb, json or text"),
        ("(key uuid PRIMARY KEY, value jsonb)", "column key of {t} is uuid"),
        ("(id text, value jsonb)", "has no column named key"),
        (
            "(key text PRIMARY KEY, value jsonb, owner text NOT NULL)",
            "column owner of {t} is NOT NULL without a default",
        ),
    ],
)
async def test_pg_shape_problems(ddl: str, expected: str) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    await admin(f"CREATE TABLE {table} {ddl}")
    try:
        problems = await inspect_url(PG_URL, table)
    finally:
        await drop_table(PG_URL, table)
    assert codes(problems) == [Fault.SHAPE], problems
    assert expected.format(t=table) in problems[0].message


@pytest.mark.postgres
@pytest.mark.parametrize("value_type", ["json", "text"])
async def test_pg_json_and_text_values_work(value_type: str) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    await admin(f"CREATE TABLE {table} (key text PRIMARY KEY, value {value_type} NOT NULL)")
    store = open_store(PG_URL, table)
    try:
        assert await open_and_inspect(store) == []
        await store.set_many({"a": {"b": [1, "x"]}, "n": 3})
        assert await store.get_many(["a", "n"]) == [{"b": [1, "x"]}, 3]
    finally:
        await store.close()
        await drop_table(PG_URL, table)


@pytest.mark.postgres
async def test_pg_row_level_security_for_a_role_without_bypassrls(pg_table: str) -> None:
    async with pg_role(pg_table, *DML) as url:
        await admin(f"ALTER TABLE {pg_table} ENABLE ROW LEVEL SECURITY")
        problems = await inspect_url(url, pg_table)
        assert codes(problems) == [Fault.RLS]
        assert "no policy applies, so every row is hidden" in problems[0].message
        role = url.split("//")[1].split("@")[0]
        await admin(f"CREATE POLICY everything ON {pg_table} TO {role} USING (true)")
        problems = await inspect_url(url, pg_table)
        assert codes(problems) == [Fault.RLS]
        assert "1 policy applies" in problems[0].message
        await admin(f"ALTER ROLE {role} BYPASSRLS")
        assert await inspect_url(url, pg_table) == []


@pytest.mark.postgres
async def test_pg_row_level_security_spares_the_owner_unless_forced(pg_table: str) -> None:
    async with pg_role(pg_table) as url:
        role = url.split("//")[1].split("@")[0]
        await admin(f"ALTER TABLE {pg_table} OWNER TO {role}")
        await admin(f"ALTER TABLE {pg_table} ENABLE ROW LEVEL SECURITY")
        assert await inspect_url(url, pg_table) == []
        await admin(f"ALTER TABLE {pg_table} FORCE ROW LEVEL SECURITY")
        problems = await inspect_url(url, pg_table)
        await admin(f"ALTER TABLE {pg_table} OWNER TO CURRENT_USER")
    assert codes(problems) == [Fault.RLS]
    assert "even for its owner" in problems[0].message


@pytest.mark.postgres
async def test_pg_schema_without_usage(pg_table: str) -> None:
    schema = f"kv_schema_{uuid.uuid4().hex[:10]}"
    table = f"{schema}.kv"
    await admin(f"CREATE SCHEMA {schema}")
    try:
        await admin(f"CREATE TABLE {table} (key text PRIMARY KEY, value jsonb NOT NULL)")
        async with pg_role(pg_table) as url:
            role = url.split("//")[1].split("@")[0]
            await admin(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
            problems = await inspect_url(url, table)
            assert codes(problems) == [Fault.NO_READ]
            assert problems[0].message.endswith(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            await admin(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            assert await inspect_url(url, table) == []
    finally:
        await admin(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.postgres
async def test_pg_unreachable_server_is_one_problem() -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    problems = await inspect_url("postgresql://postgres@127.0.0.1:9/test", "kv_store")
    assert codes(problems) == [Fault.UNREACHABLE]
    assert "\n" not in problems[0].message


@pytest.mark.postgres
async def test_pg_refuses_nul_and_lone_surrogates(pg_table: str) -> None:
    store = open_store(PG_URL, pg_table)
    await store.open()
    try:
        for key, value in [("k", "a\x00b"), ("k", {"x\x00": 1}), ("k\x00", 1), ("k", "\ud800")]:
            with pytest.raises(RefusedError):
                await store.set(key, value)
        assert await store.get("k") is None
    finally:
        await store.close()


@pytest.mark.postgres
async def test_pg_unqualified_table_in_a_schema_without_usage(pg_table: str) -> None:
    # to_regclass finds nothing in a schema the role may not use: the table would look
    # missing (and `open` would try to create it) without the USAGE line.
    schema = f"kv_schema_{uuid.uuid4().hex[:10]}"
    await admin(f"CREATE SCHEMA {schema}")
    try:
        await admin(f"CREATE TABLE {schema}.kv (key text PRIMARY KEY, value jsonb NOT NULL)")
        async with pg_role(pg_table) as url:
            role = url.split("//")[1].split("@")[0]
            await admin(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.kv TO {role}")
            await admin(f"ALTER ROLE {role} SET search_path = {schema}, public")
            for writes in (True, False):
                store = open_store(url, "kv")
                try:
                    problems = await open_and_inspect(store, writes=writes)
                    assert codes(problems) == [Fault.NO_READ], problems
                    assert problems[0].message.endswith(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
                finally:
                    await store.close()
            await admin(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            assert await inspect_url(url, "kv") == []
    finally:
        await admin(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.postgres
async def test_pg_select_only_role_is_enough_to_read(pg_table: str) -> None:
    async with pg_role(pg_table, "SELECT") as url:
        store = open_store(url, pg_table)
        try:
            assert await open_and_inspect(store, writes=False) == []
            problems = await store.inspect()
            assert codes(problems) == [Fault.NO_WRITE]
            assert f"lacks INSERT, UPDATE, DELETE on {pg_table}" in problems[0].message
        finally:
            await store.close()
    async with pg_role(pg_table, "INSERT") as url:
        store = open_store(url, pg_table)
        try:
            problems = await open_and_inspect(store, writes=False)
            assert codes(problems) == [Fault.NO_READ]
            assert problems[0].message.endswith(f"GRANT SELECT ON {pg_table} TO {role_of(url)}")
        finally:
            await store.close()


@pytest.mark.postgres
async def test_pg_read_only_session_is_fine_for_reading(pg_table: str) -> None:
    async with pg_role(pg_table, *DML) as url:
        await admin(f"ALTER ROLE {role_of(url)} SET default_transaction_read_only = on")
        store = open_store(url, pg_table)
        try:
            assert await open_and_inspect(store, writes=False) == []
            assert codes(await store.inspect()) == [Fault.READ_ONLY]
        finally:
            await store.close()


@pytest.mark.postgres
async def test_pg_reading_creates_no_table() -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    store = open_store(PG_URL, table)
    try:
        problems = await open_and_inspect(store, writes=False)
        assert codes(problems) == [Fault.MISSING_TABLE]
        assert await inspect_url(PG_URL, table) == []  # a command that writes creates it
    finally:
        await store.close()
        await drop_table(PG_URL, table)


async def test_sqlite_reading_creates_no_file_and_no_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/sub/kv.db"
    problems = await inspect_url_reading(url, "kv")
    assert codes(problems) == [Fault.MISSING_TABLE]
    assert "kv.db does not exist" in problems[0].message
    assert not (tmp_path / "sub").exists()
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE unrelated (x)")
    assert codes(await inspect_url_reading(f"sqlite:///{tmp_path}/other.db", "kv")) == [
        Fault.MISSING_TABLE
    ]
    with sqlite3.connect(tmp_path / "other.db") as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("unrelated",)]


async def test_sqlite_read_only_file_is_fine_for_reading(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kv.db"
    assert await inspect_url(url, "kv") == []
    with read_only(tmp_path / "kv.db"):
        assert await inspect_url_reading(url, "kv") == []
        assert codes(await inspect_url(url, "kv")) == [Fault.READ_ONLY]


async def inspect_url_reading(url: str, table: str) -> list[TableProblem]:
    """Open a store for a command that only reads, inspect it, close it."""
    store = open_store(url, table)
    try:
        return await open_and_inspect(store, writes=False)
    finally:
        await store.close()


def role_of(url: str) -> str:
    """The role a `pg_role` URL signs in as."""
    return url.split("//")[1].split("@")[0]
