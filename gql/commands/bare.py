"""The yardstick of `kvgraph bench`'s small query: a bare aiohttp handler doing its work by hand.

What `../shared/peers/bare_trip.py` does: verify the HS256 bearer token, read `trip:{id}` from
the SQLite KV table with aiosqlite, answer `{"data": {"trip": {"id", "title"}}}` (null unless
the token's user owns the trip), encoded with orjson. No GraphQL, no checks beyond those: the
least a server answering `trip(id:) { id title }` must do, to compare kvgraph's per-request
path with. Run as a process of its own by the bench:

    python -m gql.commands.bare DB_PATH TABLE SECRET PORT
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import aiosqlite
import jwt
import orjson
from aiohttp import web

DB = web.AppKey("db", aiosqlite.Connection)


def make_app(path: str, table: str, secret: str) -> web.Application:
    """The bare app: POST /graphql with `variables.id`."""
    select = f'SELECT value FROM "{table}" WHERE key = ?'

    async def graphql(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        claims = jwt.decode(
            auth.removeprefix("Bearer "), secret, algorithms=["HS256"], audience="authenticated"
        )
        body = orjson.loads(await request.read())
        trip_id = body["variables"]["id"]
        async with request.app[DB].execute(select, (f"trip:{trip_id}",)) as cursor:
            row = await cursor.fetchone()
        trip = orjson.loads(row[0]) if row else None
        if trip is None or trip.get("userId") != claims["sub"]:
            trip = None
        data = {"trip": {"id": trip["id"], "title": trip["title"]} if trip else None}
        return web.Response(body=orjson.dumps({"data": data}), content_type="application/json")

    async def connection(app: web.Application) -> AsyncIterator[None]:
        app[DB] = await aiosqlite.connect(path)
        yield
        await app[DB].close()

    app = web.Application()
    app.cleanup_ctx.append(connection)
    app.router.add_post("/graphql", graphql)
    return app


def main(argv: list[str]) -> None:
    """Serve the bare handler on 127.0.0.1 until killed."""
    path, table, secret, port = argv
    web.run_app(
        make_app(path, table, secret),
        host="127.0.0.1",
        port=int(port),
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
