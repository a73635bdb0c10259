"""Trips: the type, its owner and itinerary, `trip(id:)`, and the trip mutations."""

from __future__ import annotations

from typing import Any

import strawberry

from gql.kv import models as m
from gql.schema.base import (
    Connection,
    Node,
    by_id,
    connection,
    lazy,
    node,
    relation,
    root_mutations,
    root_query,
)
from gql.schema.budgets import Budget
from gql.schema.conflicts import Conflict
from gql.schema.derive import create_input, from_model, id_input, mutation, update_input
from gql.schema.enums import ConflictStatus
from gql.schema.items import ItineraryItem
from resolvers import budgets, collaborators, conflicts, items, trips


@strawberry.type(
    description="Someone a trip is shared with (`collaborator:{tripId}:{userId}`): a viewer "
    "reads it, an editor changes it too. The trip is listed in the collaborator's own "
    "`User.trips` (`trips:index:{userId}`) for as long as the entry exists."
)
@node(m.Collaborator, collaborators.collaborator, collaborators.collaborator_id)
@from_model(m.Collaborator)
class Collaborator(Node):
    user: Any = relation(
        collaborators.collaborator_users,
        graphql_type=lazy("User", "gql.schema.users"),
        description="The collaborator (public profile fields only, unless it is the viewer).",
    )
    trip: Any = relation(
        collaborators.collaborator_trips, graphql_type=lazy("Trip", "gql.schema.trips") | None
    )


@strawberry.type(description="A trip (`trip:{id}`), listed in `trips:index:{userId}`.")
@node(m.Trip, trips.trip)
@from_model(m.Trip, hide=("user_id",))
class Trip(Node):
    owner: Any = relation(trips.trip_owners, graphql_type=lazy("User", "gql.schema.users"))
    budget: Budget | None = relation(budgets.trip_budgets)
    items: Connection[ItineraryItem] = connection(
        items.trip_items, description="The itinerary, in order (`items:index:{tripId}`)."
    )
    collaborators: Connection[Collaborator] = connection(
        trips.trip_collaborators,
        description="Who the trip is shared with, by user id (`collaborator:{tripId}:`).",
    )
    conflicts: Connection[Conflict] = connection(
        conflicts.trip_conflicts,
        args=conflicts.ConflictArgs,
        types={"status": ConflictStatus | None},
        description="The conflicts recorded for the itinerary (`conflicts:index:{tripId}`), "
        "oldest first: open ones unless `status` says otherwise (null: all).",
    )


CreateTripInput = create_input(m.Trip, "CreateTripInput", hide=("user_id",))
UpdateTripInput = update_input(m.Trip, "UpdateTripInput")
DeleteTripInput = id_input("DeleteTripInput")


@root_query
@strawberry.type
class TripQuery:
    trip: Trip | None = by_id(
        trips.trip_by_id, description="A trip the viewer owns or collaborates on."
    )


@root_mutations
@strawberry.type
class TripMutations:
    create_trip = mutation(
        trips.create_trip, CreateTripInput, "trip", Trip, "Create a trip for the viewer."
    )
    update_trip = mutation(
        trips.update_trip,
        UpdateTripInput,
        "trip",
        Trip,
        "Change a trip; fields left out stay as they are.",
    )
    delete_trip = mutation(
        trips.delete_trip,
        DeleteTripInput,
        "trip",
        Trip,
        "Delete a trip with its items, conflicts, budget and collaborator entries (it leaves "
        "each collaborator's trips).",
        node_description="The trip as it was before deletion.",
    )
