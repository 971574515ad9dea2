"""Every setting a function reads, from its environment, typed and validated once at cold start.

Plain pydantic rather than pydantic-settings: the environment is read by one small function, and every cold
start is spared the extra import.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated

from pydantic import ConfigDict, Field, FilePath, HttpUrl, model_validator

from whatsapp_integrations.domain.model import Model

# SQS hides a message for at most 12 hours (ChangeMessageVisibility).
MAX_RETRY_DELAY_SECONDS = 43_200


class RetryPolicy(Model):
    """How a queue worker retries one message: exponential backoff with jitter from `base_seconds` up to
    `cap_seconds`, `max_attempts` deliveries in all. The template's `maxReceiveCount` is the same number, so the
    last attempt the worker sees is the one after which SQS dead-letters the message."""

    model_config = ConfigDict(frozen=True)

    base_seconds: Annotated[int, Field(ge=1, le=MAX_RETRY_DELAY_SECONDS)]
    cap_seconds: Annotated[int, Field(ge=1, le=MAX_RETRY_DELAY_SECONDS)]
    max_attempts: Annotated[int, Field(ge=1, le=50)]

    def delay_seconds(self, attempt: int, retry_after: int | None = None) -> int:
        """Backoff before the delivery after the `attempt`-th failure, never shorter than the other side asked."""
        ceiling = min(self.base_seconds * 2 ** (attempt - 1), self.cap_seconds, MAX_RETRY_DELAY_SECONDS)
        jittered = int(ceiling * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not cryptography
        return max(min(retry_after or 0, MAX_RETRY_DELAY_SECONDS), jittered)

    def is_last(self, attempt: int) -> bool:
        return attempt >= self.max_attempts

    @property
    def budget_seconds(self) -> int:
        """The longest the retries of one message can take: past it, the work was lost."""
        return self.cap_seconds * self.max_attempts


class Settings(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    database_url: str | None = Field(default=None, description="postgresql://user:password@host:port/name (local use)")
    db_host: str | None = None
    db_port: int = 5432
    db_name: str | None = None
    db_user: str | None = None
    db_password_secret_arn: str | None = Field(default=None, description="Secrets Manager secret with a 'password' key")
    db_iam_auth: bool = False
    db_ssl: bool = False
    db_ca_bundle: FilePath | None = Field(
        default=None,
        description="PEM file of the CAs the database's certificate must chain to (an RDS instance's bundle); "
        "unset: the system's trust store (RDS Proxy, public CAs)",
    )
    db_connect_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0

    kms_key_id: str = Field(min_length=1)
    graph_api_base_url: HttpUrl = HttpUrl("https://graph.facebook.com")
    graph_api_version: str = Field(default="v25.0", pattern=r"^v\d{2}\.0$")
    graph_timeout_seconds: Annotated[float, Field(gt=0, le=25)] = 8.0

    tenant_claim: str = Field(default="tenant_id", min_length=1)
    meta_calls_per_minute: Annotated[int, Field(ge=1, le=10_000)] = 30
    tenant_requests_per_minute: Annotated[int, Field(ge=1, le=100_000)] = 120
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
    provisioning_retry_max_seconds: Annotated[int, Field(ge=1, le=MAX_RETRY_DELAY_SECONDS)] = 900

    # Status sync
    status_sync_queue_url: str | None = None
    status_sync_interval_minutes: Annotated[int, Field(ge=1, le=1440)] = 5
    status_sync_meta_calls_per_waba_per_hour: Annotated[int, Field(ge=1, le=5_000)] = 60
    status_sync_max_attempts: Annotated[int, Field(ge=1, le=50)] = 5
    status_sync_retry_base_seconds: Annotated[int, Field(ge=1, le=900)] = 30
    status_sync_retry_max_seconds: Annotated[int, Field(ge=1, le=MAX_RETRY_DELAY_SECONDS)] = 900

    # Evolution's webhooks and the domain events they cause
    webhook_hmac_key_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret: the key of the token HMAC that checks `apikey`"
    )
    event_bus_name: str | None = None
    max_webhook_body_bytes: Annotated[int, Field(ge=1024, le=6_291_456)] = 262_144

    # The outbox: what a state change sends, kept until it is sent
    outbox_sweep_after_seconds: Annotated[int, Field(ge=1, le=3600)] = 20

    # Meta's webhooks through our relay
    public_api_url: HttpUrl | None = Field(
        default=None, description="This API's public base URL; Meta calls <it>/webhooks/meta/{id} (PublicApiUrl)"
    )
    relay_queue_url: str | None = None
    # Looked into by the diagnosis (this integration's messages waiting there)
    provisioning_dead_letter_queue_url: str | None = None
    relay_dead_letter_queue_url: str | None = None
    test_messages_per_hour: Annotated[int, Field(ge=1, le=1000)] = 10
    relay_max_attempts: Annotated[int, Field(ge=1, le=50)] = 12
    relay_retry_base_seconds: Annotated[int, Field(ge=1, le=900)] = 5
    relay_retry_max_seconds: Annotated[int, Field(ge=1, le=MAX_RETRY_DELAY_SECONDS)] = 300
    # Meta batches up to 3 MB per post (meta-cloud-api.md A3); a Lambda payload holds 6 MB.
    max_meta_webhook_body_bytes: Annotated[int, Field(ge=1024, le=6_000_000)] = 3_145_728

    @model_validator(mode="after")
    def _database_is_configured(self) -> Settings:
        if self.database_url is None and not (self.db_host and self.db_name and self.db_user):
            raise ValueError("set DATABASE_URL, or DB_HOST, DB_NAME and DB_USER")
        return self

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Settings:
        """Each field from the variable of the same name in upper case; an empty variable counts as unset."""
        source = os.environ if environment is None else environment
        values = {name: source[name.upper()] for name in cls.model_fields if source.get(name.upper())}
        return cls.model_validate(values)

    def require(self, *names: str) -> None:
        """A function that needs optional settings checks them at cold start, with a message naming them."""
        missing = [name.upper() for name in names if getattr(self, name) in (None, "")]
        if missing:
            raise ValueError(f"missing settings: {', '.join(missing)}")

    @property
    def graph_root(self) -> str:
        return f"{str(self.graph_api_base_url).rstrip('/')}/{self.graph_api_version}"

    @property
    def provisioning_retry(self) -> RetryPolicy:
        return RetryPolicy(
            base_seconds=self.provisioning_retry_base_seconds,
            cap_seconds=self.provisioning_retry_max_seconds,
            max_attempts=self.provisioning_max_attempts,
        )

    @property
    def relay_retry(self) -> RetryPolicy:
        return RetryPolicy(
            base_seconds=self.relay_retry_base_seconds,
            cap_seconds=self.relay_retry_max_seconds,
            max_attempts=self.relay_max_attempts,
        )

    @property
    def status_sync_retry(self) -> RetryPolicy:
        return RetryPolicy(
            base_seconds=self.status_sync_retry_base_seconds,
            cap_seconds=self.status_sync_retry_max_seconds,
            max_attempts=self.status_sync_max_attempts,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()
