"""`kvgraph register-queries`: the allow-list registry from a frontend's `.graphql` files.

It writes Apollo's persisted-query manifest, so the server (`KVGRAPH_PERSISTED_QUERIES_FILE`)
and Apollo's client tools read the same file. Each named operation becomes one entry whose
body is the operation followed by the fragments it uses, sorted as Apollo's
`sortTopLevelDefinitions` sorts them (operations first, then by name) and printed as
graphql-js prints them; its id is the SHA-256 of that body, as Apollo computes it. Every
document is validated against the schema first, so a typo fails the build, not a request.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    NameNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    validate,
    visit,
)

from gql.web.persisted import Operation, document_hash, manifest

SUFFIXES = (".graphql", ".gql")
TYPENAME = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())


class RegistryError(Exception):
    """The documents cannot be registered; the message says where and why."""


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and every `.graphql`/`.gql` file under the folders named."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise RegistryError(f"{path}: no such file or folder")
    if not files:
        raise RegistryError("no .graphql or .gql files found")
    return files


def _parse(path: Path) -> DocumentNode:
    try:
        return parse(path.read_text(encoding="utf-8"))
    except GraphQLError as exc:
        where = f":{exc.locations[0].line}:{exc.locations[0].column}" if exc.locations else ""
        raise RegistryError(f"{path}{where}: {exc.message}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: cannot read: {exc}") from exc


def read_definitions(
    files: Sequence[Path],
) -> tuple[list[tuple[Path, OperationDefinitionNode]], dict[str, FragmentDefinitionNode]]:
    """Every operation (with its file) and every fragment by name, across all files."""
    operations: list[tuple[Path, OperationDefinitionNode]] = []
    fragments: dict[str, FragmentDefinitionNode] = {}
    for path in files:
        for definition in _parse(path).definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations.append((path, definition))
            elif isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if name in fragments and print_ast(fragments[name]) != print_ast(definition):
                    raise RegistryError(f"{path}: fragment {name} is defined twice, differently")
                fragments[name] = definition
            else:
                raise RegistryError(f"{path}: only operations and fragments can be registered")
    return operations, fragments


class _Spreads(Visitor):
    """Collects the names of the fragments a node spreads."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.append(node.name.value)


def used_fragments(
    node: Node, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    """The fragments `node` spreads, directly or through other fragments."""
    found: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)
        for name in spreads.names:
            if name in found:
                continue
            if name not in fragments:
                raise RegistryError(f"unknown fragment {name}")
            found[name] = fragments[name]
            pending.append(fragments[name])
    return list(found.values())


class _AddTypename(Visitor):
    """Add `__typename` to selection sets the way Apollo Client's cache does."""

    def enter_selection_set(
        self, node: SelectionSetNode, _key: Any, parent: Any, *_: Any
    ) -> SelectionSetNode | None:
        if isinstance(parent, OperationDefinitionNode):
            return None
        fields = [s for s in node.selections if isinstance(s, FieldNode)]
        if any(f.name.value.startswith("__") for f in fields):
            return None  # has __typename already, or is introspection
        directives = parent.directives or () if isinstance(parent, FieldNode) else ()
        if any(d.name.value == "export" for d in directives):
            return None  # an @export-ed selection feeds a variable
        return SelectionSetNode(selections=(*node.selections, TYPENAME))


def body_of(
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    *,
    add_typename: bool = False,
) -> DocumentNode:
    """The operation's own document: it and its fragments, in Apollo's order."""
    used = sorted(used_fragments(operation, fragments), key=lambda f: f.name.value)
    document = DocumentNode(definitions=(operation, *used))
    return visit(document, _AddTypename()) if add_typename else document


def register(
    paths: Iterable[str | Path], schema: GraphQLSchema, *, add_typename: bool = False
) -> list[Operation]:
    """Every named operation under `paths`, validated against `schema`, ready to register."""
    operations, fragments = read_definitions(find_files(paths))
    registered: dict[str, Operation] = {}
    for path, operation in operations:
        if operation.name is None:
            raise RegistryError(f"{path}: give every operation a name (one is anonymous)")
        name = operation.name.value
        if name in registered:
            raise RegistryError(f"{path}: operation {name} is defined twice")
        document = body_of(operation, fragments, add_typename=add_typename)
        errors = validate(schema, document)
        if errors:
            raise RegistryError(f"{path}: {name}: {errors[0].message}")
        body = print_ast(document)
        registered[name] = Operation(document_hash(body), name, operation.operation.value, body)
    return list(registered.values())


def register_command(
    paths: Sequence[str], output: str, schema: GraphQLSchema, *, add_typename: bool = False
) -> int:
    """Write the registry of the operations under `paths` to `output`; the exit code."""
    try:
        operations = register(paths, schema, add_typename=add_typename)
    except RegistryError as exc:
        print(f"register-queries: {exc}", file=sys.stderr)
        return 2
    Path(output).write_bytes(manifest(operations))
    print(f"registered {len(operations)} operations -> {output}")
    return 0
