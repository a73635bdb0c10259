"""Schema extensions: error codes and masking, invalid-record reports, debug KV stats."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from gql.schema.errors import (
    INTERNAL_SERVER_ERROR,
    INVALID_RECORD,
    PARSE_FAILED,
    VALIDATION_FAILED,
    coded,
    should_mask,
)
from resolvers.errors import ClientError

log = logging.getLogger("kvgraph")


def _classify(error: GraphQLError) -> None:
    """Give an error without a code the code its kind implies."""
    if error.extensions and "code" in error.extensions:
        return
    if isinstance(error.original_error, ClientError):
        error.extensions = {**(error.extensions or {}), "code": error.original_error.code}
        return
    if error.path is None and error.original_error is None:
        code = PARSE_FAILED if error.message.startswith("Syntax Error") else VALIDATION_FAILED
    else:
        code = INTERNAL_SERVER_ERROR
    error.extensions = {**(error.extensions or {}), "code": code}


class GatewayErrors(MaskErrors):
    """Mask unexpected exceptions (logged once by Strawberry), code every error."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message="Internal server error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            _classify(error)
        return processed


class RecordReports(SchemaExtension):
    """Add one `INVALID_RECORD` error per bad record a request met (its data still returns)."""

    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        result = self.execution_context.result
        problems = getattr(context, "problems", None)
        if not problems or result is None:
            return
        reports = [
            coded(f"invalid record {key}: {message}", INVALID_RECORD, key=key)
            for key, message in problems.items()
        ]
        result.errors = [*(result.errors or []), *reports]


class KVStats(SchemaExtension):
    """With debug stats on, report `extensions.kv = {batches, keys}` for the request."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not getattr(context, "debug_stats", False):
            return {}
        loaders = context.loaders
        return {"kv": {"batches": loaders.batches, "keys": loaders.keys}}
