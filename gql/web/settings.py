"""Settings: `KVGRAPH_*` environment variables or CLI flags, validated once at start-up.

Dev conveniences (`dev`, `insecure_no_auth`) are fields the command line passes in and that no
environment variable can set: a stray `KVGRAPH_DEV=1` on a production host must change nothing.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import orjson
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from gql.kv import Store, open_store
from gql.kv.base import quote_table
from gql.kv.mapping import IDENTITY, AppMapping, load_mapping
from gql.kv.secrets import SecretBox
from gql.schema.limits import Limits
from gql.web.auth import ASYMMETRIC, HMAC
from gql.web.origins import allowed_origins
from gql.web.persisted import Mode, load_manifest
from resolvers.meter import ReadLimits

DEFAULT_STORE_URL = "sqlite:///kvgraph.db"
DEV_JWT_SECRET = "kvgraph-dev-secret-not-for-production-use-0123456789"
# With --dev and no KVGRAPH_API_KEY_SECRET: API keys work in GraphiQL, under a published key.
DEV_API_KEY_SECRET = "kvgraph-dev-api-key-secret-not-for-production-0123456789"
MIN_SECRET_BYTES = 32
BUSY_SHARE = 0.4  # of the execution timeout a SQLite lock is waited for (twice, at most)
CLI_ONLY = frozenset({"dev", "insecure_no_auth"})  # never read from the environment
DEFAULT_CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept",
    "apikey",
    "x-client-info",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "sentry-trace",
    "baggage",
    "traceparent",
    "tracestate",
]
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
Names = Annotated[list[str], NoDecode]  # a JSON list or comma-separated names
LogFormat = Literal["text", "json"]
MIN_METRICS_TOKEN = 16  # characters of the /metrics bearer token


class _Environment(EnvSettingsSource):
    """`KVGRAPH_*` variables, except the command-line-only fields."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name in CLI_ONLY:
            return None, field_name, False
        return super().get_field_value(field, field_name)


class Settings(BaseSettings):
    """Everything the gateway can be told; secrets are SecretStr and never printed."""

    model_config = SettingsConfigDict(env_prefix="KVGRAPH_", extra="ignore")

    store_url: str = Field(DEFAULT_STORE_URL, description="sqlite:///path.db or postgresql://...")
    kv_table: str = Field("kv_store", description="the KV table, e.g. kv_store_fd8c4bf7")
    mapping_file: Path | None = Field(
        None, description="TOML file with the app's names for fields and enum values"
    )
    pg_statement_cache: bool = Field(
        True, description="false behind a transaction-mode pooler (Supabase port 6543)"
    )
    listen_url: SecretStr | None = Field(
        None,
        description="Postgres session URL for LISTEN (subscriptions across processes) when "
        "KVGRAPH_STORE_URL is a transaction-mode pooler (default: KVGRAPH_STORE_URL)",
    )
    allow_rls: bool = Field(
        False,
        description="serve although row-level security filters the table for this role "
        "(only if its policies let the role read and write every row)",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64, description="server processes sharing the port")
    jwt_secret: SecretStr | None = None
    jwt_audience: str = "authenticated"
    jwt_algorithms: Names = Field(
        default_factory=lambda: ["HS256", "ES256", "RS256"],
        description="accepted token algorithms (HS* use the secret, the others the JWKS)",
    )
    jwks_url: str | None = Field(None, description="the project's JWKS (ES256/RS256 keys)")
    jwks_ttl: float = Field(600.0, gt=0, description="seconds the JWKS keys are kept")
    introspection: bool = Field(False, description="allow __schema/__type (always on with --dev)")
    debug_stats: bool = Field(False, description="add extensions.kv = {batches, keys}")
    cors_origins: Names = Field(
        default_factory=list,
        description="browser origins allowed (`null`: sandboxed iframes, file:// pages; `*`: any)",
    )
    cors_headers: Names = Field(
        default_factory=lambda: list(DEFAULT_CORS_HEADERS),
        description="request headers browsers may send (`*`: whatever they ask for)",
    )
    graphiql: bool = True
    graphiql_assets: str = Field(
        "",
        description="folder of GraphiQL files from `kvgraph fetch-graphiql --dest` "
        "(default: the copies packaged with kvgraph)",
    )
    graphiql_cdn: bool = Field(
        False, description="load GraphiQL's files from unpkg.com instead of serving them"
    )
    dev: bool = Field(False, description="--dev only: dev secret, demo data, introspection")
    insecure_no_auth: bool = Field(
        False, description="--insecure-no-auth only: start without any key (all anonymous)"
    )
    max_depth: int = Field(10, ge=1, description="fields nested on an operation's longest path")
    max_aliases: int = Field(15, ge=0, description="aliased fields per operation")
    max_tokens: int = Field(2_000, ge=1, description="lexical tokens per document")
    max_nodes: int = Field(
        50_000, ge=1, description="objects a response may hold (from first/last and nesting)"
    )
    execution_timeout: float = Field(10.0, gt=0, description="seconds a /graphql request gets")
    max_records: int = Field(
        50_000, ge=1, description="records a request may decode (pages, totalCount, lookups)"
    )
    max_bytes: int = Field(
        16 << 20, ge=1, description="characters of stored values a request may read"
    )
    sqlite_busy_timeout: float | None = Field(
        None,
        gt=0,
        description="seconds a SQLite statement waits for a lock (default: 0.4 x the "
        "execution timeout); less than half the execution timeout",
    )
    ready_timeout: float = Field(5.0, gt=0, description="seconds /readyz waits for the store")
    rate_limit: int = Field(
        1_000_000, ge=0, description="nodes per viewer per rate window (0: no limit)"
    )
    rate_limit_anonymous: int = Field(
        200_000, ge=0, description="nodes per client address per window, anonymous (0: none)"
    )
    rate_window: float = Field(60.0, gt=0, description="seconds in which a rate refills")
    persisted_queries: Mode = Field(
        "apq", description="off | apq (Apollo's automatic persisted queries) | allowlist"
    )
    persisted_queries_file: str = Field(
        "", description="registry from `kvgraph register-queries` (needed by allowlist)"
    )
    apq_cache_chars: int = Field(
        8_000_000, ge=0, description="APQ cache bound (total characters of cached documents)"
    )
    api_key_secret: SecretStr | None = Field(
        None, description="encrypts users' API keys at rest (>= 32 bytes); unset: none stored"
    )
    context_history_cap: int = Field(
        50, ge=1, le=1000, description="AI context snapshots kept per conversation (oldest go)"
    )
    log_format: LogFormat = Field(
        "text", description="text (one short line per record) | json (one object per line)"
    )
    access_log: bool = Field(True, description="one line per /graphql request, at INFO")
    metrics: bool = Field(False, description="serve Prometheus metrics on /metrics")
    metrics_token: SecretStr | None = Field(
        None, description="bearer token /metrics requires (at least 16 characters)"
    )
    metrics_max_operations: int = Field(
        100,
        ge=0,
        description="operation names labelled in metrics besides the registered ones "
        "(the first seen; later ones count as (other))",
    )
    _registry: dict[str, str] = PrivateAttr(default_factory=dict)
    _mapping: AppMapping = PrivateAttr(default_factory=lambda: IDENTITY)
    _secret_box: SecretBox | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then the environment (without the command-line-only fields)."""
        return init_settings, _Environment(settings_cls)

    @field_validator("kv_table")
    @classmethod
    def _table_is_a_name(cls, value: str) -> str:
        quote_table(value)
        return value

    @field_validator("store_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value.partition("://")[0] not in {"sqlite", "postgres", "postgresql"}:
            raise ValueError("use sqlite:///path.db or postgresql://user@host/db")
        return value

    @model_validator(mode="after")
    def _rates_fit_a_query(self) -> Settings:
        for name in ("rate_limit", "rate_limit_anonymous"):
            rate = getattr(self, name)
            if 0 < rate < self.max_nodes:
                raise ValueError(
                    f"{name} ({rate}) is below max_nodes ({self.max_nodes}): "
                    "the largest allowed query could never run"
                )
        return self

    @model_validator(mode="after")
    def _locks_give_up_in_time(self) -> Settings:
        busy = self.sqlite_busy_timeout
        if busy is not None and 2 * busy >= self.execution_timeout:
            raise ValueError(
                f"sqlite_busy_timeout ({busy:g}) must be less than half of execution_timeout "
                f"({self.execution_timeout:g}): a write waits for this process's writer and "
                "then for the file, and must give up (503) before the request's deadline (504)"
            )
        return self

    def busy_timeout(self) -> float:
        """Seconds a SQLite statement waits for a lock: a write waits at most twice that."""
        return self.sqlite_busy_timeout or BUSY_SHARE * self.execution_timeout

    def limits(self) -> Limits:
        """The per-operation limits these settings ask for."""
        return Limits(self.max_depth, self.max_aliases, self.max_tokens, self.max_nodes)

    def read_limits(self) -> ReadLimits:
        """What one request may read while it runs."""
        return ReadLimits(self.max_records, self.max_bytes)

    @model_validator(mode="after")
    def _load_registry(self) -> Settings:
        if self.persisted_queries == "allowlist" and not self.persisted_queries_file:
            raise ValueError("persisted_queries=allowlist needs KVGRAPH_PERSISTED_QUERIES_FILE")
        if self.persisted_queries_file:
            self._registry = load_manifest(self.persisted_queries_file)
        return self

    @field_validator("metrics_token")
    @classmethod
    def _long_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_METRICS_TOKEN:
            raise ValueError(f"must be at least {MIN_METRICS_TOKEN} characters")
        return value

    @model_validator(mode="after")
    def _metrics_token_needs_metrics(self) -> Settings:
        if self.metrics_token is not None and not self.metrics:
            raise ValueError("KVGRAPH_METRICS_TOKEN is set but KVGRAPH_METRICS is off")
        return self

    def persisted_registry(self) -> dict[str, str]:
        """The registered documents by SHA-256 (read once, at validation)."""
        return self._registry

    @field_validator("mapping_file")
    @classmethod
    def _mapping_is_usable(cls, value: Path | None) -> Path | None:
        if value is not None:
            load_mapping(value)  # every problem of the file, at start-up
        return value

    def model_post_init(self, context: Any) -> None:
        if self.mapping_file is not None:
            self._mapping = load_mapping(self.mapping_file)
        secret = self.api_key_secret.get_secret_value() if self.api_key_secret else None
        if secret is None and self.dev:
            secret = DEV_API_KEY_SECRET
        self._secret_box = SecretBox(secret) if secret is not None else None

    def secret_box(self) -> SecretBox | None:
        """What encrypts users' API keys (None: no key configured, none are stored)."""
        return self._secret_box

    def api_key_notes(self) -> list[str]:
        """What an operator should know about API keys as configured (printed at start)."""
        if self.api_key_secret is not None:
            return []
        if self.dev:
            return ["API keys are encrypted with the published dev key (--dev only)"]
        return [
            "API keys are off: KVGRAPH_API_KEY_SECRET is not set, so setApiKey refuses "
            "(set it to a random secret of at least 32 bytes to store them encrypted)"
        ]

    @field_validator("api_key_secret")
    @classmethod
    def _strong_api_key_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        clear = value.get_secret_value()
        if clear in (DEV_API_KEY_SECRET, DEV_JWT_SECRET):
            raise ValueError("is a published dev secret: use a random secret of your own")
        size = len(clear.encode())
        if size < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes (got {size})")
        return value

    def mapping(self) -> AppMapping:
        """The app's names for fields and enum values (identity without a mapping file)."""
        return self._mapping

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        clear = value.get_secret_value()
        if clear == DEV_JWT_SECRET:
            raise ValueError("is the published dev secret: use your project's JWT secret")
        size = len(clear.encode())
        if size < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes (got {size})")
        return value

    @field_validator("jwt_algorithms", "cors_origins", "cors_headers", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return orjson.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("jwt_algorithms")
    @classmethod
    def _known_algorithms(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in HMAC | ASYMMETRIC]
        if unknown or not value:
            known = ", ".join(sorted(HMAC | ASYMMETRIC))
            raise ValueError(f"use a list of {known} (got {', '.join(unknown) or 'nothing'})")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return allowed_origins(value)

    @field_validator("cors_headers")
    @classmethod
    def _header_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if name != "*" and not _HEADER_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"not header names: {', '.join(map(repr, bad))}")
        return value

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
            return value
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                "use https://<project>.supabase.co/auth/v1/.well-known/jwks.json "
                "(http only on localhost)"
            )
        return value

    @model_validator(mode="after")
    def _algorithms_have_keys(self) -> Settings:
        if self.jwks_url and not ASYMMETRIC.intersection(self.jwt_algorithms):
            raise ValueError(
                "KVGRAPH_JWKS_URL is set but KVGRAPH_JWT_ALGORITHMS names no ES/RS algorithm"
            )
        if self.jwt_secret and not HMAC.intersection(self.jwt_algorithms):
            raise ValueError(
                "KVGRAPH_JWT_SECRET is set but KVGRAPH_JWT_ALGORITHMS names no HS algorithm"
            )
        return self

    def make_store(self) -> Store:
        """An unopened store for these settings."""
        return open_store(
            self.store_url,
            self.kv_table,
            pg_statement_cache=self.pg_statement_cache,
            sqlite_busy_timeout=self.busy_timeout(),
            listen_url=self.listen_url.get_secret_value() if self.listen_url else None,
        )

    def secret(self) -> str | None:
        """The HS256 secret in clear, for signing and verifying only: the dev one with --dev."""
        if self.dev:
            return DEV_JWT_SECRET
        return self.jwt_secret.get_secret_value() if self.jwt_secret else None

    def real_keys(self) -> bool:
        """Whether a production secret or JWKS is configured."""
        return self.jwt_secret is not None or self.jwks_url is not None

    def metrics_warnings(self) -> list[str]:
        """What an operator should know about /metrics as configured (printed at start)."""
        if not self.metrics:
            return []
        found = []
        if self.metrics_token is None and not _is_loopback(self.host):
            found.append(
                "/metrics answers anyone who reaches this port: set KVGRAPH_METRICS_TOKEN "
                "or keep the port private"
            )
        if self.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            found.append(
                f"each of the {self.workers} workers counts on its own and a scrape of "
                "/metrics reaches one of them: set PROMETHEUS_MULTIPROC_DIR to an empty "
                "folder to add them up (docs/observability.md)"
            )
        return found

    def introspection_on(self) -> bool:
        """Introspection: off in production unless configured, always on with --dev."""
        return self.introspection or self.dev


def _is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_errors(exc: ValidationError) -> list[str]:
    """One short line per invalid setting, named as its variable; values are never shown."""
    lines = []
    for error in exc.errors():
        where = f"KVGRAPH_{str(error['loc'][0]).upper()}: " if error["loc"] else ""
        lines.append(where + error["msg"].removeprefix("Value error, "))
    return lines
