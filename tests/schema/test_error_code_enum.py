"""`ErrorCode` lists every code a client can receive, and the docs' table lists the same."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gql.kv.repo import RepoError
from gql.schema import errors
from gql.schema.build import sdl
from gql.schema.codes import ENTRIES, ErrorCode
from resolvers import errors as domain_errors
from resolvers import meter

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[A-Z][A-Z_]{3,}$")


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *subclasses(sub)]
    return found


def literal_codes() -> set[str]:
    """Codes written as literals where errors are made: `fail(msg, field, "CODE")`,
    `ClientError(msg, "CODE")`, `Abort(msg, "CODE")`, `code="CODE"`, `code = "CODE"`."""
    found = set()
    for path in [*(ROOT / "resolvers").rglob("*.py"), *(ROOT / "gql").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name == "fail" and len(node.args) >= 3:
                    values.append(node.args[2])
                if name in {"ClientError", "Abort", "Problem"} and len(node.args) >= 2:
                    values.append(node.args[-1])
                values += [k.value for k in node.keywords if k.arg == "code"]
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "code" for t in node.targets
            ):
                values.append(node.value)
            found |= {
                v.value
                for v in values
                if isinstance(v, ast.Constant) and isinstance(v.value, str) and CODE.match(v.value)
            }
    return found


def constants() -> set[str]:
    modules = (errors, domain_errors, meter)
    return {
        value
        for module in modules
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and CODE.match(value)
    }


def test_every_code_is_in_the_enum() -> None:
    codes = constants() | {cls.code for cls in [RepoError, *subclasses(RepoError)]}
    codes |= literal_codes()
    assert "NOT_ACTIVE" in codes and "CONFLICT" in codes and "TIMEOUT" in codes  # the scan works
    missing = sorted(codes - set(ENTRIES))
    assert missing == [], f"add these to gql/schema/codes.py ENTRIES (and docs/api.md): {missing}"


def test_the_enum_is_in_the_schema_with_statuses() -> None:
    text = sdl()
    assert "enum ErrorCode {" in text
    assert {member.name for member in ErrorCode} == set(ENTRIES)
    for code, description in ENTRIES.items():
        assert "HTTP" in description, code
        assert f"  {code}\n" in text


def test_the_docs_table_lists_every_code() -> None:
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    table = api[api.index("## Errors") : api.index("## Bad data in the table")]
    documented = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            documented |= set(re.findall(r"`([A-Z_]+)`", first_cell))
    assert documented == set(ENTRIES)
