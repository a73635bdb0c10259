"""Collaborators: the owner's mutations that share a trip, change a role, stop sharing it.

The `Collaborator` type lives with `Trip` (`gql/schema/trips.py`), which lists them.
"""

from __future__ import annotations

import strawberry

from gql.schema.base import root_mutations
from gql.schema.derive import mutation
from gql.schema.enums import CollaboratorRole
from gql.schema.trips import Collaborator
from resolvers import collaborators


@strawberry.input
class InviteCollaboratorInput:
    trip_id: strawberry.ID
    user_id: strawberry.ID = strawberry.field(description="The user to share the trip with.")
    role: CollaboratorRole | None = strawberry.field(
        default=None, description="VIEWER (the default) reads the trip; EDITOR changes it too."
    )


@strawberry.input
class UpdateCollaboratorInput:
    trip_id: strawberry.ID
    user_id: strawberry.ID
    role: CollaboratorRole


@strawberry.input
class RemoveCollaboratorInput:
    trip_id: strawberry.ID
    user_id: strawberry.ID


@root_mutations
@strawberry.type
class CollaboratorMutations:
    invite_collaborator = mutation(
        collaborators.invite_collaborator,
        InviteCollaboratorInput,
        "collaborator",
        Collaborator,
        "Share the viewer's trip with a user (trip owner only); the trip is then listed in "
        "that user's `trips`.",
    )
    update_collaborator = mutation(
        collaborators.update_collaborator,
        UpdateCollaboratorInput,
        "collaborator",
        Collaborator,
        "Change a collaborator's role on the viewer's trip (trip owner only).",
    )
    remove_collaborator = mutation(
        collaborators.remove_collaborator,
        RemoveCollaboratorInput,
        "collaborator",
        Collaborator,
        "Stop sharing the viewer's trip with a user (trip owner only): they no longer list "
        "or read it.",
        node_description="The entry as it was before removal.",
    )
