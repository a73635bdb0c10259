"""Itinerary items: the type, its cost and place, and the item mutations."""

from __future__ import annotations

from typing import Any

import strawberry

from gql.kv import models as m
from gql.schema.base import Node, lazy, node, relation, root_mutations
from gql.schema.derive import create_input, from_model, id_input, mutation, update_input
from gql.schema.locations import Location
from resolvers import items


@strawberry.type(description="An amount of money in a currency (ISO-4217 code when known).")
class Money:
    amount: float
    currency: str | None


@strawberry.type(description="A point on the map, in degrees.")
class Coordinates:
    latitude: float
    longitude: float


@strawberry.type(description="One entry of a trip's itinerary (`item:{id}`).")
@node(m.Item, items.item)
@from_model(m.Item, hide=("trip_id", "currency", "location_type", "location_id"))
class ItineraryItem(Node):
    cost: Money | None = relation(items.item_costs)
    coordinates: Coordinates | None = relation(
        items.item_coordinates,
        description="The item's own point, e.g. an app's embedded `location: {lat, lng}`.",
    )
    location: Location | None = relation(items.item_locations)
    trip: Any = relation(items.item_trips, graphql_type=lazy("Trip", "gql.schema.trips") | None)


AddItineraryItemInput = create_input(
    m.Item,
    "AddItineraryItemInput",
    extra={
        "position": (
            int | None,
            strawberry.field(default=None, description="0 = first; default: after the last item."),
        )
    },
)
UpdateItineraryItemInput = update_input(m.Item, "UpdateItineraryItemInput", keep=["location_id"])
RemoveItineraryItemInput = id_input("RemoveItineraryItemInput")
MoveItineraryItemInput = id_input(
    "MoveItineraryItemInput",
    position=(int, strawberry.field(description="New place in the itinerary, 0 = first.")),
)


@root_mutations
@strawberry.type
class ItemMutations:
    add_itinerary_item = mutation(
        items.add_item,
        AddItineraryItemInput,
        "item",
        ItineraryItem,
        "Add an item to a trip's itinerary.",
    )
    update_itinerary_item = mutation(
        items.update_item,
        UpdateItineraryItemInput,
        "item",
        ItineraryItem,
        "Change an itinerary item; fields left out stay.",
    )
    remove_itinerary_item = mutation(
        items.remove_item,
        RemoveItineraryItemInput,
        "item",
        ItineraryItem,
        "Remove an item from its itinerary.",
    )
    move_itinerary_item = mutation(
        items.move_item,
        MoveItineraryItemInput,
        "item",
        ItineraryItem,
        "Move an item to another position in its itinerary.",
    )
