"""The frontend tools teams use, run against `schema.graphql` with a set of frontend
operations: graphql-codegen (client preset and classic plugins) compiled by `tsc --strict`,
`relay-compiler` with `@connection` and `@refetchable` under docs/frontends.md's config, and
Apollo Client 4 with the docs' cache policy against a live kvgraph.

The projects live in `tests/node/clients/` (packages from `tests/node`'s lockfile); each run
works in a scratch copy beside a copy of `schema.graphql`, so nothing generated is left in the
tree and a removed operation cannot hide behind an old artifact.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gql.commands.demo import ALEX_USER_ID, DEMO_USER_ID, seed_demo
from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.settings import Settings
from tests.support import node_packages

SECRET = "test-secret-0123456789-0123456789-abcdef"

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "tests" / "node" / "clients"
FRONTENDS_DOC = ROOT / "docs" / "frontends.md"


@pytest.fixture(scope="module")
def node_dir() -> Path:
    """tests/node with the codegen, TypeScript and Relay packages installed from the lockfile."""
    return node_packages()


def scratch(project: str, node_dir: Path, tmp_path: Path) -> Path:
    """A copy of `tests/node/clients/<project>` with schema.graphql and node_modules beside it."""
    work = tmp_path / project
    shutil.copytree(CLIENTS / project, work)
    shutil.copyfile(ROOT / "schema.graphql", work / "schema.graphql")
    (work / "node_modules").symlink_to(node_dir / "node_modules", target_is_directory=True)
    return work


def tool(work: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `node_modules/.bin/<name>` in `work`; the finished process, whatever its exit.

    Without git's variables (`GIT_DIR`, set under `git rebase --exec`): relay-compiler would
    `git add` its artifacts to the repository they name.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    return subprocess.run(
        [str(work / "node_modules" / ".bin" / name), *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    """The output of a tool that must succeed; its whole output when it did not."""
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(map(str, done.args))} failed:\n{output}"
    return output


def generated(work: Path, folder: str) -> dict[str, str]:
    """The files a tool wrote under `work/folder`, by relative path."""
    root = work / folder
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


# --- graphql-codegen + tsc ------------------------------------------------------------------


def test_codegen_operations_compile_under_strict_tsc(node_dir: Path, tmp_path: Path) -> None:
    work = scratch("codegen", node_dir, tmp_path)
    ok(tool(work, "graphql-codegen", "--config", "codegen.ts"))
    types = (work / "src" / "gql" / "graphql.ts").read_text()
    for operation in (
        "TripBoardQuery",
        "UpdateItemMutation",
        "ChatQuery",
        "PostMessageMutation",
        "CatalogSearchQuery",
        "LocationCardFragment",
        "ChatLiveSubscription",
    ):
        assert f"export type {operation} =" in types, operation
    # futureProofEnums: every enum is open, as docs/frontends.md says
    assert "'%future added value'" in types
    enums = (work / "src" / "enums.ts").read_text()
    assert "export type ErrorCode =" in enums and "'UNAUTHENTICATED'" in enums
    classic = (work / "src" / "classic.ts").read_text()
    assert "export type TripBoardQuery =" in classic
    ok(tool(work, "tsc", "-p", "tsconfig.json"))


def test_codegen_refuses_an_unmapped_scalar(node_dir: Path, tmp_path: Path) -> None:
    """strictScalars: leaving JSON out of the map stops generation (docs/frontends.md)."""
    work = scratch("codegen", node_dir, tmp_path)
    config = work / "codegen.ts"
    text = config.read_text()
    assert '  JSON: "unknown",\n' in text
    config.write_text(text.replace('  JSON: "unknown",\n', ""))
    done = tool(work, "graphql-codegen", "--config", "codegen.ts")
    assert done.returncode != 0
    assert "Unknown scalar type JSON" in done.stdout + done.stderr


def test_tsc_fails_on_a_type_error(node_dir: Path, tmp_path: Path) -> None:
    """The compile step can fail: a frontend that reads a field it did not select."""
    work = scratch("codegen", node_dir, tmp_path)
    ok(tool(work, "graphql-codegen", "--config", "codegen.ts"))
    (work / "src" / "wrong.ts").write_text(
        'import type { ChatQuery } from "./gql/graphql";\n'
        "export const title = (data: ChatQuery): string => data.conversation.title;\n"
    )
    done = tool(work, "tsc", "-p", "tsconfig.json")
    assert done.returncode != 0
    assert "wrong.ts" in done.stdout + done.stderr


def test_codegen_fails_on_an_operation_the_schema_lacks(node_dir: Path, tmp_path: Path) -> None:
    work = scratch("codegen", node_dir, tmp_path)
    (work / "src" / "stale.ts").write_text(
        'import { graphql } from "./gql";\n'
        "export const Stale = graphql(`query Stale { viewer { id nickname } }`);\n"
    )
    done = tool(work, "graphql-codegen", "--config", "codegen.ts")
    assert done.returncode != 0
    assert "nickname" in done.stdout + done.stderr


# --- relay-compiler -------------------------------------------------------------------------


def test_relay_compiler_with_the_documented_config(node_dir: Path, tmp_path: Path) -> None:
    work = scratch("relay", node_dir, tmp_path)
    ok(tool(work, "relay-compiler"))
    artifacts = generated(work, "src/__generated__")
    for refetch in (
        "TripBoardItemsPaginationQuery",
        "TripBoardBudgetRefetchQuery",
        "ChatMessagesPaginationQuery",
    ):
        text = artifacts[f"{refetch}.graphql.ts"]
        # @refetchable on a Node type refetches through `node(nodeId:)`
        assert "node(nodeId: $nodeId)" in text, refetch
    assert "CatalogSearchRefetchQuery.graphql.ts" in artifacts  # @refetchable on Query
    assert "ChatLiveSubscription.graphql.ts" in artifacts
    connection = artifacts["TripBoard_items.graphql.ts"]
    assert '"TripBoard_items"' in connection and "pageInfo" in connection
    ok(tool(work, "tsc", "-p", "tsconfig.json"))


def test_relay_compiler_without_the_node_config_fails(node_dir: Path, tmp_path: Path) -> None:
    """Why the docs name the settings: Relay's defaults (`id`) do not fit kvgraph's Node."""
    work = scratch("relay", node_dir, tmp_path)
    config = json.loads((work / "relay.config.json").read_text())
    del config["schemaConfig"]
    (work / "relay.config.json").write_text(json.dumps(config))
    done = tool(work, "relay-compiler")
    assert done.returncode != 0
    assert not (
        work / "src" / "__generated__" / "TripBoardItemsPaginationQuery.graphql.ts"
    ).exists()


# --- Apollo Client: the docs' snippets ------------------------------------------------------


def test_docs_apollo_snippets_compile_under_strict_tsc(node_dir: Path, tmp_path: Path) -> None:
    """docs/frontends.md's cache and error link, verbatim, against @apollo/client's types."""
    work = scratch("apollo", node_dir, tmp_path)
    snippets = [block for block in doc_blocks("ts") if '"@apollo/client' in block]
    assert len(snippets) == 2, "the cache policy and the error link"
    for n, snippet in enumerate(snippets):
        prelude = 'import { retryLater, showOutage, signOut } from "./app";\n'
        (work / "src" / f"docs{n}.ts").write_text(prelude + snippet + "\nexport {};\n")
    ok(tool(work, "tsc", "-p", "tsconfig.json"))


async def test_apollo_client_caches_by_the_documented_keys(
    node_dir: Path, tmp_path: Path, aiohttp_server: Callable[..., Awaitable[Any]]
) -> None:
    """Apollo Client 4 against a live kvgraph with the docs' cache: a budget is stored under
    its nodeId, a collaborator too; a bad token's 401 arrives as
    CombinedGraphQLErrors with UNAUTHENTICATED (Apollo reads graphql-response+json bodies)."""
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", jwt_secret=SECRET)
    server = await aiohttp_server(create_app(settings))
    store = server.app[STORE]
    await seed_demo(store)
    index = await store.get(f"trips:index:{DEMO_USER_ID}")
    assert isinstance(index, list) and index
    trip = str(index[0])
    await store.set_many(
        {
            f"collaborator:{trip}:{ALEX_USER_ID}": {
                "tripId": trip,
                "userId": ALEX_USER_ID,
                "role": "editor",
            }
        }
    )
    (cache,) = [block for block in doc_blocks("ts") if "typePolicies" in block]
    module = tmp_path / "cache.mjs"
    (tmp_path / "node_modules").symlink_to(node_dir / "node_modules", target_is_directory=True)
    module.write_text(cache + "\nexport { cache };\n")  # the snippet is JavaScript too
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(node_dir / "apollo.mjs"),
        str(server.make_url("/graphql")),
        mint_token(SECRET, DEMO_USER_ID),
        str(module),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["error"] is None and result["trips"], result
    keys = result["keys"]
    assert any(key.startswith('Budget:{"nodeId":"') for key in keys), keys
    assert any(key.startswith('Collaborator:{"nodeId":"') for key in keys), keys
    assert f"Trip:{trip}" in keys
    assert result["bad"] == {
        "combined": True,
        "server": False,
        "codes": ["UNAUTHENTICATED"],
        "statusCode": None,
    }


def test_docs_possible_types_are_the_schemas() -> None:
    """Fragments on `Location` and `Node` match only if possibleTypes lists every type."""
    schema = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    (cache,) = [block for block in doc_blocks("ts") if "possibleTypes" in block]
    for interface in ("Location", "Node"):
        documented = re.search(rf"{interface}: \[([^\]]*)\]", cache)
        assert documented is not None, interface
        listed = sorted(re.findall(r'"(\w+)"', documented.group(1)))
        implementing = sorted(
            name
            for name, interfaces in re.findall(
                r"^type (\w+) implements ([\w& ]+) \{", schema, re.MULTILINE
            )
            if interface in interfaces.replace("&", " ").split()
        )
        assert listed == implementing, interface


# --- the docs show what is run --------------------------------------------------------------


def doc_blocks(language: str) -> list[str]:
    text = FRONTENDS_DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_docs_relay_config_is_the_one_tested() -> None:
    (documented,) = [json.loads(block) for block in doc_blocks("json") if '"schemaConfig"' in block]
    tested = json.loads((CLIENTS / "relay" / "relay.config.json").read_text())
    assert documented == tested
    environment = (CLIENTS / "relay" / "src" / "environment.ts").read_text()
    (runtime,) = [block for block in doc_blocks("ts") if "getDataID" in block]
    get_data_id = next(line for line in runtime.splitlines() if "getDataID" in line)
    assert get_data_id in environment


def test_docs_codegen_config_is_the_one_tested() -> None:
    (documented,) = [block for block in doc_blocks("ts") if "CodegenConfig" in block]
    tested = (CLIENTS / "codegen" / "codegen.ts").read_text()
    for line in ('Date: "string"', 'DateTime: "string"', 'JSON: "unknown"'):
        assert line in documented and line in tested, line
    for option in ("strictScalars: true", "futureProofEnums: true", 'preset: "client"'):
        assert option in documented and option in tested, option


def test_every_node_type_has_an_id_or_a_documented_key() -> None:
    """Apollo's cache: a `Node` type without `id` (a record with a key of its own) is keyed in
    the docs' typePolicies; other types are values that live inside their parent."""
    schema = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    (cache,) = [block for block in doc_blocks("ts") if "typePolicies" in block]
    keyed = set(re.findall(r"^\s+(\w+): \{ keyFields: \[", cache, flags=re.MULTILINE))
    types = re.findall(
        r"^type (\w+) implements ([\w& ]+) \{\n(.*?)^\}", schema, re.MULTILINE | re.DOTALL
    )
    unkeyed = [
        name
        for name, interfaces, body in types
        if "Node" in interfaces.replace("&", " ").split()
        and not re.search(r"^  id: ID!$", body, re.MULTILINE)
        and name not in keyed
    ]
    assert unkeyed == [], (
        "Node types without `id`: add a keyFields policy to docs/frontends.md "
        f"(Apollo Client: cache keys): {unkeyed}"
    )
    assert {"Budget", "AIContext", "Collaborator"} <= keyed
    for name in keyed:
        fields = re.search(rf"^type {name}\b[^{{]*\{{\n(.*?)^\}}", schema, re.MULTILINE | re.DOTALL)
        assert fields is not None, name
        (key_fields,) = re.findall(rf"{name}: \{{ keyFields: \[([^\]]*)\]", cache)
        for key in re.findall(r'"(\w+)"', key_fields):
            assert re.search(rf"^  {key}: \w+!$", fields.group(1), re.MULTILINE), (name, key)
