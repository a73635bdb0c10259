"""Proactive suggestions: the type, its trip and item, and accepting or dismissing one."""

from __future__ import annotations

import strawberry

from gql.kv import models as m
from gql.schema.base import Node, node, relation, root_mutations
from gql.schema.derive import RAW, from_model, id_input, mutation
from gql.schema.enums import SuggestionStatus
from gql.schema.items import ItineraryItem
from gql.schema.trips import Trip
from resolvers import suggestions


@strawberry.type(description="A proactive suggestion (`suggestion:{id}`).")
@node(m.Suggestion, suggestions.suggestion)
@from_model(m.Suggestion, hide=("user_id", "trip_id", "item_id", "updated_at"))
class Suggestion(Node):
    status: SuggestionStatus = relation(
        suggestions.statuses,
        description="The status as it stands: an ACTIVE suggestion past its `expiresAt` is "
        "EXPIRED (`statusRaw` shows the stored value until kvgraph's next write to the "
        "user's suggestions stores `expired`).",
    )
    status_raw: str = relation(suggestions.raw_statuses, description=RAW)
    trip: Trip | None = relation(suggestions.suggestion_trips)
    item: ItineraryItem | None = relation(
        suggestions.suggestion_items,
        description="The itinerary item accepting the suggestion added (an `addPlace` action).",
    )


AcceptSuggestionInput = id_input("AcceptSuggestionInput")
DismissSuggestionInput = id_input("DismissSuggestionInput")


@root_mutations
@strawberry.type
class SuggestionMutations:
    dismiss_suggestion = mutation(
        suggestions.dismiss_suggestion,
        DismissSuggestionInput,
        "suggestion",
        Suggestion,
        "Dismiss an active suggestion.",
    )
    accept_suggestion = mutation(
        suggestions.accept_suggestion,
        AcceptSuggestionInput,
        "suggestion",
        Suggestion,
        "Accept an active suggestion. One whose `action` is "
        '`{"type": "addPlace", "placeType", "placeId"}` adds that place to its trip as an '
        "itinerary item in the same write (both or neither; you must be able to edit the "
        "trip); `item` shows it.",
    )
