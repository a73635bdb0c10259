"""Cached web pages: `WebSource`, `webSource(url:, hash:)` and their mutations (the service
role only)."""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry

from gql.kv import models as m
from gql.schema.base import Node, node, root_field, root_mutations, root_query
from gql.schema.derive import UNSET, _input, create_input, from_model, mutation
from resolvers import websources

REQUIRED: Any = dataclasses.MISSING


@strawberry.type(
    description="A cached web page (`websource:{hash}`, `hash` = hex SHA-256 of the "
    "normalized URL): written and read by the service role only."
)
@node(m.WebSource, websources.by_hash, id_of=lambda page: str(page.hash))
@from_model(m.WebSource)
class WebSource(Node):
    pass


UpsertWebSourceInput = create_input(
    m.WebSource, "UpsertWebSourceInput", hide=("hash",), extra={"url": (str, REQUIRED)}
)
DeleteWebSourceInput = _input(
    "DeleteWebSourceInput", {"url": (str | None, UNSET), "hash": (str | None, UNSET)}
)


@root_query
@strawberry.type
class WebSourceQuery:
    web_source: WebSource | None = root_field(
        websources.web_source,
        args=websources.WebSourceArgs,
        description="A cached page by its URL (normalized, then hashed) or its hash; null for "
        "anyone but the service role.",
    )


@root_mutations
@strawberry.type
class WebSourceMutations:
    upsert_web_source = mutation(
        websources.upsert_web_source,
        UpsertWebSourceInput,
        "web_source",
        WebSource,
        "Cache a page under the hash of its normalized URL: created, or its given fields "
        "replaced. The service role only.",
    )
    delete_web_source = mutation(
        websources.delete_web_source,
        DeleteWebSourceInput,
        "web_source",
        WebSource,
        "Delete a cached page by URL or hash. The service role only.",
        node_description="The page as it was before deletion.",
    )
