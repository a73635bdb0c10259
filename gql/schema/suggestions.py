"""Proactive suggestions: the type, its trip, and accepting or dismissing one."""

from __future__ import annotations

import strawberry

from gql.kv import models as m
from gql.schema.base import Node, node, relation
from gql.schema.derive import from_model, id_input, mutation
from gql.schema.trips import Trip
from resolvers import suggestions


@strawberry.type(description="A proactive suggestion (`suggestion:{id}`).")
@node(m.Suggestion, suggestions.suggestion)
@from_model(m.Suggestion, hide=("user_id", "trip_id", "updated_at"))
class Suggestion(Node):
    trip: Trip | None = relation(suggestions.suggestion_trips)


AcceptSuggestionInput = id_input("AcceptSuggestionInput")
DismissSuggestionInput = id_input("DismissSuggestionInput")


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
        "Accept an active suggestion.",
    )
