"""Typed keys of the aiohttp application (`web.AppKey`)."""

from __future__ import annotations

from aiohttp import web

from gql.kv.base import Store
from gql.web.auth import Authenticator
from gql.web.metrics import Metrics
from gql.web.observe import AccessLog
from gql.web.ratelimit import RateLimiter
from gql.web.release import Release
from gql.web.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
AUTH = web.AppKey("auth", Authenticator)
LIMITER = web.AppKey("limiter", RateLimiter)
METRICS = web.AppKey("metrics", Metrics)
RELEASE = web.AppKey("release", Release)
ACCESS_LOG = web.AppKey("access_log", AccessLog)
