"""Rate limits: per viewer and, for anonymous requests, per client address, charged in nodes.

A query is charged its node count (`gql.schema.limits.NodeCount`) or its lexical tokens,
whichever is more (at least 1), so one trip board costs what a hundred small queries cost and
a long document pays for its parsing and validation. A document refused before it runs (it
does not parse or validate, breaks a limit, has bad variables) is charged its tokens all the
same, even into debt: validating it was work. Each key has a token bucket holding up to one
window's allowance and refilling at allowance/window per second; a query the bucket cannot
pay is refused before it runs with 429, `Retry-After` (whole seconds until the bucket holds
its cost) and `extensions.code = RATE_LIMITED`, and a client whose bucket is empty or in debt
is refused so before its request is even read.

The buckets live in this process's memory: with several workers (`KVGRAPH_WORKERS`) or hosts,
each process counts on its own. Anonymous clients are keyed by their address as the socket
sees it (an IPv6 client by its /64 network); behind a reverse proxy they all share the
proxy's address.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from aiohttp import web
from graphql import GraphQLError

from gql.schema.errors import RATE_LIMITED
from gql.web.settings import Settings
from resolvers.context import Context

RETRY_AFTER = web.RequestKey("retry_after", int)
MAX_KEYS = 50_000  # buckets kept; the least recently used go first (a full bucket is a new one)


class Buckets:
    """Token buckets of `allowance` tokens refilled over `window` seconds, one per key."""

    def __init__(
        self,
        allowance: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.allowance, self.window, self.rate = allowance, window, allowance / window
        self.clock, self.max_keys = clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, amount: int) -> float:
        """Take `amount` tokens: 0.0 if they were there, else the seconds until they will be.

        An amount over the allowance costs the whole allowance (it needs a full bucket).
        """
        amount = min(amount, self.allowance)
        tokens = self._tokens(key)
        wait = 0.0 if tokens >= amount else (amount - tokens) / self.rate
        self._keep(key, tokens - amount if not wait else tokens)
        return wait

    def charge(self, key: str, amount: int) -> None:
        """Take `amount` tokens (at most the allowance) whatever the bucket holds: it may go
        into debt, refilled like any other shortfall."""
        self._keep(key, self._tokens(key) - min(amount, self.allowance))

    def wait(self, key: str) -> float:
        """Seconds until the bucket holds at least one token (0.0: it does now)."""
        tokens = self._tokens(key)
        self._keep(key, tokens)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _tokens(self, key: str) -> float:
        """What the bucket holds now (a new key: a full bucket); the key is taken out."""
        now = self.clock()
        tokens, since = self._buckets.pop(key, (float(self.allowance), now))
        return min(float(self.allowance), tokens + (now - since) * self.rate)

    def _keep(self, key: str, tokens: float) -> None:
        """Put the key back as the most recently used, dropping the least recently used; a
        full bucket is not kept (a key without one has a full bucket)."""
        if tokens >= self.allowance:
            return
        self._buckets[key] = (tokens, self.clock())
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def prune(self) -> int:
        """Drop the buckets that have refilled since last used; how many were dropped."""
        now, full = self.clock(), float(self.allowance)
        refilled = [
            key
            for key, (tokens, since) in self._buckets.items()
            if tokens + (now - since) * self.rate >= full
        ]
        for key in refilled:
            del self._buckets[key]
        return len(refilled)

    def __len__(self) -> int:
        return len(self._buckets)


def client_key(request: web.Request) -> str:
    """The key of an anonymous client: its address (an IPv6 address by its /64 network)."""
    remote = request.remote or "unknown"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return f"ip:{remote}"
    if address.version == 6:
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


class RateLimiter:
    """Charges each operation's node count to its viewer's or its client's bucket."""

    def __init__(self, viewers: Buckets | None, anonymous: Buckets | None) -> None:
        self.viewers, self.anonymous = viewers, anonymous

    @classmethod
    def of(cls, settings: Settings) -> RateLimiter:
        """The limiter `settings` ask for (a rate of 0 is no limit)."""
        window, viewers, anonymous = settings.rate_window, None, None
        if settings.rate_limit:
            viewers = Buckets(settings.rate_limit, window)
        if settings.rate_limit_anonymous:
            anonymous = Buckets(settings.rate_limit_anonymous, window)
        return cls(viewers, anonymous)

    def limits(self, context: Context) -> bool:
        """Whether the operation's client has a bucket to charge (`admit`, `charge`)."""
        if not isinstance(context.request, web.Request):
            return False
        return (self.viewers if context.viewer_id is not None else self.anonymous) is not None

    def prune(self) -> None:
        """Drop the buckets that have refilled (after a burst of clients left)."""
        for buckets in (self.viewers, self.anonymous):
            if buckets is not None:
                buckets.prune()

    def _bucket(self, viewer_id: str | None, request: web.Request) -> tuple[Buckets | None, str]:
        if viewer_id is not None:
            return self.viewers, f"viewer:{viewer_id}"
        return self.anonymous, client_key(request)

    def admit(self, context: Context, cost: int) -> GraphQLError | None:
        """None if the operation may run; else its RATE_LIMITED error (and a 429 to come)."""
        request = context.request
        if not isinstance(request, web.Request):
            return None
        buckets, key = self._bucket(context.viewer_id, request)
        if buckets is None:
            return None
        wait = buckets.take(key, max(cost, 1))
        if not wait:
            return None
        retry = math.ceil(wait)
        request[RETRY_AFTER] = max(retry, request.get(RETRY_AFTER, 0))
        message = (
            f"Rate limit exceeded: this query costs {cost:,} nodes and the allowance is "
            f"{buckets.allowance:,} per {buckets.window:g} s. "
            f"Try again in {retry} s."
        )
        return rate_limited(message, retry)

    def charge(self, context: Context, cost: int) -> None:
        """Charge a document refused before it ran: its client may go into debt."""
        request = context.request
        if isinstance(request, web.Request):
            buckets, key = self._bucket(context.viewer_id, request)
            if buckets is not None:
                buckets.charge(key, max(cost, 1))

    def check(self, viewer_id: str | None, request: web.Request) -> None:
        """Raise RateLimitedError if the client has nothing left (before its request is read)."""
        buckets, key = self._bucket(viewer_id, request)
        wait = buckets.wait(key) if buckets is not None else 0.0
        if buckets is not None and wait:
            retry = math.ceil(wait)
            message = (
                f"Rate limit exceeded: the allowance of {buckets.allowance:,} per "
                f"{buckets.window:g} s is spent. Try again in {retry} s."
            )
            raise RateLimitedError(message, retry)


class RateLimitedError(Exception):
    """A client with nothing left in its bucket: a 429 before its request is read."""

    def __init__(self, message: str, retry: int) -> None:
        super().__init__(message)
        self.message, self.retry = message, retry


def rate_limited(message: str, retry: int) -> GraphQLError:
    """A RATE_LIMITED error saying when to try again."""
    return GraphQLError(message, extensions={"code": RATE_LIMITED, "retryAfter": retry})
