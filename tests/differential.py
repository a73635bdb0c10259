"""The differential fuzz's world and runner: one table of awkward records, both executors.

The world holds what apps really write beside kvgraph's own records: values that are not
JSON, enum values kvgraph does not know, duplicate, dangling, foreign and numeric index
entries, records whose `id` disagrees with their key (a copied trip, a copied conversation),
fields that cannot be read, and collaborators with known and unknown roles. Private fields
carry canary strings; `leaks` says which of them a viewer was shown that it may not see, and
which invalid-record reports name a key the viewer may not know of.

Run as a module (`python -m tests.differential URL TABLE DOCUMENTS.json`), it answers each
document as each viewer with both executors and prints the responses as JSON: the hash-seed
test compares what processes with different `PYTHONHASHSEED`s print.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gql.kv import Store, open_store
from resolvers.context import Context
from resolvers.ids import cursor, node_id
from tests.support import executors, write_raw

OWNER, COLLABORATOR, STRANGER = "own-1", "col-2", "str-3"
VIEWERS: tuple[str | None, ...] = (OWNER, COLLABORATOR, STRANGER, None)
# A canary per audience: each private field holds the canary of who may read it.
OWNER_ONLY, SHARED, STRANGERS = "CANARY-own", "CANARY-shared", "CANARY-str"
MAY_SEE: dict[str | None, frozenset[str]] = {
    OWNER: frozenset({OWNER_ONLY, SHARED}),
    COLLABORATOR: frozenset({SHARED}),
    STRANGER: frozenset({STRANGERS}),
    None: frozenset(),
}
SERVICE_ONLY = "CANARY-svc"  # jobs, logs, cached pages: the service role's, no viewer's here
CANARIES = (OWNER_ONLY, SHARED, STRANGERS, SERVICE_ONLY)
ALL = frozenset(VIEWERS)
SHARING = frozenset({OWNER, COLLABORATOR})
T0 = "2026-05-01T09:00:00.000Z"

# key -> (stored value, who may know the key exists). A value that is a `Raw` is stored as
# that text, not as JSON (only in stores whose value column holds any text).


class Raw(str):
    """Stored text that is not JSON."""


def _item(id_: str, trip: str, notes: str, **more: Any) -> dict[str, Any]:
    return {"id": id_, "tripId": trip, "title": f"Item {id_}", "notes": notes, **more}


WORLD: dict[str, tuple[Any, frozenset[str | None]]] = {
    # People. Emails are shown to their owner only.
    f"profile:{OWNER}": ({"id": OWNER, "displayName": "Owen", "email": f"{OWNER_ONLY}@x.io"}, ALL),
    f"profile:{COLLABORATOR}": ({"id": COLLABORATOR, "displayName": "Cora"}, ALL),
    f"profile:{STRANGER}": ({"id": STRANGER, "email": f"{STRANGERS}@x.io"}, ALL),
    f"preferences:{OWNER}": ({"userId": OWNER, "homeCity": OWNER_ONLY}, {OWNER}),
    f"preferences:{STRANGER}": (Raw("{prefs"), {STRANGER}),
    # The owner's trips: one shared (editor), one shared with an unknown role, one private.
    f"trips:index:{OWNER}": (["trip-own", "trip-own", "ghost", 7, "trip-b", "trip-str"], {OWNER}),
    "trip:trip-own": (
        {"id": "trip-own", "userId": OWNER, "title": "Lisbon", "destination": SHARED},
        SHARING,
    ),
    "trip:trip-b": (
        {"id": "trip-b", "userId": OWNER, "title": "Porto", "startDate": "someday"},
        SHARING,
    ),
    "trip:trip-solo": ({"id": "trip-solo", "userId": OWNER, "title": OWNER_ONLY}, {OWNER}),
    f"collaborator:trip-own:{COLLABORATOR}": (
        {"tripId": "trip-own", "userId": COLLABORATOR, "role": "editor"},
        SHARING,
    ),
    f"collaborator:trip-b:{COLLABORATOR}": (
        {"tripId": "trip-b", "userId": COLLABORATOR, "role": "admin"},
        SHARING,
    ),
    f"collaborator:trip-solo:{STRANGER}": (Raw("{collab"), {OWNER}),
    "items:index:trip-own": (
        ["i1", "i1", "i2", "bad-json", "ghost-item", "i-str", 3, "i-kind", "i-mis"],
        SHARING,
    ),
    "item:i1": (_item("i1", "trip-own", SHARED, startTime=T0, cost=12.5), SHARING),
    "item:i2": (_item("i2", "trip-own", SHARED, startTime="2026-05-01T20:00"), SHARING),
    "item:bad-json": (Raw("{not json"), SHARING),
    "item:i-kind": (
        _item("i-kind", "trip-own", SHARED, kind="teleport", locationType="restaurant")
        | {"locationId": "r1", "startTime": "half past nine"},
        SHARING,
    ),
    "item:i-mis": (_item("i1", "trip-own", SHARED), SHARING),  # its id disagrees with its key
    "items:index:trip-b": ({"not": "a list"}, SHARING),
    "items:index:trip-solo": (["s1"], {OWNER}),
    "item:s1": (_item("s1", "trip-solo", OWNER_ONLY, cost="lots"), {OWNER}),
    "budget:trip-own": ({"tripId": "trip-own", "total": 100, "currency": "EUR"}, SHARING),
    "budget:trip-solo": ({"tripId": "trip-solo", "total": "plenty"}, {OWNER}),
    # The collaborator's own trip.
    f"trips:index:{COLLABORATOR}": (["trip-own", "trip-b", "col-trip"], {COLLABORATOR}),
    "trip:col-trip": (
        {"id": "col-trip", "userId": COLLABORATOR, "title": "Cora's"},
        {COLLABORATOR},
    ),
    # The stranger: a copy of the owner's trip under its own key, its own trip, and the
    # owner's trip id planted in its index.
    f"trips:index:{STRANGER}": (["copy", "trip-str", "trip-own"], {STRANGER}),
    "trip:copy": ({"id": "trip-own", "userId": STRANGER, "title": "Lisbon (copy)"}, {STRANGER}),
    "items:index:copy": (["i1", "i-str"], {STRANGER}),
    "budget:copy": ({"tripId": "trip-own", "total": 5}, {STRANGER}),
    "trip:trip-str": (
        {"id": "trip-str", "userId": STRANGER, "title": "Mine", "destination": STRANGERS},
        {STRANGER},
    ),
    "items:index:trip-str": (["i-str"], {STRANGER}),
    "item:i-str": (_item("i-str", "trip-str", STRANGERS), {STRANGER}),
    # Conversations.
    f"conversation:index:{OWNER}": (["conv-own", "conv-str", "conv-bad"], {OWNER}),
    "conversation:conv-own": ({"id": "conv-own", "userId": OWNER, "title": OWNER_ONLY}, {OWNER}),
    "conversation:conv-bad": (Raw("[1, 2"), {OWNER}),
    "messages:index:conv-own": (["m1", "m2", "m-str", "m1"], {OWNER}),
    "message:m1": (
        {"id": "m1", "conversationId": "conv-own", "content": OWNER_ONLY, "timestamp": T0},
        {OWNER},
    ),
    "message:m2": (
        {"id": "m2", "conversationId": "conv-own", "role": "system2", "content": OWNER_ONLY},
        {OWNER},
    ),
    "context:conv-own": ({"conversationId": "conv-own", "session": OWNER_ONLY}, {OWNER}),
    f"conversation:index:{STRANGER}": (["conv-str", "conv-copy"], {STRANGER}),
    "conversation:conv-str": (
        {"id": "conv-str", "userId": STRANGER, "title": STRANGERS},
        {STRANGER},
    ),
    "conversation:conv-copy": ({"id": "conv-own", "userId": STRANGER}, {STRANGER}),
    "messages:index:conv-copy": (["m1"], {STRANGER}),
    "messages:index:conv-str": (["m-str"], {STRANGER}),
    "message:m-str": (
        {"id": "m-str", "conversationId": "conv-str", "content": STRANGERS},
        {STRANGER},
    ),
    # Context histories: a bad snapshot, numbers with a gap, the copy's own history.
    "context:history:conv-own": (
        [{"seq": 0, "session": OWNER_ONLY}, "oops", {"seq": 3, "entities": OWNER_ONLY}],
        {OWNER},
    ),
    "context:history:conv-copy": ([{"session": STRANGERS}], {STRANGER}),
    # Agent runs: an unknown status, an invalid run, a foreign entry each way; API keys.
    f"ai_runs:index:{OWNER}": (["run-own", "run-str", "run-bad", "run-own"], {OWNER}),
    "ai_run:run-own": (
        {"id": "run-own", "userId": OWNER, "agentName": OWNER_ONLY, "status": "succeeded"}
        | {"inputTokens": 3, "createdAt": T0},
        {OWNER},
    ),
    "ai_run:run-bad": ({"id": "run-bad", "inputTokens": "many"}, {OWNER}),
    f"ai_runs:index:{STRANGER}": (["run-str", "run-own"], {STRANGER}),
    "ai_run:run-str": (
        {"id": "run-str", "userId": STRANGER, "agentName": STRANGERS, "createdAt": "2026-05-01"},
        {STRANGER},
    ),
    f"apikey:{OWNER}": (
        {"userId": OWNER, "provider": OWNER_ONLY, "hint": "7a1b", "ciphertext": "v1.0.x"},
        {OWNER},
    ),
    f"apikey:{STRANGER}": ({"userId": STRANGER, "provider": STRANGERS}, {STRANGER}),
    # Suggestions, with a status kvgraph does not know and a foreign entry.
    f"suggestions:index:{OWNER}": (["sg1", "sg2", "sg-str", "sg-bad"], {OWNER}),
    f"suggestions:active:{OWNER}": (["sg1", "sg2", "sg-str"], {OWNER}),
    "suggestion:sg1": (
        {"id": "sg1", "userId": OWNER, "tripId": "trip-own", "content": OWNER_ONLY},
        {OWNER},
    ),
    "suggestion:sg2": (
        {"id": "sg2", "userId": OWNER, "content": OWNER_ONLY, "status": "snoozed"},
        {OWNER},
    ),
    "suggestion:sg-bad": ({"id": "sg-bad", "userId": OWNER}, {OWNER}),
    f"suggestions:index:{STRANGER}": (["sg-str"], {STRANGER}),
    "suggestion:sg-str": ({"id": "sg-str", "userId": STRANGER, "content": STRANGERS}, {STRANGER}),
    # Conflicts of the shared trip (a type and status kvgraph does not know, an invalid one, a
    # stranger's planted in its list), of the owner's private trip, of the stranger's trip.
    "conflicts:index:trip-own": (["cf1", "cf2", "cf-bad", "cf-str", "ghost", "cf1"], SHARING),
    "conflict:cf1": (
        {"id": "cf1", "tripId": "trip-own", "type": "overlap", "itemIds": ["i1", "i2", "s1"]}
        | {"description": SHARED, "detectedAt": T0},
        SHARING,
    ),
    "conflict:cf2": (
        {"id": "cf2", "tripId": "trip-own", "type": "double", "status": "snoozed", "itemIds": [7]},
        SHARING,
    ),
    "conflict:cf-bad": ({"id": "cf-bad", "type": "overlap"}, SHARING),
    "conflicts:index:trip-solo": (["cf-solo"], {OWNER}),
    "conflict:cf-solo": (
        {"id": "cf-solo", "tripId": "trip-solo", "description": OWNER_ONLY, "status": "resolved"},
        {OWNER},
    ),
    "conflicts:index:trip-str": (["cf-str"], {STRANGER}),
    "conflict:cf-str": (
        {"id": "cf-str", "tripId": "trip-str", "description": STRANGERS},
        {STRANGER},
    ),
    # Booking workflows: the owner's (one at a step kvgraph does not know, with a history entry
    # that is not a move), a stranger's planted in the owner's list.
    f"workflows:index:{OWNER}": (["wf1", "wf-app", "wf-str", "ghost"], {OWNER}),
    "workflow:wf1": (
        {"id": "wf1", "userId": OWNER, "title": OWNER_ONLY, "tripId": "trip-own"}
        | {"currentStep": "booking", "history": [{"step": "draft", "at": T0}, {"step": "booking"}]},
        {OWNER},
    ),
    "workflow:wf-app": (
        {"id": "wf-app", "userId": OWNER, "stage": "awaiting", "history": [{"step": "x"}, "junk"]}
        | {"data": {"note": OWNER_ONLY}},
        {OWNER},
    ),
    f"workflows:index:{STRANGER}": (["wf-str"], {STRANGER}),
    "workflow:wf-str": (
        {"id": "wf-str", "userId": STRANGER, "title": STRANGERS, "tripId": "trip-own"},
        {STRANGER},
    ),
    # The public catalog, with a duplicate, a numeric entry and a value that is not JSON.
    "restaurants:index": (["r1", "r1", "r-bad", 5], ALL),
    "restaurant:r1": ({"id": "r1", "name": "Taberna", "city": "Lisbon", "priceLevel": 9}, ALL),
    "restaurant:r-bad": (Raw("not json"), ALL),
    "events:index": (["e1", "ghost-event"], ALL),
    "event:e1": (
        {"id": "e1", "name": "Fado", "city": "Lisbon", "startsAt": "2026-05-01T21:00"},
        ALL,
    ),
    "rentals:index": (["rent1"], ALL),
    "rental:rent1": ({"id": "rent1", "name": "Loft", "city": "Porto", "bedrooms": 2.0}, ALL),
    f"saved:{OWNER}": (["r1", "e1", "ghost", "rent1"], {OWNER}),
    # Saved places by key (the seed's other pattern), and collections of places.
    f"saved:{OWNER}:rent1": ({"locationType": "rental", "note": OWNER_ONLY}, {OWNER}),
    f"saved:{OWNER}:r-ext": ({}, {OWNER}),
    f"saved:{OWNER}:x-bad": ({"userId": STRANGER}, {OWNER}),
    f"saved:{COLLABORATOR}:e1": ({"kind": "event"}, {COLLABORATOR}),
    f"collections:index:{OWNER}": (["col-own", "col-str", "col-bad", "ghost"], {OWNER}),
    "collection:col-own": (
        {
            "id": "col-own",
            "userId": OWNER,
            "name": "Mine",
            "description": OWNER_ONLY,
            "placeIds": ["e1", "ghost", "restaurant:r1", "r1"],
        },
        {OWNER},
    ),
    "collection:col-str": (
        {"id": "col-str", "userId": STRANGER, "name": "Theirs", "description": STRANGERS},
        {STRANGER},
    ),
    "collection:col-bad": ({"id": "col-bad", "userId": OWNER, "placeIds": "e1"}, {OWNER}),
    # Automation rules (kvgraph's own index), with a value that cannot be read; jobs, a job's
    # log and a cached page, which only the service role reads.
    f"automations:index:{OWNER}": (["rule-own", "rule-str", "ghost", "rule-copy"], {OWNER}),
    "automation:rule-own": (
        {"id": "rule-own", "userId": OWNER, "name": OWNER_ONLY, "enabled": "maybe"},
        {OWNER},
    ),
    f"automations:index:{STRANGER}": (["rule-str", "rule-copy"], {STRANGER}),
    "automation:rule-str": ({"id": "rule-str", "userId": STRANGER, "name": STRANGERS}, {STRANGER}),
    "automation:rule-copy": ({"id": "rule-own", "userId": STRANGER}, {STRANGER}),
    "jobs:index": (["job-1", "job-bad", "ghost"], frozenset()),
    "job:job-1": (
        {"id": "job-1", "type": "sync", "status": "queued", "payload": SERVICE_ONLY},
        frozenset(),
    ),
    "job:job-bad": (Raw("{job"), frozenset()),
    "log:job-1": ({"entries": [{"message": SERVICE_ONLY}, 3]}, frozenset()),
    "websource:abc": ({"url": "https://x.test/", "content": SERVICE_ONLY}, frozenset()),
}

IDS = sorted(
    {
        *(key.split(":")[-1] for key in WORLD),
        *("ghost", "ghost-item", "trip-solo", OWNER, COLLABORATOR, STRANGER),
    }
)
NODE_IDS = [
    node_id(type_, id_)
    for type_, id_ in [
        ("Trip", "trip-own"),
        ("Trip", "copy"),
        ("Trip", "trip-solo"),
        ("ItineraryItem", "i1"),
        ("ItineraryItem", "i-mis"),
        ("ItineraryItem", "s1"),
        ("Conversation", "conv-own"),
        ("Conversation", "conv-copy"),
        ("Message", "m1"),
        ("Suggestion", "sg1"),
        ("Budget", "trip-own"),
        ("AIContext", "conv-own"),
        ("Restaurant", "r1"),
        ("Event", "r1"),
        ("Rental", "rent1"),
        ("User", OWNER),
        ("Collection", "col-own"),
        ("Collection", "col-str"),
        ("Collaborator", f"trip-own:{COLLABORATOR}"),
        ("Collaborator", f"trip-solo:{STRANGER}"),
        ("Conflict", "cf1"),
        ("Conflict", "cf-str"),
        ("BookingWorkflow", "wf1"),
        ("BookingWorkflow", "wf-str"),
        ("AutomationRule", "rule-own"),
        ("AutomationRule", "rule-copy"),
        ("Job", "job-1"),
        ("AutomationLog", "job-1"),
        ("WebSource", "abc"),
        ("Nope", "x"),
    ]
]
CURSORS = [cursor(0, "i1"), cursor(1, "i2"), cursor(4, "ghost"), cursor(0, "trip-own")]
TEXTS = ["Lisbon", "Porto", "ta", "", "YzE6eDp5", "not a cursor", *CURSORS]


def readers(key: str) -> frozenset[str | None]:
    """Who may be told that `key` exists (as an invalid record's report names it; a part of a
    record, `workflow:w.history[1]`, or an element of a stored list, `context:history:c[1]`,
    by who may know the record)."""
    key = re.sub(r"(\.\w+)?\[\d+\]$", "", key)
    return WORLD[key][1] if key in WORLD else frozenset()


def leaks(viewer: str | None, response: dict[str, Any]) -> list[str]:
    """What `response` shows `viewer` that it may not see: canaries and report keys."""
    text = json.dumps(response)
    found = [c for c in CANARIES if c not in MAY_SEE[viewer] and c in text]
    for error in response.get("errors") or ():
        key = (error.get("extensions") or {}).get("key")
        if key is not None and viewer not in readers(key):
            found.append(f"a report names {key}")
    return found


async def fill(store: Store, url: str, table: str, *, text_values: bool) -> None:
    """Write the world: JSON values through the store, raw text behind its back."""
    await store.set_many({k: v for k, (v, _) in WORLD.items() if not isinstance(v, Raw)})
    raw = {k: str(v) for k, (v, _) in WORLD.items() if isinstance(v, Raw)}
    if text_values and raw:
        await write_raw((url, table), raw)


SCHEMAS = executors()


async def answer(
    store: Store, document: str, viewer: str | None, executor: str
) -> tuple[dict[str, Any], str]:
    """The whole response to `document` as `viewer`, and which executor answered it."""
    context = Context(store=store, viewer_id=viewer)
    result = await SCHEMAS[executor].execute(document, context_value=context)
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [error.formatted for error in result.errors]
    return response, context.executor


def each(documents: list[str]) -> Iterator[tuple[str, str | None]]:
    """Every (document, viewer) pair, in a fixed order."""
    for document in documents:
        for viewer in VIEWERS:
            yield document, viewer


async def _main(url: str, table: str, documents: list[str]) -> None:
    store = open_store(url, table)
    await store.open()
    try:
        for document, viewer in each(documents):
            for executor in SCHEMAS:
                response, _ = await answer(store, document, viewer, executor)
                print(json.dumps(response, sort_keys=True))
    finally:
        await store.close()


if __name__ == "__main__":
    url, table, path = sys.argv[1:4]
    asyncio.run(_main(url, table, json.loads(Path(path).read_text(encoding="utf-8"))))
