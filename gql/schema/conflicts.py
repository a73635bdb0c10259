"""Conflicts of a trip's itinerary: the type, detecting, resolving and deleting them."""

from __future__ import annotations

from typing import Any

import strawberry

from gql.kv import models as m
from gql.schema.base import Node, lazy, node, relation, root_mutations
from gql.schema.derive import UNSET, from_model, id_input, mutation
from gql.schema.items import ItineraryItem
from resolvers import conflicts

TRIP = lazy("Trip", "gql.schema.trips")


@strawberry.type(
    description="A conflict found in a trip's itinerary (`conflict:{id}`, listed in "
    "`conflicts:index:{tripId}`): overlapping items, an item outside the trip's dates, at a "
    "place closed then or at an event it misses."
)
@node(m.Conflict, conflicts.conflict)
@from_model(m.Conflict, hide=("trip_id", "fingerprint"))
class Conflict(Node):
    item_ids: list[strawberry.ID] | None = strawberry.field(
        description="The ids of the items in conflict, as stored."
    )
    trip: Any = relation(conflicts.conflict_trips, graphql_type=TRIP | None)
    items: list[ItineraryItem] = relation(
        conflicts.conflict_items,
        description="The items in conflict that still exist (`itemIds` holds them all).",
    )


@strawberry.type(description="An item `detectConflicts` could not check, and why.")
class UncheckedItem:
    item: ItineraryItem
    reason: str


@strawberry.type(description="What `detectConflicts` found.")
class ConflictDetection:
    trip: Any = strawberry.field(graphql_type=TRIP)
    conflicts: list[Conflict] = strawberry.field(
        description="Every conflict found, whether recorded now or before."
    )
    recorded: list[Conflict] = strawberry.field(description="The conflicts recorded now.")
    unchecked: list[UncheckedItem] = strawberry.field(
        description="Items at a place whose opening hours are in a form kvgraph does not "
        "read, or not known for that day."
    )


@strawberry.input
class DetectConflictsInput:
    trip_id: strawberry.ID


ResolveConflictInput = id_input(
    "ResolveConflictInput",
    resolution=(
        str | None,
        strawberry.field(default=UNSET, description="How it was resolved, in words."),
    ),
)
DeleteConflictInput = id_input("DeleteConflictInput")


@root_mutations
@strawberry.type
class ConflictMutations:
    detect_conflicts = mutation(
        conflicts.detect_conflicts,
        DetectConflictsInput,
        "detection",
        ConflictDetection,
        "Find the conflicts of a trip's itinerary and record the new ones (owner and editors).",
    )
    resolve_conflict = mutation(
        conflicts.resolve_conflict,
        ResolveConflictInput,
        "conflict",
        Conflict,
        "Mark an open conflict resolved (owner and editors).",
    )
    delete_conflict = mutation(
        conflicts.delete_conflict,
        DeleteConflictInput,
        "conflict",
        Conflict,
        "Delete a conflict (owner and editors).",
        node_description="The conflict as it was before deletion.",
    )
