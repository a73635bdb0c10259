"""Settings: `KVGRAPH_*` environment variables or CLI flags, validated once at start-up."""

from __future__ import annotations

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gql.kv import Store, open_store
from gql.kv.base import quote_table
from gql.web.persisted import Mode, load_manifest

DEFAULT_STORE_URL = "sqlite:///kvgraph.db"
DEV_JWT_SECRET = "kvgraph-dev-secret-not-for-production-use-0123456789"


class Settings(BaseSettings):
    """Everything the gateway can be told; secrets are SecretStr and never printed."""

    model_config = SettingsConfigDict(env_prefix="KVGRAPH_", extra="ignore")

    store_url: str = Field(DEFAULT_STORE_URL, description="sqlite:///path.db or postgresql://...")
    kv_table: str = Field("kv_store", description="the KV table, e.g. kv_store_fd8c4bf7")
    pg_statement_cache: bool = Field(
        True, description="false behind a transaction-mode pooler (Supabase port 6543)"
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
    def _load_registry(self) -> Settings:
        if self.persisted_queries == "allowlist" and not self.persisted_queries_file:
            raise ValueError("persisted_queries=allowlist needs KVGRAPH_PERSISTED_QUERIES_FILE")
        if self.persisted_queries_file:
            self._registry = load_manifest(self.persisted_queries_file)
        return self

    def persisted_registry(self) -> dict[str, str]:
        """The registered documents by SHA-256 (read once, at validation)."""
        return self._registry

    def make_store(self) -> Store:
        """An unopened store for these settings."""
        return open_store(self.store_url, self.kv_table, pg_statement_cache=self.pg_statement_cache)

    def secret(self) -> str | None:
        """The JWT secret in clear, for signing and verifying only."""
        return self.jwt_secret.get_secret_value() if self.jwt_secret else None
