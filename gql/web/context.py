"""Who a request is, and the Context each of its operations runs with, whatever the transport.

The view checks a request's token once (`Authenticator.identity`) and keeps what it verified
on the request (`IDENTITY`): the viewer, and the `exp` at which a socket opened with it
closes. An HTTP request's Context and each subscription's on a socket are built here, by one
function, so a setting that reaches the resolvers (the store, the mapping, the read limits,
the API-key box, the context history cap, the event timeout...) reaches them over both.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gql.web.appkeys import SETTINGS, STORE
from gql.web.auth import Verified, Viewer
from resolvers.context import Context

IDENTITY = web.RequestKey("identity", Verified)


def request_viewer(request: web.Request) -> Viewer | None:
    """The viewer the request's token named (None: anonymous, or the `anon` role)."""
    identity = request.get(IDENTITY)
    return identity.viewer if identity is not None else None


def operation_context(
    request: web.Request, viewer: Viewer | None, response: Any, **extra: Any
) -> Context:
    """A fresh Context for one operation of `request` (an HTTP request, or a subscription on
    its socket) as `viewer`; `extra`: what only that transport has."""
    settings = request.app[SETTINGS]
    return Context(
        store=request.app[STORE],
        mapping=settings.mapping(),
        viewer_id=viewer.user_id if viewer else None,
        role=viewer.role if viewer else None,
        request=request,
        response=response,
        debug_stats=settings.debug_stats,
        read_limits=settings.read_limits(),
        secret_box=settings.secret_box(),
        context_history_cap=settings.context_history_cap,
        event_seconds=settings.execution_timeout,
        **extra,
    )
