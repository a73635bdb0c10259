"""What the level executor takes from graphql-core and Strawberry beyond their documented API.

`gql/schema/executor.py` subclasses Strawberry's graphql-core execution context and calls a few
methods graphql-core does not document. If an upstream release changes any of them, these
tests fail with the name of what changed, before a query misbehaves. When one fails, read the
upstream change, adapt the executor, then update the expectation here (and the pins in
pyproject.toml and .ci/constraints.txt).
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import graphql
from graphql.execution import collect_fields, values
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

EXECUTOR = StrawberryGraphQLCoreExecutionContext


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_versions_the_executor_was_written_for() -> None:
    # pyproject.toml allows only these minor versions; .ci/constraints.txt pins the patch level
    assert version("graphql-core").startswith("3.3."), version("graphql-core")
    assert version("strawberry-graphql").startswith("0.341."), version("strawberry-graphql")


def test_root_fields_hook() -> None:
    assert parameters(EXECUTOR.execute_collected_root_fields) == [
        "self",
        "root_type",
        "root_value",
        "grouped_field_set",
        "serially",
        "new_defer_usages",
    ]


def test_subfield_collection() -> None:
    assert parameters(EXECUTOR.collect_subfields) == ["self", "return_type", "field_details_list"]
    collected = inspect.signature(EXECUTOR.collect_subfields).return_annotation
    assert "CollectedFields" in str(collected)
    fields = {f for f in dir(collect_fields.CollectedFields) if not f.startswith("_")}
    assert {"grouped_field_set", "new_defer_usages"} <= fields


def test_argument_values() -> None:
    assert parameters(values.get_argument_values)[:3] == ["type_def", "node", "variable_values"]


def test_execution_context_attributes() -> None:
    used = {"context_value", "variable_values", "operation", "schema", "is_awaitable"}
    slots = set(dir(EXECUTOR))
    annotations: set[str] = set()
    for klass in EXECUTOR.__mro__:
        annotations |= set(getattr(klass, "__annotations__", {}))
    assert used <= slots | annotations, used - slots - annotations


def test_names_imported_from_graphql_core() -> None:
    for name in ("FieldDetailsList", "GroupedFieldSet"):
        assert hasattr(collect_fields, name), name
    for name in ("is_abstract_type", "is_leaf_type", "GraphQLNonNull", "GraphQLList"):
        assert hasattr(graphql, name), name
    leaf = graphql.GraphQLString
    assert callable(leaf.coerce_output_value)  # the level executor's leaf coercion
