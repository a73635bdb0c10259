"""Who a request is, and the Context each of its operations runs with, whatever the transport.

The view checks a request's token once (`Authenticator.identity`) and keeps what it verified
on the request (`IDENTITY`): the viewer, and the `exp` at which a socket opened with it
closes. An HTTP request's Context and each subscription's on a socket are built here, by one
function, so a setting that reaches the resolvers (the store, the mapping, the read limits,
the API-key box, the context history cap, the event timeout...) reaches them over both
(`Shared`, read from the settings once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gql.kv.base import Store
from gql.kv.mapping import AppMapping
from gql.kv.secrets import SecretBox
from gql.web.auth import Verified, Viewer
from gql.web.settings import Settings
from resolvers.context import Context
from resolvers.meter import ReadLimits

IDENTITY = web.RequestKey("identity", Verified)


@dataclass(frozen=True)
class Shared:
    """What every operation's Context takes from the app: read from the settings once, when
    the store opens, not for each request."""

    store: Store
    mapping: AppMapping
    read_limits: ReadLimits
    secret_box: SecretBox | None
    debug_stats: bool
    context_history_cap: int
    event_seconds: float

    @classmethod
    def of(cls, settings: Settings, store: Store) -> Shared:
        """The app's shared part of every Context."""
        return cls(
            store=store,
            mapping=settings.mapping(),
            read_limits=settings.read_limits(),
            secret_box=settings.secret_box(),
            debug_stats=settings.debug_stats,
            context_history_cap=settings.context_history_cap,
            event_seconds=settings.execution_timeout,
        )


SHARED = web.AppKey("context_shared", Shared)


def request_viewer(request: web.Request) -> Viewer | None:
    """The viewer the request's token named (None: anonymous, or the `anon` role)."""
    identity = request.get(IDENTITY)
    return identity.viewer if identity is not None else None


def operation_context(
    request: web.Request, viewer: Viewer | None, response: Any, **extra: Any
) -> Context:
    """A fresh Context for one operation of `request` (an HTTP request, or a subscription on
    its socket) as `viewer`; `extra`: what only that transport has."""
    shared = request.app[SHARED]
    return Context(
        store=shared.store,
        mapping=shared.mapping,
        viewer_id=viewer.user_id if viewer else None,
        role=viewer.role if viewer else None,
        request=request,
        response=response,
        debug_stats=shared.debug_stats,
        read_limits=shared.read_limits,
        secret_box=shared.secret_box,
        context_history_cap=shared.context_history_cap,
        event_seconds=shared.event_seconds,
        **extra,
    )
