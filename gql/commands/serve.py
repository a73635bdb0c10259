"""`kvgraph serve`: the --dev conveniences (demo data, a signed-in GraphiQL link), then serve."""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import quote, urlencode

from gql.commands.demo import DEMO_USER_ID, seed_demo, store_is_empty
from gql.kv import StoreError
from gql.web.auth import mint_token
from gql.web.server import check_table, refuse_reason, serve, url_of
from gql.web.settings import Settings

FIRST_QUERY = """{
  viewer {
    displayName
    trips(first: 5) {
      totalCount
      nodes {
        title
        startDate
        items(first: 10) {
          nodes { title startTime location { __typename name city } }
        }
      }
    }
  }
}"""


async def prepare_dev_store(settings: Settings) -> str:
    """Seed the store with demo data if it is empty; return the demo user's id."""
    store = settings.make_store()
    await store.open()
    try:
        if await store_is_empty(store):
            summary = await seed_demo(store)
            print(summary.describe())
    finally:
        await store.close()
    return DEMO_USER_ID


def ide_link(url: str, token: str) -> str:
    """A GraphiQL URL with the bearer header and the first query filled in."""
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    return f"{url}?{urlencode({'headers': headers, 'q': FIRST_QUERY}, quote_via=quote)}"


DEV_WARNING = (
    "kvgraph: WARNING: --dev: tokens signed with the published dev secret are accepted and "
    "introspection is on.\nkvgraph: WARNING: for local development only: never expose this "
    "server or give it real data."
)
NO_AUTH_WARNING = (
    "kvgraph: WARNING: --insecure-no-auth: no token is accepted, every request is anonymous."
    "\nkvgraph: WARNING: never give this server private data."
)


def serve_command(settings: Settings) -> int:
    """Serve; with --dev, seed an empty store and print a signed-in GraphiQL link first."""
    if refuse_reason(settings):
        return serve(settings)  # says why and refuses
    if settings.dev or settings.insecure_no_auth:
        print(DEV_WARNING if settings.dev else NO_AUTH_WARNING, file=sys.stderr, flush=True)
    if not settings.dev:
        return serve(settings)
    if check_table(settings):
        return 1
    try:
        user = asyncio.run(prepare_dev_store(settings))
    except (StoreError, OSError) as exc:
        print(f"kvgraph: cannot open the store: {exc}", file=sys.stderr)
        return 1
    token = mint_token(settings.secret() or "", user, hours=24 * 7, audience=settings.jwt_audience)
    banner = (
        "GraphiQL (signed in as the demo user, first query loaded):\n"
        f"  {ide_link(url_of(settings), token)}\n"
        f"Bearer token for the demo user {user} (valid 7 days):\n  {token}"
    )
    return serve(settings, banner, table_checked=True)
