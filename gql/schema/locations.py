"""Places: the `Location` interface, a type per catalog kind, the catalog, saved places."""

from __future__ import annotations

import strawberry

from gql.kv import models as m
from gql.kv.catalog import CATALOG, CatalogKind
from gql.schema.base import Connection, Node, by_id, node, root_field, root_mutations, root_query
from gql.schema.derive import from_model, mutation
from gql.schema.enums import LocationKind
from resolvers import locations
from resolvers.locations import CatalogArgs

HIDDEN = ("created_at", "updated_at")


@strawberry.interface(description="A place in the catalog, of one of the `LocationKind`s.")
@from_model(m.Place, hide=HIDDEN)
class Location(Node):
    pass


def _place_type(kind: CatalogKind) -> type:
    """The GraphQL type of a catalog kind: its model's fields, implementing `Location`."""
    model = m.PLACES[kind.name]
    cls = type(kind.type_name, (Location,), {"__module__": __name__, "__doc__": kind.description})
    cls = from_model(model, hide=HIDDEN)(cls)
    cls = node(model, locations.fetch_kind(kind.name))(cls)
    return strawberry.type(cls, description=kind.description)


# One type per catalog kind (`gql/kv/catalog.py`), by kind: `PLACE_TYPES["rental"]` is `Rental`.
PLACE_TYPES: dict[str, type] = {kind.name: _place_type(kind) for kind in CATALOG}


@strawberry.input
class SavePlaceInput:
    place_id: strawberry.ID
    kind: LocationKind | None = None


@strawberry.input
class UnsavePlaceInput:
    place_id: strawberry.ID


@root_query
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


@root_mutations
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
