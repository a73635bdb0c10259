"""Places: the `Location` interface, events, restaurants and rentals, the catalog, saved places."""

from __future__ import annotations

import strawberry

from gql.kv import models as m
from gql.schema.base import Connection, Node, by_id, node, root_field
from gql.schema.derive import from_model, mutation
from gql.schema.enums import LocationKind
from resolvers import locations
from resolvers.locations import CatalogArgs

HIDDEN = ("created_at", "updated_at")


@strawberry.interface(description="A place in the catalog: an event, a restaurant or a rental.")
@from_model(m.Place, hide=HIDDEN)
class Location(Node):
    pass


@strawberry.type
@node(m.Event, locations.fetch_kind("event"))
@from_model(m.Event, hide=HIDDEN)
class Event(Location):
    pass


@strawberry.type
@node(m.Restaurant, locations.fetch_kind("restaurant"))
@from_model(m.Restaurant, hide=HIDDEN)
class Restaurant(Location):
    pass


@strawberry.type
@node(m.Rental, locations.fetch_kind("rental"))
@from_model(m.Rental, hide=HIDDEN)
class Rental(Location):
    pass


@strawberry.input
class SavePlaceInput:
    place_id: strawberry.ID
    kind: LocationKind | None = None


@strawberry.input
class UnsavePlaceInput:
    place_id: strawberry.ID


@strawberry.type
class LocationQuery:
    location: Location | None = by_id(
        locations.location_by_id, description="A place of any kind by its id (public catalog)."
    )
    locations: Connection[Location] = root_field(
        locations.catalog,
        args=CatalogArgs,
        types={"kind": LocationKind | None},
        description="The public catalog of places, filtered and paged.",
    )


@strawberry.type
class LocationMutations:
    save_place = mutation(
        locations.save_place,
        SavePlaceInput,
        "place",
        Location,
        "Save a place to the viewer's saved places.",
    )
    unsave_place = mutation(
        locations.unsave_place,
        UnsavePlaceInput,
        "place",
        Location,
        "Remove a place from the viewer's saved places.",
    )
