"""Booking workflows: create, read, list, move along allowed transitions with history,
cancel, delete; an invalid transition changes nothing; steps an app wrote; who may do what."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv.check import Kind, repair, scan
from gql.kv.mapping import parse_mapping
from gql.kv.shapes import scan_shapes
from resolvers.workflows import TRANSITIONS
from tests.support import BACKENDS, Gateway, done, mutation, payload, refused

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

OWNER, VIEWER, STRANGER = "owner-1", "viewer-1", "stranger-1"
WF = (
    "id title currentStep currentStepRaw status allowedSteps data createdAt updatedAt "
    "trip { id } history { step stepRaw previous at by note }"
)
CREATE = mutation("createBookingWorkflow", f"workflow {{ {WF} }}")
ADVANCE = mutation("advanceBookingWorkflow", f"workflow {{ {WF} }}")
CANCEL = mutation("cancelBookingWorkflow", f"workflow {{ {WF} }}")
DELETE = mutation("deleteBookingWorkflow", "workflow { id }")
ONE = f"query($id: ID!) {{ bookingWorkflow(id: $id) {{ {WF} }} }}"
MINE = "{ viewer { workflows(first: 100) { totalCount nodes { id currentStep } } } }"

TRIP = {
    f"trips:index:{OWNER}": ["t1"],
    "trip:t1": {"id": "t1", "userId": OWNER, "title": "Lisbon"},
    f"collaborator:t1:{VIEWER}": {"tripId": "t1", "userId": VIEWER, "role": "viewer"},
    "trip:t-other": {"id": "t-other", "userId": STRANGER, "title": "Elsewhere"},
}


async def create(gw: Gateway, viewer: str = OWNER, **input_: Any) -> dict[str, Any]:
    return await done(gw, CREATE, {"title": "Flight to Lisbon", **input_}, viewer)  # type: ignore[no-any-return]


async def advance(gw: Gateway, id_: str, to: str, **more: Any) -> dict[str, Any]:
    return await done(gw, ADVANCE, {"id": id_, "to": to, **more}, OWNER)  # type: ignore[no-any-return]


async def test_create_read_list_and_delete(gw: Gateway, store: Store) -> None:
    await store.set_many(TRIP)
    wf = await create(gw, tripId="t1", data={"from": "BER", "to": "LIS"})
    assert (wf["currentStep"], wf["currentStepRaw"], wf["status"]) == ("DRAFT", "draft", "ACTIVE")
    assert wf["allowedSteps"] == ["SEARCHING", "CANCELLED"]
    assert wf["trip"] == {"id": "t1"} and wf["data"] == {"from": "BER", "to": "LIS"}
    (first,) = wf["history"]
    assert (first["step"], first["previous"], first["by"]) == ("DRAFT", None, OWNER)
    assert first["at"] == wf["createdAt"][:19] + first["at"][19:]
    assert (await gw.ok(ONE, {"id": wf["id"]}, viewer=OWNER))["bookingWorkflow"] == wf
    stored = await store.get(f"workflow:{wf['id']}")
    assert stored["userId"] == OWNER and stored["currentStep"] == "draft"
    assert await store.get(f"workflows:index:{OWNER}") == [wf["id"]]
    second = await create(gw)
    data = await gw.ok(MINE, viewer=OWNER)
    assert [n["id"] for n in data["viewer"]["workflows"]["nodes"]] == [wf["id"], second["id"]]
    # A create repeated with the same id changes nothing.
    again = await done(gw, CREATE, {"id": wf["id"], "title": "Other"}, OWNER)
    assert again["title"] == "Flight to Lisbon"
    assert await store.get(f"workflows:index:{OWNER}") == [wf["id"], second["id"]]
    gone = payload(await gw.ok(DELETE, {"input": {"id": wf["id"]}}, viewer=OWNER))
    assert gone == {"workflow": {"id": wf["id"]}, "userErrors": []}
    assert await store.get(f"workflow:{wf['id']}") is None
    assert await store.get(f"workflows:index:{OWNER}") == [second["id"]]


async def test_moves_along_allowed_transitions_with_history(gw: Gateway, store: Store) -> None:
    # Every step but `cancelled` may be cancelled.
    assert {s for s, nexts in TRANSITIONS.items() if "cancelled" not in nexts} == {"cancelled"}
    wf = await create(gw)
    path = ["SEARCHING", "SELECTED", "BOOKING", "FAILED", "BOOKING", "CONFIRMED"]
    for step in path:
        moved = await advance(gw, wf["id"], step, note=f"to {step.lower()}")
        assert moved["currentStep"] == step
    assert moved["status"] == "COMPLETED" and moved["allowedSteps"] == ["CANCELLED"]
    history = moved["history"]
    assert [(h["previous"], h["step"]) for h in history] == list(
        zip([None, "DRAFT", *path[:-1]], ["DRAFT", *path], strict=True)
    )
    assert [h["note"] for h in history[1:]] == [f"to {s.lower()}" for s in path]
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    assert {h["by"] for h in history} == {OWNER}
    cancelled = await done(gw, CANCEL, {"id": wf["id"], "note": "changed plans"}, OWNER)
    assert (cancelled["currentStep"], cancelled["status"]) == ("CANCELLED", "CANCELLED")
    assert cancelled["allowedSteps"] == [] and cancelled["history"][-1]["note"] == "changed plans"


async def test_data_is_replaced_when_given(gw: Gateway, store: Store) -> None:
    wf = await create(gw, data={"query": "LIS"})
    moved = await advance(gw, wf["id"], "SEARCHING")
    assert moved["data"] == {"query": "LIS"}
    moved = await advance(gw, wf["id"], "SELECTED", data={"offer": "TP 1351"})
    assert moved["data"] == {"offer": "TP 1351"}


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ([], "CONFIRMED"),
        ([], "DRAFT"),  # staying put is no move
        (["SEARCHING"], "BOOKING"),
        (["SEARCHING", "SELECTED", "BOOKING", "CONFIRMED"], "BOOKING"),
        (["CANCELLED"], "DRAFT"),
        (["CANCELLED"], "CANCELLED"),
    ],
)
async def test_an_invalid_transition_changes_nothing(
    gw: Gateway, store: Store, path: list[str], to: str
) -> None:
    wf = await create(gw)
    for step in path:
        await advance(gw, wf["id"], step)
    errors = await refused(gw, store, ADVANCE, {"id": wf["id"], "to": to}, OWNER)
    (error,) = errors
    assert (error["field"], error["code"]) == ("to", "INVALID_TRANSITION")
    assert f"cannot move to '{to.lower()}'" in error["message"]
    if path[-1:] == ["CANCELLED"]:
        assert error["message"].endswith("(allowed: none: it is final)")
        assert (await refused(gw, store, CANCEL, {"id": wf["id"]}, OWNER))[0]["code"] == (
            "INVALID_TRANSITION"
        )


async def test_concurrent_moves_start_from_the_current_step(gw: Gateway, store: Store) -> None:
    wf = await create(gw)
    runs = await asyncio.gather(
        *(
            gw.ok(ADVANCE, {"input": {"id": wf["id"], "to": "SEARCHING"}}, viewer=OWNER)
            for _ in range(6)
        )
    )
    outcomes = [payload(r) for r in runs]
    assert sum(1 for o in outcomes if o["workflow"]) == 1
    assert (
        sorted(o["userErrors"][0]["code"] for o in outcomes if not o["workflow"])
        == ["INVALID_TRANSITION"] * 5
    )
    stored = await store.get(f"workflow:{wf['id']}")
    assert [h["step"] for h in stored["history"]] == ["draft", "searching"]


async def test_concurrent_creates_keep_every_index_entry(gw: Gateway, store: Store) -> None:
    made = await asyncio.gather(*(create(gw, title=f"W{n}") for n in range(8)))
    listed = await store.get(f"workflows:index:{OWNER}")
    assert sorted(listed) == sorted(w["id"] for w in made)
    data = await gw.ok(MINE, viewer=OWNER)
    assert data["viewer"]["workflows"]["totalCount"] == 8


async def test_who_may_read_and_write(gw: Gateway, store: Store) -> None:
    await store.set_many(TRIP)
    wf = await create(gw, tripId="t1")
    # A stranger and a collaborator on the workflow's trip find nothing, and change nothing.
    for viewer in (STRANGER, VIEWER):
        assert await gw.ok(ONE, {"id": wf["id"]}, viewer=viewer) == {"bookingWorkflow": None}
        assert (await gw.ok(MINE, viewer=viewer))["viewer"]["workflows"]["totalCount"] == 0
        for doc, input_ in (
            (ADVANCE, {"id": wf["id"], "to": "SEARCHING"}),
            (CANCEL, {"id": wf["id"]}),
            (DELETE, {"id": wf["id"]}),
        ):
            errors = await refused(gw, store, doc, input_, viewer)
            assert [(e["field"], e["code"]) for e in errors] == [("id", "NOT_FOUND")]
    node_id = await gw.ok("{ viewer { workflows { nodes { nodeId } } } }", viewer=OWNER)
    n = node_id["viewer"]["workflows"]["nodes"][0]["nodeId"]
    by_node = "query($n: ID!) { node(nodeId: $n) { ... on BookingWorkflow { id } } }"
    assert (await gw.ok(by_node, {"n": n}, viewer=OWNER))["node"] == {"id": wf["id"]}
    assert (await gw.ok(by_node, {"n": n}, viewer=STRANGER))["node"] is None
    # A workflow for a trip the viewer cannot read is refused; one shared with them is fine.
    errors = await refused(gw, store, CREATE, {"tripId": "t-other"}, OWNER)
    assert [(e["field"], e["code"]) for e in errors] == [("tripId", "NOT_FOUND")]
    assert (await create(gw, VIEWER, tripId="t1"))["trip"] == {"id": "t1"}
    anonymous = await gw.run(CREATE, {"input": {"title": "x"}})
    assert anonymous.errors[0].extensions["code"] == "UNAUTHENTICATED"  # type: ignore[attr-defined]


async def test_bad_input_is_refused(gw: Gateway, store: Store) -> None:
    wf = await create(gw)
    errors = await refused(gw, store, CREATE, {"title": "x" * 201}, OWNER)
    assert [(e["field"], e["code"]) for e in errors] == [("title", "BAD_USER_INPUT")]
    errors = await refused(
        gw, store, ADVANCE, {"id": wf["id"], "to": "SEARCHING", "note": "n" * 5001}, OWNER
    )
    assert [(e["field"], e["code"]) for e in errors] == [("note", "BAD_USER_INPUT")]
    other = await gw.run(ADVANCE, {"input": {"id": wf["id"], "to": "OTHER"}}, viewer=OWNER)
    assert other.errors[0].extensions["code"] == "BAD_USER_INPUT"  # type: ignore[attr-defined]
    errors = await refused(gw, store, ADVANCE, {"id": "no:such", "to": "SEARCHING"}, OWNER)
    assert [e["code"] for e in errors] == ["NOT_FOUND"]


APP_WORKFLOW = {
    f"workflows:index:{OWNER}": ["w-app"],
    "workflow:w-app": {
        "id": "w-app",
        "userId": OWNER,
        "stage": "awaiting_payment",
        "status": "pending",
        "history": [{"step": "draft"}, "not a move", {"step": "quoting", "previous": "draft"}],
        "provider": "acme",
    },
}


async def test_a_step_kvgraph_does_not_know_is_kept(gw: Gateway, store: Store) -> None:
    await store.set_many(APP_WORKFLOW)
    result = await gw.run(ONE, {"id": "w-app"}, viewer=OWNER)
    wf = result.data["bookingWorkflow"]  # type: ignore[attr-defined]
    assert (wf["currentStep"], wf["currentStepRaw"], wf["status"]) == (
        "OTHER",
        "awaiting_payment",
        "OTHER",
    )
    assert wf["allowedSteps"] == ["CANCELLED"]
    assert [(h["step"], h["stepRaw"]) for h in wf["history"]] == [
        ("DRAFT", "draft"),
        ("OTHER", "quoting"),
    ]
    (error,) = result.errors  # type: ignore[attr-defined]
    assert "workflow:w-app.history[1]" in str(error.extensions)
    short = mutation("advanceBookingWorkflow", "workflow { id }")
    errors = await refused(gw, store, short, {"id": "w-app", "to": "BOOKING"}, OWNER)
    assert errors[0]["code"] == "INVALID_TRANSITION"
    result = await gw.run(CANCEL, {"input": {"id": "w-app"}}, viewer=OWNER)
    cancelled = payload(result.data)["workflow"]  # type: ignore[attr-defined]
    assert [e.extensions["key"] for e in result.errors] == ["workflow:w-app.history[1]"]  # type: ignore[attr-defined]
    assert cancelled["history"][-1]["previous"] == "OTHER"
    stored = await store.get("workflow:w-app")
    assert stored["stage"] == "cancelled" and "currentStep" not in stored  # the app's name
    assert stored["provider"] == "acme" and stored["history"][1] == "not a move"
    assert stored["history"][-1]["previous"] == "awaiting_payment"


async def test_a_mapping_names_the_apps_steps(gw: Gateway, store: Store) -> None:
    await store.set_many(APP_WORKFLOW)
    mapping = parse_mapping(
        '[workflow.fields]\nstage = "currentStep"\n'
        '[workflow.values.currentStep]\nawaiting_payment = "booking"\nquoting = "searching"\n'
        '[workflow.values.status]\npending = "active"\n'
    )
    mapped = Gateway(gw.schema, store, mapping)
    wf = (await mapped.ok(MINE, viewer=OWNER))["viewer"]["workflows"]["nodes"][0]
    assert wf == {"id": "w-app", "currentStep": "BOOKING"}
    short = mutation("advanceBookingWorkflow", "workflow { currentStep status }")
    moved = await done(mapped, short, {"id": "w-app", "to": "CONFIRMED"}, OWNER)
    assert (moved["currentStep"], moved["status"]) == ("CONFIRMED", "COMPLETED")
    stored = await store.get("workflow:w-app")
    assert (stored["stage"], stored["status"]) == ("confirmed", "completed")


async def test_check_and_repair_workflows(store: Store) -> None:
    await store.set_many(
        {
            f"workflows:index:{OWNER}": ["w1", "gone", "w1"],
            "workflow:w1": {"id": "w1", "userId": OWNER},
            "workflow:w2": {"id": "w2", "userId": OWNER},  # unlisted
            "workflow:w3": {"id": "w3"},  # invalid: no user
        }
    )
    report = await scan(store)
    found = {(p.kind, p.key, p.id) for p in report.problems}
    key = f"workflows:index:{OWNER}"
    assert {(Kind.DANGLING, key, "gone"), (Kind.DUPLICATE, key, "w1")} <= found
    assert (Kind.UNLISTED, key, "w2") in found
    assert any(kind is Kind.INVALID and k == "workflow:w3" for kind, k, _ in found)
    await repair(store, report, apply=True)
    assert await store.get(key) == ["w1", "w2"]


async def test_check_shapes_proposes_the_apps_names_and_steps(store: Store) -> None:
    await store.set_many(
        APP_WORKFLOW
        | {
            "workflow:w-2": {"id": "w-2", "userId": OWNER, "stage": "Canceled"},
            "conflict:c-1": {"id": "c-1", "tripId": "t1", "type": "double_booking"}
            | {"status": "fixed", "conflictingItems": ["a", "b"]},
        }
    )
    proposal = (await scan_shapes(store)).proposal()
    names = {e: {a: x.means for a, x in t.items()} for e, t in proposal.names.items()}
    assert names["workflow"] == {"stage": "currentStep"}
    assert names["conflict"] == {"conflictingItems": "itemIds"}
    values = {
        (e, f): {a: (x.means, x.write) for a, x in t.items()}
        for e, fs in proposal.values.items()
        for f, t in fs.items()
    }
    assert values[("workflow", "currentStep")] == {
        "awaiting_payment": ("booking", False),  # read only: narrower than booking
        "Canceled": ("cancelled", True),  # the same, spelled otherwise: written too
    }
    assert values[("workflow", "status")] == {"pending": ("active", False)}
    assert values[("conflict", "status")] == {"fixed": ("resolved", False)}
    # The proposed file, once loaded, reads every record as kvgraph's values.
    mapping = parse_mapping(proposal.toml())
    again = (await scan_shapes(store, mapping)).proposal()
    assert "workflow" not in again.values and "conflict" not in again.names
