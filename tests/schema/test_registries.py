"""Registries fail closed: every entity kind has a read rule, a stranger finds no private node,
secret fields never reach the schema, and a type derived the wrong way round is refused."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.catalog import CATALOG
from gql.schema.base import _record_data
from gql.schema.build import build_schema, sdl
from gql.schema.derive import create_input, from_model, update_input
from resolvers import access, nodes
from resolvers.context import SERVICE_ROLE, Context
from resolvers.errors import FORBIDDEN, UNAUTHENTICATED, ClientError
from resolvers.ids import node_id
from tests.support import BACKENDS, Gateway

OWNER, STRANGER = "owner-1", "stranger-2"
# One record of each node kind, owned by OWNER (the catalog kinds are public by design).
RECORDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "Trip": ("t1", "trip:t1", {"id": "t1", "userId": OWNER, "title": "T"}),
    "ItineraryItem": ("i1", "item:i1", {"id": "i1", "tripId": "t1", "title": "I"}),
    "Budget": ("t1", "budget:t1", {"tripId": "t1", "total": 10}),
    "Conversation": ("c1", "conversation:c1", {"id": "c1", "userId": OWNER}),
    "Message": ("m1", "message:m1", {"id": "m1", "conversationId": "c1", "content": "hi"}),
    "AIContext": ("c1", "context:c1", {"session": {"x": 1}}),
    "Suggestion": ("s1", "suggestion:s1", {"id": "s1", "userId": OWNER, "content": "go"}),
    "User": (OWNER, f"profile:{OWNER}", {"id": OWNER, "email": "o@example.com"}),
    "Collaborator": ("t1:u9", "collaborator:t1:u9", {"tripId": "t1", "userId": "u9"}),
    "Collection": ("col1", "collection:col1", {"id": "col1", "userId": OWNER, "name": "C"}),
    "Conflict": ("x1", "conflict:x1", {"id": "x1", "tripId": "t1", "type": "overlap"}),
    "BookingWorkflow": ("w1", "workflow:w1", {"id": "w1", "userId": OWNER}),
    "AutomationRule": ("r1", "automation:r1", {"id": "r1", "userId": OWNER, "name": "R"}),
    "Job": ("j1", "job:j1", {"id": "j1", "type": "sync", "status": "pending"}),
    "AutomationLog": ("j1", "log:j1", {"jobId": "j1", "entries": [{"message": "m"}]}),
    "WebSource": ("h1", "websource:h1", {"hash": "h1", "url": "https://example.com/"}),
    "AIRun": ("r1", "ai_run:r1", {"id": "r1", "userId": OWNER, "agentName": "scout"}),
    "ApiKey": (OWNER, f"apikey:{OWNER}", {"userId": OWNER, "hint": "1234", "ciphertext": "v1.x"}),
}
# Kinds only the service role reads: their "owner" is a service-role token.
SERVICE_ONLY = {"Job", "AutomationLog", "WebSource"}
PUBLIC = {kind.type_name for kind in CATALOG}  # the catalog kinds


def test_every_entity_kind_has_a_read_rule() -> None:
    assert set(e.SPECS) <= set(access.RULES), set(e.SPECS) - set(access.RULES)


def test_every_entity_kind_has_a_write_rule() -> None:
    assert set(e.SPECS) <= set(access.WRITES), set(e.SPECS) - set(access.WRITES)


SERVICE = {"role": SERVICE_ROLE}
USER = {"viewer_id": OWNER, "role": "authenticated"}
SERVICE_FOR_USER = {"viewer_id": OWNER, "role": SERVICE_ROLE}


@pytest.mark.parametrize(
    ("spec", "action", "caller", "refused"),
    [
        (e.TRIP, "create", USER, None),
        (e.TRIP, "change", USER, None),
        (e.TRIP, "create", {}, UNAUTHENTICATED),
        (e.TRIP, "create", SERVICE, UNAUTHENTICATED),  # a user kind: written by a signed-in user
        (e.AI_RUN, "create", SERVICE, None),
        (e.AI_RUN, "create", SERVICE_FOR_USER, None),
        (e.AI_RUN, "create", USER, FORBIDDEN),
        (e.AI_RUN, "change", USER, FORBIDDEN),
        (e.AI_RUN, "create", {}, FORBIDDEN),
        (e.JOB, "create", USER, FORBIDDEN),
        (e.SUGGESTION, "create", USER, FORBIDDEN),  # agents propose suggestions
        (e.SUGGESTION, "change", USER, None),  # their user accepts or dismisses them
        (e.SUGGESTION, "change", SERVICE, UNAUTHENTICATED),
        (e.LOCATIONS["rental"], "create", SERVICE, FORBIDDEN),  # the catalog: nobody
        (e.LOCATIONS["rental"], "create", USER, FORBIDDEN),
    ],
)
def test_writes_follow_the_write_rules(
    store: Store, spec: e.EntitySpec, action: Any, caller: dict[str, str], refused: str | None
) -> None:
    context = Context(store=store, **caller)
    if refused is None:
        access.may_write(context, spec, action)
        return
    with pytest.raises(ClientError) as caught:
        access.may_write(context, spec, action)
    assert caught.value.code == refused


def test_a_kind_without_a_write_rule_is_written_by_nobody(store: Store) -> None:
    stray = e.EntitySpec(e.k.KeyPattern("stray", "stray:{id}", e.k.Role.ENTITY), m.Trip)
    for caller in (USER, SERVICE):
        with pytest.raises(ClientError, match="nobody"):
            access.may_write(Context(store=store, **caller), stray)


async def test_a_kind_without_a_rule_is_read_by_nobody(store: Store) -> None:
    """`readable` fails closed: an unknown kind reads as not found, it is no KeyError."""
    stray = e.EntitySpec(e.k.KeyPattern("stray", "stray:{id}", e.k.Role.ENTITY), m.Trip)
    record = m.Trip.model_validate({"id": "x", "userId": OWNER, "title": "T"})
    context = Context(store=store, viewer_id=OWNER)
    assert await access.readable(context, stray, ["x"], [record]) == [None]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("fast", [True, False])
async def test_a_stranger_finds_no_private_node(store: Store, fast: bool) -> None:
    build_schema()  # registers every node kind
    assert set(RECORDS) | PUBLIC == set(nodes._BY_NAME), "give each new node kind a record here"
    await store.set_many({key: value for _, key, value in RECORDS.values()})
    gw = Gateway(build_schema(fast=fast), store)
    query = "query($n: ID!) { node(nodeId: $n) { nodeId } }"
    for type_name, (id_, _, _) in RECORDS.items():
        variables = {"n": node_id(type_name, id_)}
        role = SERVICE_ROLE if type_name in SERVICE_ONLY else None
        mine = await gw.ok(query, variables, viewer=OWNER, role=role)
        assert mine["node"] is not None, type_name
        others = (STRANGER, None, OWNER) if role else (STRANGER, None)
        for viewer in others:
            found = await gw.ok(query, variables, viewer=viewer, role="authenticated")
            assert found == {"node": None}, (type_name, viewer)


def test_secret_fields_are_left_out_of_types_and_inputs() -> None:
    assert m.secret_fields(m.ApiKey) == {"ciphertext"}

    @strawberry.type
    @from_model(m.ApiKey)
    class Key:
        pass

    names = {f.name for f in Key.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    assert "hint" in names and "ciphertext" not in names
    created = create_input(m.ApiKey, "CreateKeyInput").__strawberry_definition__
    updated = update_input(m.ApiKey, "UpdateKeyInput").__strawberry_definition__
    assert "ciphertext" not in {f.name for f in created.fields + updated.fields}
    assert "ciphertext" not in sdl()


def test_a_type_declaring_a_secret_field_is_refused() -> None:
    with pytest.raises(TypeError, match="ciphertext is secret"):

        @strawberry.type
        @from_model(m.ApiKey)
        class Key:
            ciphertext: str | None


async def test_data_never_carries_a_secret(store: Store) -> None:
    record = m.ApiKey.model_validate({"userId": OWNER, "hint": "…1234", "ciphertext": "c2VjcmV0"})
    (data,) = await _record_data(Context(store=store), [record])
    assert data == {"userId": OWNER, "hint": "…1234"}


def test_from_model_above_strawberry_type_is_refused() -> None:
    with pytest.raises(TypeError, match=r"must come below @strawberry\.type"):

        @from_model(m.Trip)
        @strawberry.type
        class Wrong:
            pass
