"""Settings: `KVGRAPH_*` environment variables or CLI flags, validated once at start-up."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gql.kv import Store, open_store
from gql.kv.base import quote_table

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

    def make_store(self) -> Store:
        """An unopened store for these settings."""
        return open_store(self.store_url, self.kv_table, pg_statement_cache=self.pg_statement_cache)

    def secret(self) -> str | None:
        """The JWT secret in clear, for signing and verifying only."""
        return self.jwt_secret.get_secret_value() if self.jwt_secret else None
