"""`UserError.errorCode`: every code a mutation's userError can carry is an `ErrorCode` member,
and the typed field always equals the deprecated `code` string.

A userError's code is given where its `Problem` is made: `Problem(field, message, CODE)`,
`Outcome.fail(message, field, CODE)`, or a `RepoError` subclass's `code` (`from_error`). The
scan below resolves each of those expressions to its strings and fails on one it cannot
resolve, so a new code (or a code computed where the scan cannot see it) fails here, not as an
internal error in a deployed client's payload. The mutations then show the two fields agree.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest

from gql.kv import Store
from gql.kv.repo import RepoError
from gql.schema.base import UserError
from gql.schema.build import sdl
from gql.schema.codes import ENTRIES, ErrorCode
from resolvers.common import Outcome, Problem, denied
from resolvers.errors import FORBIDDEN
from tests.support import (
    ACCEPT,
    ALICE,
    BACKENDS,
    BOB,
    CREATE_TRIP,
    INVITE,
    NOWHERE,
    UPDATE_TRIP,
    Gateway,
    done,
    refused,
    suggestion,
    trip_for,
)

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("resolvers", "gql/schema")


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *subclasses(sub)]
    return found


# Where a code is forwarded rather than chosen, and the codes that can arrive there: none of
# `fail`'s own (its callers are scanned); `denied`'s verdict passes FORBIDDEN and turns any
# other into NOT_FOUND (test_denied_passes_only_forbidden); a RepoError's is its class's `code`.
FORWARDED: dict[tuple[str, str, str], set[str]] = {
    ("resolvers.common", "fail", "code"): set(),
    ("resolvers.common", "denied", "code"): {FORBIDDEN, "NOT_FOUND"},
    ("resolvers.common", "from_error", "error.code"): {
        cls.code for cls in [RepoError, *subclasses(RepoError)]
    },
}


def code_argument(call: ast.Call) -> ast.expr | None:
    """The code given to `Problem(field, message, code)` or `fail(message, field, code)`."""
    name = getattr(call.func, "attr", getattr(call.func, "id", ""))
    if name not in ("Problem", "fail"):
        return None
    given = [k.value for k in call.keywords if k.arg == "code"]
    return call.args[2] if len(call.args) > 2 else (given[0] if given else None)


def functions(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node of the module by the name of the function it is in ("" at module level)."""
    where: dict[ast.AST, str] = {}
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
        for node in ast.walk(fn):
            where[node] = fn.name
    return where


def scan(module_name: str, source: str, found: set[str], unresolved: list[str]) -> None:
    """Add the codes the module's userErrors are given to `found`; what it cannot resolve
    (neither a literal, a module-level string, nor a FORWARDED expression) to `unresolved`."""
    tree = ast.parse(source)
    module = importlib.import_module(module_name) if module_name else None
    where = functions(tree)
    for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call)]:
        code = code_argument(call)
        if code is None:
            continue
        text = ast.unparse(code)
        named = getattr(module, text, None) if isinstance(code, ast.Name) else None
        if isinstance(code, ast.Constant) and isinstance(code.value, str):
            found.add(code.value)
        elif isinstance(named, str):
            found.add(named)
        elif (module_name, where.get(call, ""), text) in FORWARDED:
            found |= FORWARDED[module_name, where.get(call, ""), text]
        else:
            unresolved.append(f"{module_name or '<source>'}:{call.lineno}: {text}")


def user_error_codes() -> tuple[set[str], list[str]]:
    """Every code a userError can carry, and the code expressions the scan cannot resolve."""
    found = {Problem(None, "").code}
    found.add(inspect.signature(Outcome.fail).parameters["code"].default)
    unresolved: list[str] = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            scan(name, path.read_text(encoding="utf-8"), found, unresolved)
    return found, unresolved


def test_every_user_error_code_is_an_error_code_member() -> None:
    found, unresolved = user_error_codes()
    assert unresolved == [], (
        "give these userErrors a literal code or a module-level constant (or prove what "
        f"reaches them and list them in FORWARDED): {unresolved}"
    )
    # the scan works: literals, constants by name, forwarded codes, the defaults
    assert {"BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "NOT_ACTIVE", "NOT_OPEN"} <= found
    assert {"INVALID_TRANSITION", "NOT_CONFIGURED", "INVALID_RECORD", "FORBIDDEN"} <= found
    missing = sorted(found - set(ENTRIES))
    assert missing == [], f"add these to gql/schema/codes.py ENTRIES (and docs/api.md): {missing}"


def test_the_scan_fails_on_a_new_code_or_one_it_cannot_see() -> None:
    found: set[str] = set()
    unresolved: list[str] = []
    source = (
        'NEW = "PAYMENT_DECLINED"\n'
        "def f(why):\n"
        '    a = Outcome.fail("no", "card", NEW)\n'
        '    b = Problem("card", "no", code="CARD_EXPIRED")\n'
        '    return Outcome.fail("no", "card", why)\n'
    )
    scan("", source, found, unresolved)
    assert found == {"CARD_EXPIRED"}  # NEW is resolved on the imported module, which is none here
    assert unresolved == ["<source>:3: NEW", "<source>:5: why"]
    assert "CARD_EXPIRED" not in ENTRIES


def test_denied_passes_only_forbidden() -> None:
    """`denied` forwards its verdict (FORWARDED): FORBIDDEN stays, anything else is NOT_FOUND."""
    assert denied(FORBIDDEN, "trip", "id", "edit").problems[0].code == FORBIDDEN
    for verdict in (None, "NOT_FOUND", "SOMETHING_ELSE"):
        assert denied(verdict, "trip", "id", "edit").problems[0].code == "NOT_FOUND"


def test_a_user_error_is_built_with_its_enum_member() -> None:
    error = UserError.of(Problem("id", "trip not found", "NOT_FOUND"))
    assert error.error_code is ErrorCode["NOT_FOUND"] and error.code == "NOT_FOUND"
    with pytest.raises(ValueError, match=r"gql/schema/codes\.py"):
        UserError.of(Problem("id", "no", "CARD_EXPIRED"))


def test_the_schema_deprecates_code_for_error_code() -> None:
    text = sdl()
    body = text[text.index("type UserError {") :]
    body = body[: body.index("\n}")]
    assert "  errorCode: ErrorCode!\n" in body
    assert '  code: String! @deprecated(reason: "Use `errorCode`' in body


# --- the mutations: errorCode equals code, on every backend ---------------------------------


async def bad_input(gw: Gateway, store: Store) -> list[dict[str, Any]]:
    return await refused(gw, store, CREATE_TRIP, {"title": ""})


async def not_found(gw: Gateway, store: Store) -> list[dict[str, Any]]:
    return await refused(gw, store, UPDATE_TRIP, {"id": NOWHERE, "title": "x"})


async def forbidden(gw: Gateway, store: Store) -> list[dict[str, Any]]:
    trip_id = (await trip_for(gw))["id"]
    await done(gw, INVITE, {"tripId": trip_id, "userId": BOB, "role": "VIEWER"})
    return await refused(gw, store, UPDATE_TRIP, {"id": trip_id, "title": "Mine"}, BOB)


async def conflict(gw: Gateway, store: Store) -> list[dict[str, Any]]:
    trip_id = (await trip_for(gw))["id"]
    await done(gw, INVITE, {"tripId": trip_id, "userId": BOB})
    return await refused(gw, store, INVITE, {"tripId": trip_id, "userId": BOB})


async def not_active(gw: Gateway, store: Store) -> list[dict[str, Any]]:
    suggestion_id = await suggestion(store, ALICE, status="dismissed")
    return await refused(gw, store, ACCEPT, {"id": suggestion_id})


CASES = [
    ("BAD_USER_INPUT", bad_input),
    ("NOT_FOUND", not_found),
    ("FORBIDDEN", forbidden),
    ("CONFLICT", conflict),
    ("NOT_ACTIVE", not_active),
]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
@pytest.mark.parametrize(("kind", "refusal"), CASES, ids=[kind for kind, _ in CASES])
async def test_error_code_equals_code(gw: Gateway, store: Store, kind: str, refusal: Any) -> None:
    errors = await refusal(gw, store)
    assert [(e["code"], e["errorCode"]) for e in errors] == [(kind, kind)], errors
