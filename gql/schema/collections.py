"""Collections: the type, its places, `collection(id:)`, and the collection mutations."""

from __future__ import annotations

import strawberry

from gql.kv import models as m
from gql.schema.base import Connection, Node, by_id, connection, node, root_mutations, root_query
from gql.schema.derive import create_input, from_model, id_input, mutation, update_input
from gql.schema.enums import LocationKind
from gql.schema.locations import Location
from resolvers import collections

HIDDEN = ("user_id", "place_ids")


@strawberry.type(
    description="A user's named, ordered list of places (`collection:{id}`), listed in "
    "`collections:index:{userId}`."
)
@node(m.Collection, collections.collection)
@from_model(m.Collection, hide=HIDDEN)
class Collection(Node):
    places: Connection[Location] = connection(
        collections.collection_places,
        description="The collection's places, in its order (`placeIds`); references the "
        "catalog does not have are skipped.",
    )


CreateCollectionInput = create_input(m.Collection, "CreateCollectionInput", hide=HIDDEN)
UpdateCollectionInput = update_input(m.Collection, "UpdateCollectionInput", hide=HIDDEN)
DeleteCollectionInput = id_input("DeleteCollectionInput")


@strawberry.input
class AddCollectionPlaceInput:
    collection_id: strawberry.ID
    place_id: strawberry.ID
    kind: LocationKind | None = strawberry.field(
        default=None, description="The place's kind, when its id alone is ambiguous."
    )
    position: int | None = strawberry.field(
        default=None, description="0 = first; default: after the last place."
    )


@strawberry.input
class MoveCollectionPlaceInput:
    collection_id: strawberry.ID
    place_id: strawberry.ID
    position: int = strawberry.field(description="New place in the list, 0 = first.")


@strawberry.input
class RemoveCollectionPlaceInput:
    collection_id: strawberry.ID
    place_id: strawberry.ID


@root_query
@strawberry.type
class CollectionQuery:
    collection: Collection | None = by_id(
        collections.collection_by_id, description="A collection the viewer owns."
    )


@root_mutations
@strawberry.type
class CollectionMutations:
    create_collection = mutation(
        collections.create_collection,
        CreateCollectionInput,
        "collection",
        Collection,
        "Create an empty collection for the viewer.",
    )
    update_collection = mutation(
        collections.update_collection,
        UpdateCollectionInput,
        "collection",
        Collection,
        "Rename or describe a collection; fields left out stay as they are.",
    )
    delete_collection = mutation(
        collections.delete_collection,
        DeleteCollectionInput,
        "collection",
        Collection,
        "Delete a collection (its places stay in the catalog).",
        node_description="The collection as it was before deletion.",
    )
    add_collection_place = mutation(
        collections.add_collection_place,
        AddCollectionPlaceInput,
        "collection",
        Collection,
        "Add a place to a collection; a place already in it stays where it is.",
    )
    move_collection_place = mutation(
        collections.move_collection_place,
        MoveCollectionPlaceInput,
        "collection",
        Collection,
        "Move a place to another position in its collection.",
    )
    remove_collection_place = mutation(
        collections.remove_collection_place,
        RemoveCollectionPlaceInput,
        "collection",
        Collection,
        "Take a place out of a collection.",
    )
