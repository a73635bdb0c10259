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


def sources() -> list[ast.Module]:
    return [
        ast.parse(path.read_text(encoding="utf-8"))
        for path in [*(ROOT / "resolvers").rglob("*.py"), *(ROOT / "gql").rglob("*.py")]
    ]


def string_constants(modules: list[ast.Module]) -> dict[str, set[str]]:
    """Every module-level `NAME = "TEXT"`, by name (a name may be bound in several modules)."""
    found: dict[str, set[str]] = {}
    for module in modules:
        for node in module.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                        found.setdefault(target.id, set()).add(node.value.value)
    return found


def code_arguments(node: ast.AST) -> list[ast.expr]:
    """The expressions an error is given as its code: `fail(msg, field, CODE)`,
    `ClientError(msg, CODE)`, `Abort(msg, CODE)`, `error_response(req, msg, CODE, status)`,
    `code=CODE`, and a class's `code = CODE`."""
    values: list[ast.expr] = []
    if isinstance(node, ast.Call):
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        positions = {"fail": 2, "ClientError": 1, "Abort": 1, "Problem": 2, "error_response": 2}
        if name in positions and len(node.args) > positions[name]:
            values.append(node.args[positions[name]])
        values += [k.value for k in node.keywords if k.arg == "code"]
    if isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "code" for t in node.targets
    ):
        values.append(node.value)
    return values


def literal_codes() -> set[str]:
    """Codes given where errors are made, as literals or as constants (resolved by name)."""
    modules = sources()
    named = string_constants(modules)
    found: set[str] = set()
    for module in modules:
        for node in ast.walk(module):
            for value in code_arguments(node):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
                elif isinstance(value, ast.Name | ast.Attribute):
                    name = value.id if isinstance(value, ast.Name) else value.attr
                    found |= named.get(name, set())
    return {code for code in found if CODE.match(code)}


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
    # the scan works: literals, constants by name, class attributes, the web layer's responses
    assert {"NOT_ACTIVE", "CONFLICT", "FORBIDDEN", "RATE_LIMITED"} <= literal_codes()
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
