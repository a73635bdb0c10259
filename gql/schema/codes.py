"""`ErrorCode`: every `extensions.code` and `userErrors.errorCode` value as an enum in the schema.

Error codes travel in `extensions` (untyped) and in `UserError.errorCode` (this enum; the
deprecated `UserError.code` is the same value as a String), so without it nothing in
`schema.graphql` would tell a client which values to switch on, or what HTTP status comes with
each, and a new code would pass graphql-inspector unseen. As a schema enum,
codegen writes it as a type (the `typescript` plugin) and a new value shows in the schema diff
(tests/schema/test_schema_diff.py), which CHANGELOG.md must then name.
"""

from __future__ import annotations

from enum import Enum
from typing import cast

import strawberry

ENTRIES: dict[str, str] = {
    "GRAPHQL_PARSE_FAILED": "The document does not parse (or exceeds the token limit: "
    "`extensions.limit`). HTTP 400 without `data` under `application/graphql-response+json`; "
    '200 with `"data": null` under `application/json`.',
    "GRAPHQL_VALIDATION_FAILED": "The document does not validate (unknown field, wrong literal, "
    "introspection off, a depth/alias/size limit: `extensions.limit`). HTTP 400 without `data` "
    'under `application/graphql-response+json`; 200 with `"data": null` under '
    "`application/json`.",
    "BAD_USER_INPUT": "A variable or argument does not fit (wrong type, malformed id or cursor, "
    "`first` over 100), or several operations and no `operationName`: HTTP 400 before "
    "execution under `application/graphql-response+json`, else 200. In `userErrors`: the "
    "input is wrong and nothing was written.",
    "UNAUTHENTICATED": "The bearer token is malformed, expired, badly signed or for another "
    'audience: HTTP 401 with `WWW-Authenticate: Bearer error="invalid_token"`, no `data`. '
    "A mutation without a token: 200.",
    "FORBIDDEN": "The viewer may read the record but not do this (a read-only collaborator): "
    "HTTP 200, in `userErrors` or beside `data`.",
    "NOT_FOUND": "No such record the viewer may read: HTTP 200, in `userErrors` or beside `data`.",
    "CONFLICT": "In `userErrors`: the client-chosen id is taken by another record; nothing was "
    "written. HTTP 200.",
    "NOT_ACTIVE": "In `userErrors` of `acceptSuggestion`/`dismissSuggestion`: the suggestion is "
    "no longer active; nothing was written. HTTP 200.",
    "NOT_OPEN": "In `userErrors` of `resolveConflict`: the conflict is no longer open (resolved "
    "already); nothing was written. HTTP 200.",
    "INVALID_TRANSITION": "In `userErrors` of `advanceBookingWorkflow`: the workflow may not move "
    "to that step from where it is; nothing was written. HTTP 200.",
    "NOT_CONFIGURED": "In `userErrors` of `setApiKey`: the server has no key to encrypt API keys "
    "with (`KVGRAPH_API_KEY_SECRET` unset); nothing was written. HTTP 200.",
    "INVALID_RECORD": "A stored record fails validation (left out, named in `extensions.key`) "
    "or a shown record has fields it could not read (`extensions.fields`): HTTP 200 with "
    "`data` beside it; treat it as a warning. In `userErrors`: an index kvgraph would have to "
    "overwrite is not a list.",
    "STORE_UNAVAILABLE": "The database failed while reading or writing: HTTP 503, `data` may be "
    "partial. Retry later.",
    "AUTH_UNAVAILABLE": "The JWKS endpoint never answered, so the token cannot be checked yet: "
    "HTTP 503 with `Retry-After: 5`, no `data`. Do not sign the user out; retry.",
    "RATE_LIMITED": "The viewer's (or address's) allowance is spent: HTTP 429 with "
    "`Retry-After` and `extensions.retryAfter` (seconds), no `data`.",
    "TIMEOUT": 'The request ran past the execution timeout: HTTP 504, `"data": null`.',
    "QUERY_TOO_LARGE": "The request read more records or stored text than its limits allow "
    "(`extensions.limit`, `extensions.max`): no `data`; HTTP 400 under "
    "`application/graphql-response+json`, 200 under `application/json`.",
    "BAD_REQUEST": "The HTTP request itself is wrong (not JSON, batched, wrong content type, "
    "too large, a WebSocket upgrade): HTTP 400; 405 with `Allow` for a mutation by GET; 413 "
    "for a body too large.",
    "PERSISTED_QUERY_NOT_FOUND": "An automatic-persisted-query hash the server has not seen: "
    "HTTP 200, no `data`; Apollo's link resends the document.",
    "PERSISTED_QUERY_NOT_SUPPORTED": "Persisted queries are off on this server: HTTP 200, no "
    "`data`; send the document.",
    "PERSISTED_QUERY_NOT_IN_LIST": "Allow-list mode: the document is not registered: HTTP 403, "
    "no `data`.",
    "INTERNAL_SERVER_ERROR": "Anything unexpected (masked as `Internal server error.`, logged "
    "by the server): HTTP 200 beside `data`; 500 when it happens before execution under "
    "`application/graphql-response+json`.",
}

_VALUES = {code: strawberry.enum_value(code, description=text) for code, text in ENTRIES.items()}
ErrorCode = strawberry.enum(
    cast("type[Enum]", Enum("ErrorCode", _VALUES)),
    description="Every value of `errors[].extensions.code` and `userErrors[].errorCode`, with the "
    "HTTP status it comes with. Switch on these, not on messages or statuses, and keep a "
    "default branch: codes are added (each named in CHANGELOG.md).",
)
