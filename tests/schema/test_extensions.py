"""GatewayErrors: no error of an operation that may carry a secret repeats an input value,
for every input field `SECRET_INPUT_FIELDS` names (the one place that says which take one)."""

from __future__ import annotations

import pytest
import strawberry

from gql.schema.api_keys import SECRET_INPUT_FIELDS
from gql.schema.extensions import GatewayErrors, secret_names

SECRET = "whsec-0123456789abcdef"


@strawberry.input
class WebhookInput:
    url: str
    signing_key: str


@strawberry.input
class HooksInput:
    hooks: list[WebhookInput]


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Mutation:
    @strawberry.mutation
    def set_webhook(self, input: WebhookInput) -> bool:
        return True

    @strawberry.mutation
    def set_hooks(self, input: HooksInput) -> bool:
        return True


SCHEMA = strawberry.Schema(Query, Mutation, extensions=[GatewayErrors])
# The secret given where a string is expected: graphql-core's error quotes it back.
BY_VARIABLE = "mutation($i: WebhookInput!) { setWebhook(input: $i) }"
NESTED = "mutation($h: HooksInput!) { setHooks(input: $h) }"  # names neither of the above
LITERAL = f'mutation {{ setWebhook(input: {{url: "u", signingKey: ["{SECRET}"]}}) }}'
CASES = [
    (BY_VARIABLE, {"i": {"url": "u", "signingKey": [SECRET]}}),
    (NESTED, {"h": {"hooks": [{"url": "u", "signingKey": [SECRET]}]}}),
    (LITERAL, None),
]


async def messages(query: str, variables: dict | None) -> str:
    result = await SCHEMA.execute(query, variable_values=variables)
    assert result.errors
    return " ".join(error.message for error in result.errors)


@pytest.mark.parametrize(("query", "variables"), CASES)
async def test_a_new_secret_field_is_masked_once_named_in_the_one_place(
    monkeypatch: pytest.MonkeyPatch, query: str, variables: dict | None
) -> None:
    assert SECRET in await messages(query, variables)  # not a secret yet: quoted as usual
    monkeypatch.setitem(SECRET_INPUT_FIELDS, "WebhookInput", frozenset({"signingKey"}))
    assert SECRET not in await messages(query, variables)


def test_the_gateway_names_its_api_key_input_and_mutation(schema: strawberry.Schema) -> None:
    found = secret_names(schema._schema, frozenset(SECRET_INPUT_FIELDS))
    assert found == {"SetApiKeyInput", "setApiKey"}
