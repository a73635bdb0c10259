"""A user's API key for an AI provider (`apikey:{userId}`): set, replaced and deleted by its
user, stored only encrypted (`gql/kv/secrets.py`), and shown only masked.

Only the last four characters (`hint`) ever leave the server: no field, `data`, log line or
error message carries the key. Messages here never quote an input; a record an app wrote with
a longer `hint` still shows only its last four characters. Without an encryption key
configured nothing is stored (a userError says so): kvgraph never writes a key in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import models as m
from resolvers.access import record, records, viewer_only
from resolvers.common import Outcome, Problem, author, clean_text, written
from resolvers.context import Context
from resolvers.users import UserRef

HINT_CHARS = 4  # how many of a key's last characters show
SECRET_MIN, SECRET_MAX = 16, 4096
PROVIDER_MAX = 50
NOT_CONFIGURED = "NOT_CONFIGURED"
NO_KEY = (
    "this server stores no API keys: it has no encryption key configured "
    "(its operator sets KVGRAPH_API_KEY_SECRET)"
)


def masked_hint(hint: str | None) -> str | None:
    """At most the last four characters of a stored hint (an app may have stored more)."""
    return hint[-HINT_CHARS:] if hint else None


@viewer_only(empty=lambda: None)
async def user_api_keys(ctx: Context, users: Sequence[UserRef]) -> list[m.ApiKey | None]:
    """Each user's API key record (the viewer's only)."""
    return await records(ctx, e.APIKEY)([u.id for u in users])


async def api_key(ctx: Context, user_id: str) -> m.ApiKey | None:
    """The viewer's API key record (for `node(nodeId:)`)."""
    return await record(ctx, e.APIKEY, user_id)


def _secret_problem(secret: str) -> str | None:
    """Why a key cannot be stored, in words that never quote it (None: it can)."""
    if not SECRET_MIN <= len(secret) <= SECRET_MAX:
        return f"secret must be {SECRET_MIN} to {SECRET_MAX} characters"
    if not secret.isprintable() or any(c.isspace() for c in secret):
        return "secret must be printable characters without spaces"
    return None


async def set_api_key(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Store the viewer's API key for `provider`, encrypted, replacing any earlier one."""
    user = author(ctx, e.APIKEY)
    box = ctx.secret_box
    if box is None:
        return Outcome.fail(NO_KEY, "secret", NOT_CONFIGURED)
    secret = data["secret"].strip()
    provider = clean_text(data["provider"], "provider", required=True, limit=PROVIDER_MAX)
    problems = [provider] if isinstance(provider, Problem) else []
    if (why := _secret_problem(secret)) is not None:
        problems.append(Problem("secret", why))
    if problems:
        return Outcome(None, problems)
    key = e.APIKEY.pattern.key(user)
    fields = {
        "provider": provider,
        "hint": secret[-HINT_CHARS:],
        "ciphertext": box.seal(secret, key),
    }
    # Replace the record's fields (others kept) or create it, in one transaction: concurrent
    # sets serialize on the key, and the last one wins whole.
    return await written(ctx, ctx.repo.revise(e.APIKEY, [user], lambda _: fields, create=True))


async def delete_api_key(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete the viewer's API key (only if it is `provider`'s, when one is named)."""
    user = author(ctx, e.APIKEY, "change")
    found = await record(ctx, e.APIKEY, user)
    provider = data.get("provider")
    if found is None or (provider is not None and found.provider != provider.strip()):
        return Outcome.fail("API key not found", "provider", "NOT_FOUND")
    return await written(ctx, ctx.repo.delete(e.APIKEY, user))
