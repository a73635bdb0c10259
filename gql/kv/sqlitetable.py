"""What SQLite says about the KV table and its file, as one-line problems.

A table imported by hand may lack its primary key (every upsert then fails) or declare
`value JSON`, which SQLite gives NUMERIC affinity: `42` would be stored as a number and no
longer read back as JSON text. A read-only file or directory lets kvgraph read but fails
every write; both are reported before they surprise a user.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from gql.kv.base import Fault, TableProblem

Column = tuple[str, str, int, object, int]  # name, declared type, notnull, default, pk


def affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (the five rules of its documentation)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper:
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def shape_problems(
    table: str, columns: Sequence[Column], unique_indexes: Iterable[Sequence[str]]
) -> list[TableProblem]:
    """Problems with the columns and the key's uniqueness of an existing table."""
    by_name = {column[0].lower(): column for column in columns}
    found: list[str] = []
    for name in ("key", "value"):
        column = by_name.get(name)
        if column is None:
            found.append(f"table {table} has no column named {name}")
        elif affinity(column[1]) not in {"TEXT", "BLOB"}:
            found.append(
                f"column {name} of {table} is {column[1]} ({affinity(column[1])} affinity in "
                "SQLite, so text that looks like a number is stored as a number): use TEXT"
            )
    primary = [column[0].lower() for column in columns if column[4]]
    named = ([c.lower() for c in cols] for cols in unique_indexes)
    if "key" in by_name and primary != ["key"] and ["key"] not in named:
        found.append(
            f"column key of {table} is not a primary key or unique, so every write would fail "
            "(recreate the table as (key TEXT PRIMARY KEY, value TEXT NOT NULL))"
        )
    for name, _type, notnull, default, pk in columns:
        if notnull and default is None and not pk and name.lower() not in {"key", "value"}:
            found.append(
                f"column {name} of {table} is NOT NULL without a default, so kvgraph's inserts "
                "(key and value only) would fail"
            )
    return [TableProblem(Fault.SHAPE, message) for message in found]


def file_problems(path: str) -> list[TableProblem]:
    """The file or its directory is not writable (SQLite keeps -wal and -shm files beside it)."""
    folder = Path(path).parent
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return [TableProblem(Fault.READ_ONLY, f"SQLite file {path} is read-only")]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [
            TableProblem(
                Fault.READ_ONLY,
                f"directory {folder} of the SQLite file is not writable "
                "(SQLite creates its -wal and -shm files there)",
            )
        ]
    return []


def missing_file(path: str) -> TableProblem | None:
    """The SQLite file does not exist (a command that only reads does not create it)."""
    if os.path.exists(path):
        return None
    return TableProblem(Fault.MISSING_TABLE, f"SQLite file {path} does not exist")
