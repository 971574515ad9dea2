from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, HttpUrl, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting a function reads, validated once at cold start."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str | None = Field(default=None, description="postgresql://user:password@host:port/name (local use)")
    db_host: str | None = None
    db_port: int = 5432
    db_name: str | None = None
    db_user: str | None = None
    db_password_secret_arn: str | None = Field(default=None, description="Secrets Manager secret with a 'password' key")
    db_iam_auth: bool = False
    db_ssl: bool = False
    db_connect_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0

    kms_key_id: str = Field(min_length=1)
    graph_api_base_url: HttpUrl = HttpUrl("https://graph.facebook.com")
    graph_api_version: str = Field(default="v25.0", pattern=r"^v\d{2}\.0$")
    graph_timeout_seconds: Annotated[float, Field(gt=0, le=25)] = 8.0

    tenant_claim: str = Field(default="tenant_id", min_length=1)
    meta_calls_per_minute: Annotated[int, Field(ge=1, le=10_000)] = 30
    max_request_body_bytes: Annotated[int, Field(ge=1024, le=1_048_576)] = 16_384
    aws_region: str = "us-east-1"

    # Provisioning through Evolution API (connect, disconnect, delete)
    provisioning_queue_url: str | None = None
    evolution_base_url: HttpUrl | None = None
    evolution_api_key_secret_arn: str | None = Field(default=None, description="Secrets Manager secret: the global key")
    evolution_webhook_url: HttpUrl | None = Field(default=None, description="Where Evolution posts its webhooks")
    evolution_timeout_seconds: Annotated[float, Field(gt=0, le=25)] = 10.0
    provisioning_max_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    provisioning_retry_base_seconds: Annotated[int, Field(ge=1, le=900)] = 10
    provisioning_retry_max_seconds: Annotated[int, Field(ge=1, le=43_200)] = 900

    # Status sync
    status_sync_queue_url: str | None = None
    status_sync_interval_minutes: Annotated[int, Field(ge=1, le=1440)] = 5
    status_sync_meta_calls_per_waba_per_hour: Annotated[int, Field(ge=1, le=5_000)] = 60

    # Evolution's webhooks and the domain events they cause
    webhook_hmac_key_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret: the key of the token HMAC that checks `apikey`"
    )
    event_bus_name: str | None = None
    max_webhook_body_bytes: Annotated[int, Field(ge=1024, le=6_291_456)] = 262_144

    @model_validator(mode="after")
    def _database_is_configured(self) -> Settings:
        if self.database_url is None and not (self.db_host and self.db_name and self.db_user):
            raise ValueError("set DATABASE_URL, or DB_HOST, DB_NAME and DB_USER")
        return self

    def require(self, *names: str) -> None:
        """A function that needs optional settings checks them at cold start, with a message naming them."""
        missing = [name.upper() for name in names if getattr(self, name) in (None, "")]
        if missing:
            raise ValueError(f"missing settings: {', '.join(missing)}")

    @property
    def graph_root(self) -> str:
        return f"{str(self.graph_api_base_url).rstrip('/')}/{self.graph_api_version}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
