"""The `Date` and `DateTime` scalars with their exact wire forms in the schema itself.

Strawberry's built-ins say only "(isoformat)"; clients generated from `schema.graphql` (and
graphql-inspector diffs of it) should see which strings they receive: a `DateTime` with an
offset is an instant, one without is a local wall-clock time (docs/frontends.md#scalars).
Parsing and serializing stay Strawberry's own; only the descriptions and `@specifiedBy` change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition

DATE_DESCRIPTION = (
    "A calendar date, `YYYY-MM-DD` (`2025-06-05`), with no time and no zone. Input: the same form."
)

DATETIME_DESCRIPTION = (
    "An ISO-8601 date-time string, served as stored, never converted to another zone. Two "
    "kinds: WITH an offset it is an instant (`2025-03-14T20:00:00+02:00`; UTC is written "
    "`+00:00`, never `Z`); WITHOUT an offset (`2025-03-14T20:00:00`) it is a local wall-clock "
    "time at the place it concerns, not an instant: do not pass it to `new Date()` and do not "
    "sort it as text beside instants. Any field may hold either kind when the app that wrote "
    "the record stored it so; the stamps kvgraph writes itself (`createdAt` and `updatedAt` "
    "of what it creates or changes, a posted message's `timestamp`) and epoch numbers are "
    "UTC instants. Seconds are always present; a fraction has six digits "
    "(`20:00:00.123000+00:00`), none when it is zero. Input: ISO-8601 with or without an "
    "offset (`Z` too); an offset is kept, a time without one is kept as a local time, a bare "
    "date is local midnight."
)

# https://scalars.graphql.org: the community's scalar specifications, by stable URL.
LOCAL_DATE_SPEC = "https://scalars.graphql.org/andimarek/local-date.html"

OVERRIDES: dict[object, Any] = {
    dt.date: dataclasses.replace(
        DateDefinition, description=DATE_DESCRIPTION, specified_by_url=LOCAL_DATE_SPEC
    ),
    dt.datetime: dataclasses.replace(DateTimeDefinition, description=DATETIME_DESCRIPTION),
}
