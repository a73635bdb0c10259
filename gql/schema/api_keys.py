"""API keys: the masked type (no `data`: an app's record may hold anything), setting and
deleting the viewer's key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import strawberry

from gql.kv import models as m
from gql.schema.base import Node, node, relation, root_mutations
from gql.schema.derive import UNSET, mutation
from resolvers import api_keys
from resolvers.context import Context

# Input fields that take a secret, by input type: the one place that says so. Validation
# refuses them as literals, and no error of an operation naming such a type (or an input that
# holds one, or a field taking either) quotes an input value (`extensions.secret_names`).
SECRET_INPUT_FIELDS = {"SetApiKeyInput": frozenset({"secret"})}


async def _hints(ctx: Context, keys: Sequence[m.ApiKey]) -> list[str | None]:
    return [api_keys.masked_hint(key.hint) for key in keys]


async def _masked(ctx: Context, keys: Sequence[m.ApiKey]) -> list[str]:
    return ["••••" + (api_keys.masked_hint(key.hint) or "") for key in keys]


@strawberry.type(
    description="The viewer's API key for an AI provider (`apikey:{userId}`). The key itself is "
    "stored encrypted and never leaves the server: only its last 4 characters show."
)
@node(m.ApiKey, api_keys.api_key, id_of=lambda key: str(key.user_id))
class ApiKey(Node):
    provider: str | None
    hint: str | None = relation(_hints, description="The key's last 4 characters.")
    masked: str = relation(_masked, description="The key as shown to people: `••••` + `hint`.")
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@strawberry.input
class SetApiKeyInput:
    provider: str = strawberry.field(description="Whose key: `openai`, `anthropic`, ...")
    secret: str = strawberry.field(
        description="The key, 16 to 4,096 characters without spaces; stored encrypted, never "
        "shown again (send it as a variable, not in the document)."
    )


@strawberry.input
class DeleteApiKeyInput:
    provider: str | None = strawberry.field(
        default=UNSET, description="Delete the key only if it is this provider's."
    )


@root_mutations
@strawberry.type
class ApiKeyMutations:
    set_api_key = mutation(
        api_keys.set_api_key,
        SetApiKeyInput,
        "api_key",
        ApiKey,
        "Store the viewer's API key, encrypted, replacing any earlier one.",
    )
    delete_api_key = mutation(
        api_keys.delete_api_key,
        DeleteApiKeyInput,
        "api_key",
        ApiKey,
        "Delete the viewer's API key.",
    )
