"""Mutation inputs, payloads and the Mutation root: thin adapters over `resolvers/`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from pydantic.alias_generators import to_camel

from gql.schema.base import Info
from gql.schema.types import (
    Conversation,
    ItemKind,
    ItineraryItem,
    Location,
    LocationKind,
    Message,
    Suggestion,
    Trip,
    UserError,
    src,
)
from resolvers import conversations, items, locations, suggestions, trips
from resolvers.common import Outcome

UNSET: Any = strawberry.UNSET


def provided(data: object, *skip: str) -> dict[str, Any]:
    """The input's fields that were given, camelCase, enums as their values."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(data):  # type: ignore[arg-type]
        value = getattr(data, f.name)
        if value is UNSET or f.name in skip:
            continue
        out[to_camel(f.name)] = value.value if isinstance(value, Enum) else value
    return out


def _errors(out: Outcome) -> list[UserError]:
    return src(out.problems)


# ---------------------------------------------------------------- trips
@strawberry.input
class CreateTripInput:
    id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Optional client-chosen id: repeating the call is harmless."
    )
    title: str
    destination: str | None = UNSET
    start_date: dt.date | None = UNSET
    end_date: dt.date | None = UNSET
    currency: str | None = UNSET
    status: str | None = UNSET


@strawberry.input
class UpdateTripInput:
    id: strawberry.ID
    title: str | None = UNSET
    destination: str | None = UNSET
    start_date: dt.date | None = UNSET
    end_date: dt.date | None = UNSET
    currency: str | None = UNSET
    status: str | None = UNSET


@strawberry.input
class DeleteTripInput:
    id: strawberry.ID


@strawberry.type
class CreateTripPayload:
    trip: Trip | None
    user_errors: list[UserError]


@strawberry.type
class UpdateTripPayload:
    trip: Trip | None
    user_errors: list[UserError]


@strawberry.type
class DeleteTripPayload:
    trip: Trip | None = strawberry.field(description="The trip as it was before deletion.")
    user_errors: list[UserError]


# ---------------------------------------------------------------- itinerary items
@strawberry.input
class AddItineraryItemInput:
    trip_id: strawberry.ID
    id: strawberry.ID | None = UNSET
    title: str
    kind: ItemKind | None = UNSET
    start_time: dt.datetime | None = UNSET
    end_time: dt.datetime | None = UNSET
    cost: float | None = UNSET
    currency: str | None = UNSET
    notes: str | None = UNSET
    location_type: LocationKind | None = UNSET
    location_id: strawberry.ID | None = UNSET
    position: int | None = strawberry.field(
        default=None, description="0 = first; default: after the last item."
    )


@strawberry.input
class UpdateItineraryItemInput:
    id: strawberry.ID
    title: str | None = UNSET
    kind: ItemKind | None = UNSET
    start_time: dt.datetime | None = UNSET
    end_time: dt.datetime | None = UNSET
    cost: float | None = UNSET
    currency: str | None = UNSET
    notes: str | None = UNSET
    location_type: LocationKind | None = UNSET
    location_id: strawberry.ID | None = UNSET


@strawberry.input
class RemoveItineraryItemInput:
    id: strawberry.ID


@strawberry.input
class MoveItineraryItemInput:
    id: strawberry.ID
    position: int = strawberry.field(description="New place in the itinerary, 0 = first.")


@strawberry.type
class AddItineraryItemPayload:
    item: ItineraryItem | None
    user_errors: list[UserError]


@strawberry.type
class UpdateItineraryItemPayload:
    item: ItineraryItem | None
    user_errors: list[UserError]


@strawberry.type
class RemoveItineraryItemPayload:
    item: ItineraryItem | None
    user_errors: list[UserError]


@strawberry.type
class MoveItineraryItemPayload:
    item: ItineraryItem | None
    user_errors: list[UserError]


# ---------------------------------------------------------------- conversations
@strawberry.input
class StartConversationInput:
    title: str | None = UNSET
    agent_type: str | None = UNSET
    message: str | None = strawberry.field(default=UNSET, description="Optional first message.")


@strawberry.input
class PostMessageInput:
    conversation_id: strawberry.ID
    content: str


@strawberry.input
class DeleteConversationInput:
    id: strawberry.ID


@strawberry.type
class StartConversationPayload:
    conversation: Conversation | None
    user_errors: list[UserError]


@strawberry.type
class PostMessagePayload:
    message: Message | None
    user_errors: list[UserError]


@strawberry.type
class DeleteConversationPayload:
    conversation: Conversation | None
    user_errors: list[UserError]


# ---------------------------------------------------------------- suggestions, saved places
@strawberry.input
class DismissSuggestionInput:
    id: strawberry.ID


@strawberry.input
class AcceptSuggestionInput:
    id: strawberry.ID


@strawberry.type
class DismissSuggestionPayload:
    suggestion: Suggestion | None
    user_errors: list[UserError]


@strawberry.type
class AcceptSuggestionPayload:
    suggestion: Suggestion | None
    user_errors: list[UserError]


@strawberry.input
class SavePlaceInput:
    place_id: strawberry.ID
    kind: LocationKind | None = None


@strawberry.input
class UnsavePlaceInput:
    place_id: strawberry.ID


@strawberry.type
class SavePlacePayload:
    place: Location | None
    user_errors: list[UserError]


@strawberry.type
class UnsavePlacePayload:
    place: Location | None
    user_errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a trip for the viewer.")
    async def create_trip(self, info: Info, input: CreateTripInput) -> CreateTripPayload:
        out = await trips.create_trip(info.context, provided(input))
        return CreateTripPayload(trip=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Change a trip; fields left out stay as they are.")
    async def update_trip(self, info: Info, input: UpdateTripInput) -> UpdateTripPayload:
        out = await trips.update_trip(info.context, input.id, provided(input, "id"))
        return UpdateTripPayload(trip=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Delete a trip with its items, conflicts and budget.")
    async def delete_trip(self, info: Info, input: DeleteTripInput) -> DeleteTripPayload:
        out = await trips.delete_trip(info.context, input.id)
        return DeleteTripPayload(trip=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Add an item to a trip's itinerary.")
    async def add_itinerary_item(
        self, info: Info, input: AddItineraryItemInput
    ) -> AddItineraryItemPayload:
        data = provided(input, "trip_id", "position")
        out = await items.add_item(info.context, input.trip_id, data, input.position)
        return AddItineraryItemPayload(item=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Change an itinerary item; fields left out stay.")
    async def update_itinerary_item(
        self, info: Info, input: UpdateItineraryItemInput
    ) -> UpdateItineraryItemPayload:
        out = await items.update_item(info.context, input.id, provided(input, "id"))
        return UpdateItineraryItemPayload(item=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Remove an item from its itinerary.")
    async def remove_itinerary_item(
        self, info: Info, input: RemoveItineraryItemInput
    ) -> RemoveItineraryItemPayload:
        out = await items.remove_item(info.context, input.id)
        return RemoveItineraryItemPayload(item=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Move an item to another position in its itinerary.")
    async def move_itinerary_item(
        self, info: Info, input: MoveItineraryItemInput
    ) -> MoveItineraryItemPayload:
        out = await items.move_item(info.context, input.id, input.position)
        return MoveItineraryItemPayload(item=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Start a conversation, optionally with a first message.")
    async def start_conversation(
        self, info: Info, input: StartConversationInput
    ) -> StartConversationPayload:
        out = await conversations.start_conversation(info.context, provided(input))
        return StartConversationPayload(conversation=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Post the viewer's message to a conversation.")
    async def post_message(self, info: Info, input: PostMessageInput) -> PostMessagePayload:
        out = await conversations.post_message(info.context, input.conversation_id, input.content)
        return PostMessagePayload(message=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Delete a conversation with its messages and context.")
    async def delete_conversation(
        self, info: Info, input: DeleteConversationInput
    ) -> DeleteConversationPayload:
        out = await conversations.delete_conversation(info.context, input.id)
        return DeleteConversationPayload(conversation=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Dismiss an active suggestion.")
    async def dismiss_suggestion(
        self, info: Info, input: DismissSuggestionInput
    ) -> DismissSuggestionPayload:
        out = await suggestions.set_status(info.context, input.id, "dismissed")
        return DismissSuggestionPayload(suggestion=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Accept an active suggestion.")
    async def accept_suggestion(
        self, info: Info, input: AcceptSuggestionInput
    ) -> AcceptSuggestionPayload:
        out = await suggestions.set_status(info.context, input.id, "accepted")
        return AcceptSuggestionPayload(suggestion=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Save a place to the viewer's saved places.")
    async def save_place(self, info: Info, input: SavePlaceInput) -> SavePlacePayload:
        kind = input.kind.value if input.kind else None
        out = await locations.save_place(info.context, input.place_id, kind)
        return SavePlacePayload(place=src(out.record), user_errors=_errors(out))

    @strawberry.mutation(description="Remove a place from the viewer's saved places.")
    async def unsave_place(self, info: Info, input: UnsavePlaceInput) -> UnsavePlacePayload:
        out = await locations.unsave_place(info.context, input.place_id)
        return UnsavePlacePayload(place=src(out.record), user_errors=_errors(out))
