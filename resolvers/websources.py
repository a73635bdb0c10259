"""Cached web pages (`websource:{hash}`): written and read by server-side code (the service
role), looked up by URL or by hash.

The hash is kvgraph's definition, the one `docs/api.md` documents: the lowercase hex SHA-256
of the UTF-8 bytes of the normalized URL (`normalize_url`), so every spelling of one page
(`HTTPS://Example.com:443#top`, `https://example.com/`) is one record, and an app can compute
the key itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.keys import is_id
from gql.kv.repo import now
from resolvers import validate as v
from resolvers.access import may_write, record
from resolvers.common import Outcome, Problem, written
from resolvers.context import Context
from resolvers.errors import bad_input

URL_MAX = 2_048  # characters of a normalized URL
PAGE_MAX = 500_000  # characters of a cached page's content
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str) -> str:
    """The normalized form of an http(s) URL, or ValueError saying why there is none.

    Surrounding whitespace is trimmed; the scheme and host are lowercased (a non-ASCII host
    is written in its IDNA form, `xn--...`); the scheme's default port (80, 443) is dropped;
    an empty path is `/`; an empty query (`?`) and the fragment are dropped. Everything else
    (path, query, percent-escapes, their case and order) is kept as given, because servers
    may tell those apart.
    """
    text = url.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError("a URL must not contain spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("only http and https URLs are cached")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL with a user name or password is not cached")
    host = _host(parts)
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    normal = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    if len(normal) > URL_MAX:
        raise ValueError(f"a URL must be at most {URL_MAX:,} characters")
    return normal


def _host(parts: SplitResult) -> str:
    """The URL's host, lowercased, IDNA-encoded, IPv6 in brackets."""
    host = parts.hostname or ""
    if not host:
        raise ValueError("a URL needs a host")
    if ":" in host:  # IPv6
        return f"[{host}]"
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"host {host!r} is not a valid domain name") from None


def url_hash(url: str) -> str:
    """The key parameter of a page: lowercase hex SHA-256 of its normalized URL."""
    return hashlib.sha256(normalize_url(url).encode("utf-8")).hexdigest()


@dataclass(slots=True)
class WebSourceArgs:
    """`webSource(url:, hash:)`: exactly one of them."""

    url: str | None = None
    hash: str | None = None


def _hash_of(url: str | None, hash_: str | None) -> str | Problem:
    """The hash a lookup names (by URL or by hash), or why it names none."""
    if (url is None) == (hash_ is None):
        return Problem(None, "give exactly one of url and hash")
    if url is not None:
        try:
            return url_hash(url)
        except ValueError as exc:
            return Problem("url", str(exc))
    assert hash_ is not None
    return hash_ if is_id(hash_) else Problem("hash", "not a hash")


async def web_source(ctx: Context, args: WebSourceArgs) -> m.WebSource | None:
    """`webSource(url:, hash:)`: a cached page, for the service role (null for anyone else);
    a malformed URL is BAD_USER_INPUT."""
    found = _hash_of(args.url, args.hash)
    if isinstance(found, Problem):
        raise bad_input(f"{found.field}: {found.message}" if found.field else found.message)
    return await record(ctx, e.WEBSOURCE, found)


async def by_hash(ctx: Context, hash_: str) -> m.WebSource | None:
    """A cached page by its hash (for `node(nodeId:)`), for the service role."""
    return await record(ctx, e.WEBSOURCE, hash_)


async def upsert_web_source(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Cache a page under the hash of its URL: created, or its fields replaced (those left
    out kept); `fetchedAt` now unless given. The service role only."""
    may_write(ctx, e.WEBSOURCE)
    try:
        url = normalize_url(data["url"])
    except ValueError as exc:
        return Outcome.fail(str(exc), "url")
    limits = {"title": (v.TITLE_MAX, False), "content": (PAGE_MAX, False)}
    if problems := v.text_fields(data, limits):
        return Outcome(None, problems)
    at = data.get("fetchedAt")
    fetched = now() if at is None else v.iso_datetime(at)
    hash_ = url_hash(url)
    page = {name: value for name, value in data.items() if value is not None}
    page |= {"url": url, "fetchedAt": fetched}
    upsert = ctx.repo.revise(e.WEBSOURCE, [hash_], lambda _: page, create=True)
    return await written(ctx, upsert)


async def delete_web_source(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a cached page by URL or hash; the service role only."""
    may_write(ctx, e.WEBSOURCE, "change")
    found = _hash_of(data.get("url"), data.get("hash"))
    if isinstance(found, Problem):
        return Outcome(None, [found])
    if await record(ctx, e.WEBSOURCE, found) is None:
        return Outcome.fail("web source not found", "url" if "url" in data else "hash", "NOT_FOUND")
    return await written(ctx, ctx.repo.delete(e.WEBSOURCE, found))
