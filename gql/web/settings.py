"""Settings: `KVGRAPH_*` environment variables or CLI flags, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gql.kv import Store, open_store
from gql.kv.base import quote_table
from gql.kv.mapping import IDENTITY, AppMapping, load_mapping
from gql.schema.limits import Limits
from gql.web.persisted import Mode, load_manifest

DEFAULT_STORE_URL = "sqlite:///kvgraph.db"
DEV_JWT_SECRET = "kvgraph-dev-secret-not-for-production-use-0123456789"


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
    insecure_no_auth: bool = Field(
        False, description="start without a JWT secret (every request is anonymous)"
    )
    debug_stats: bool = Field(False, description="add extensions.kv = {batches, keys}")
    cors_origins: list[str] = Field(default_factory=list, description="allowed browser origins")
    graphiql: bool = True
    graphiql_assets: str = Field(
        "", description="folder of GraphiQL files from `kvgraph fetch-graphiql` (served offline)"
    )
    dev: bool = False
    max_depth: int = Field(10, ge=1, description="fields nested on an operation's longest path")
    max_aliases: int = Field(15, ge=0, description="aliased fields per operation")
    max_tokens: int = Field(2_000, ge=1, description="lexical tokens per document")
    max_nodes: int = Field(
        50_000, ge=1, description="objects a response may hold (from first/last and nesting)"
    )
    execution_timeout: float = Field(10.0, gt=0, description="seconds a /graphql request gets")
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
    _registry: dict[str, str] = PrivateAttr(default_factory=dict)
    _mapping: AppMapping = PrivateAttr(default_factory=lambda: IDENTITY)

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

    def limits(self) -> Limits:
        """The per-operation limits these settings ask for."""
        return Limits(self.max_depth, self.max_aliases, self.max_tokens, self.max_nodes)

    @model_validator(mode="after")
    def _load_registry(self) -> Settings:
        if self.persisted_queries == "allowlist" and not self.persisted_queries_file:
            raise ValueError("persisted_queries=allowlist needs KVGRAPH_PERSISTED_QUERIES_FILE")
        if self.persisted_queries_file:
            self._registry = load_manifest(self.persisted_queries_file)
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

    def mapping(self) -> AppMapping:
        """The app's names for fields and enum values (identity without a mapping file)."""
        return self._mapping

    def make_store(self) -> Store:
        """An unopened store for these settings."""
        return open_store(self.store_url, self.kv_table, pg_statement_cache=self.pg_statement_cache)

    def secret(self) -> str | None:
        """The JWT secret in clear, for signing and verifying only."""
        return self.jwt_secret.get_secret_value() if self.jwt_secret else None
