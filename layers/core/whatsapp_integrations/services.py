"""The adapters a use case needs, built once per execution environment and passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
import httpx

from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.domain_events import DomainEvents
from whatsapp_integrations.adapters.graph_client import GraphClient
from whatsapp_integrations.adapters.provisioning_queue import ProvisioningQueue
from whatsapp_integrations.adapters.secret_cipher import SecretCipher
from whatsapp_integrations.adapters.status_sync_queue import StatusSyncQueue
from whatsapp_integrations.settings import Settings, get_settings

if TYPE_CHECKING:
    from whatsapp_integrations.adapters.evolution_client import EvolutionClient


def utc_now() -> datetime:
    return datetime.now(UTC)


class NotConfigured(RuntimeError):
    pass


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    cipher: SecretCipher
    graph: GraphClient
    clock: Callable[[], datetime] = utc_now
    provisioning_queue: ProvisioningQueue | None = None
    evolution_factory: Callable[[], EvolutionClient] | None = None
    domain_events: DomainEvents | None = None
    status_sync_queue: StatusSyncQueue | None = None

    @property
    def queue(self) -> ProvisioningQueue:
        if self.provisioning_queue is None:
            raise NotConfigured("PROVISIONING_QUEUE_URL is not set")
        return self.provisioning_queue

    def webhook_hmac_key(self) -> bytes:
        """The server-side key of the token HMAC (Secrets Manager, cached by Powertools parameters)."""
        if not self.settings.webhook_hmac_key_secret_arn:
            raise NotConfigured("WEBHOOK_HMAC_KEY_SECRET_ARN is not set")
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(self.settings.webhook_hmac_key_secret_arn, max_age=300)).encode()

    def publish(self, detail_type: str, detail: dict[str, object]) -> None:
        if self.domain_events is not None:
            self.domain_events.publish(detail_type, detail)

    def evolution(self) -> EvolutionClient:
        """A client with the current global key (Secrets Manager, cached by Powertools parameters)."""
        if self.evolution_factory is None:
            raise NotConfigured("EVOLUTION_BASE_URL and EVOLUTION_API_KEY_SECRET_ARN are not set")
        return self.evolution_factory()


def build_services(settings: Settings) -> Services:
    http = httpx.Client(timeout=httpx.Timeout(settings.graph_timeout_seconds, connect=3.0))
    queue = (
        ProvisioningQueue(boto3.client("sqs", region_name=settings.aws_region), settings.provisioning_queue_url)
        if settings.provisioning_queue_url
        else None
    )
    return Services(
        settings=settings,
        database=Database(connection_factory(settings)),
        cipher=SecretCipher(boto3.client("kms", region_name=settings.aws_region), settings.kms_key_id),
        graph=GraphClient(http, settings.graph_root),
        provisioning_queue=queue,
        evolution_factory=_evolution_factory(settings),
        status_sync_queue=(
            StatusSyncQueue(boto3.client("sqs", region_name=settings.aws_region), settings.status_sync_queue_url)
            if settings.status_sync_queue_url
            else None
        ),
        domain_events=(
            DomainEvents(boto3.client("events", region_name=settings.aws_region), settings.event_bus_name)
            if settings.event_bus_name
            else None
        ),
    )


def _evolution_factory(settings: Settings) -> Callable[[], EvolutionClient] | None:
    if settings.evolution_base_url is None or not settings.evolution_api_key_secret_arn:
        return None
    from aws_lambda_powertools.utilities import parameters

    from whatsapp_integrations.adapters.evolution_client import EvolutionClient

    http = httpx.Client(timeout=httpx.Timeout(settings.evolution_timeout_seconds, connect=3.0))
    base_url, secret_arn = str(settings.evolution_base_url).rstrip("/"), settings.evolution_api_key_secret_arn

    def client() -> EvolutionClient:
        api_key = parameters.get_secret(secret_arn, max_age=300)
        return EvolutionClient(http, base_url, str(api_key))

    return client


@lru_cache(maxsize=1)
def default_services() -> Services:
    return build_services(get_settings())
