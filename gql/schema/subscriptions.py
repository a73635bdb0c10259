"""The Subscription root: live changes over graphql-transport-ws (`gql.web.subscriptions`).

Each field checks access when it starts (an error, and nothing delivered, when the viewer may
not read what it names) and then emits, per change, what the viewer may read at that moment;
each event is executed with fresh loaders (`resolvers/subscriptions.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry

from gql.schema.base import Info
from gql.schema.budgets import BudgetAlert
from gql.schema.conversations import Message
from gql.schema.suggestions import Suggestion
from gql.schema.trips import Trip
from resolvers import subscriptions as subs


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each message added to a conversation the viewer owns, oldest first. "
        "A conversation the viewer may not read is a NOT_FOUND error."
    )
    async def message_added(
        self, info: Info, conversation_id: strawberry.ID
    ) -> AsyncIterator[Message]:
        return await subs.message_added(info.context, str(conversation_id))  # type: ignore[return-value]

    @strawberry.subscription(
        description="Each of the viewer's suggestions when it is added or changes (its "
        "status, content...). Needs a signed-in viewer."
    )
    async def suggestion_changed(self, info: Info) -> AsyncIterator[Suggestion]:
        return await subs.suggestion_changed(info.context)  # type: ignore[return-value]

    @strawberry.subscription(
        description="The trip each time it or its itinerary changes (items added, removed, "
        "moved or edited), while the viewer may read it. Select `items` for the itinerary."
    )
    async def itinerary_changed(self, info: Info, trip_id: strawberry.ID) -> AsyncIterator[Trip]:
        return await subs.itinerary_changed(info.context, str(trip_id))  # type: ignore[return-value]

    @strawberry.subscription(
        description="Each budget alert added to a trip the viewer may read "
        "(`budget:alerts:{tripId}`)."
    )
    async def budget_alert_raised(
        self, info: Info, trip_id: strawberry.ID
    ) -> AsyncIterator[BudgetAlert]:
        return await subs.budget_alert_raised(info.context, str(trip_id))  # type: ignore[return-value]
