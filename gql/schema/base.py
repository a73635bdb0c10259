"""What every GraphQL type module shares."""

from __future__ import annotations

import strawberry

from resolvers.context import Context

Info = strawberry.Info[Context, None]
