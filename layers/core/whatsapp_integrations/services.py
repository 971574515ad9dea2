"""The adapters a use case needs, each built on first use and then kept for the execution environment.

A function builds only what it uses: GET never creates a KMS or an HTTP client, the webhook never an SQS one.
Heavy imports (botocore, httpx) happen inside the builders for the same reason. What the builders share costs once
per cold start: every AWS client comes from one botocore session (adapters/aws_session.py: its endpoint data is
loaded once), and both HTTP clients verify TLS with one SSL context (the CA bundle is read once).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.observability import trace_calls_of
from whatsapp_integrations.settings import Settings, get_settings

if TYPE_CHECKING:
    from whatsapp_integrations.adapters.app_secrets import AppSecrets
    from whatsapp_integrations.adapters.domain_events import DomainEvents
    from whatsapp_integrations.adapters.evolution_client import EvolutionClient, MetaWebhookForwarder
    from whatsapp_integrations.adapters.graph_client import GraphClient
    from whatsapp_integrations.adapters.provisioning_queue import ProvisioningQueue
    from whatsapp_integrations.adapters.relay_queue import RelayQueue
    from whatsapp_integrations.adapters.secret_cipher import SecretCipher
    from whatsapp_integrations.adapters.status_sync_queue import StatusSyncQueue
    from whatsapp_integrations.adapters.webhook_targets import WebhookTargets


def utc_now() -> datetime:
    return datetime.now(UTC)


class NotConfigured(RuntimeError):
    pass


class Services:
    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self._aws_clients: dict[str, Any] = {}

    @cached_property
    def database(self) -> Database:
        return Database(connection_factory(self.settings))

    @cached_property
    def webhook_targets(self) -> WebhookTargets:
        from whatsapp_integrations.adapters.webhook_targets import WebhookTargets

        return WebhookTargets(self.database)

    @cached_property
    def cipher(self) -> SecretCipher:
        from whatsapp_integrations.adapters.secret_cipher import SecretCipher

        return SecretCipher(self._aws_client("kms"), self.settings.kms_key_id)

    @cached_property
    def graph(self) -> GraphClient:
        import httpx

        from whatsapp_integrations.adapters.graph_client import GraphClient

        http = httpx.Client(
            timeout=httpx.Timeout(self.settings.graph_timeout_seconds, connect=3.0), verify=self._tls_context
        )
        return GraphClient(http, self.settings.graph_root)

    @cached_property
    def queue(self) -> ProvisioningQueue:
        from whatsapp_integrations.adapters.provisioning_queue import ProvisioningQueue

        if not self.settings.provisioning_queue_url:
            raise NotConfigured("PROVISIONING_QUEUE_URL is not set")
        return ProvisioningQueue(self._aws_client("sqs"), self.settings.provisioning_queue_url)

    @cached_property
    def relay_queue(self) -> RelayQueue:
        from whatsapp_integrations.adapters.relay_queue import RelayQueue

        if not self.settings.relay_queue_url:
            raise NotConfigured("RELAY_QUEUE_URL is not set")
        return RelayQueue(self._aws_client("sqs"), self.settings.relay_queue_url)

    @cached_property
    def app_secrets(self) -> AppSecrets:
        """Decrypted app secrets, cached for a bounded time (the Meta relay checks every post with one)."""
        from whatsapp_integrations.adapters.app_secrets import AppSecrets

        return AppSecrets(self.cipher)

    @cached_property
    def meta_forwarder(self) -> MetaWebhookForwarder:
        from whatsapp_integrations.adapters.evolution_client import MetaWebhookForwarder

        if self.settings.evolution_base_url is None:
            raise NotConfigured("EVOLUTION_BASE_URL is not set")
        return MetaWebhookForwarder(self._evolution_http, str(self.settings.evolution_base_url))

    @cached_property
    def status_sync_queue(self) -> StatusSyncQueue:
        from whatsapp_integrations.adapters.status_sync_queue import StatusSyncQueue

        if not self.settings.status_sync_queue_url:
            raise NotConfigured("STATUS_SYNC_QUEUE_URL is not set")
        return StatusSyncQueue(self._aws_client("sqs"), self.settings.status_sync_queue_url)

    @cached_property
    def domain_events(self) -> DomainEvents | None:
        """None when no event bus is configured: then no event is written to the outbox either."""
        from whatsapp_integrations.adapters.domain_events import DomainEvents

        if not self.settings.event_bus_name:
            return None
        return DomainEvents(self._aws_client("events"), self.settings.event_bus_name)

    @property
    def publishes_events(self) -> bool:
        return bool(self.settings.event_bus_name)

    def dead_letters_of(self, integration_id: Any) -> dict[str, int]:
        """This integration's messages waiting in the configured dead-letter queues (queue name -> count)."""
        from whatsapp_integrations.adapters.dead_letters import waiting_for

        queues = {
            "provisioning": self.settings.provisioning_dead_letter_queue_url,
            "relay": self.settings.relay_dead_letter_queue_url,
        }
        return {name: waiting_for(self._aws_client("sqs"), url, integration_id) for name, url in queues.items() if url}

    def webhook_hmac_key(self) -> bytes:
        """The server-side key of the token HMAC (Secrets Manager, cached by Powertools parameters)."""
        if not self.settings.webhook_hmac_key_secret_arn:
            raise NotConfigured("WEBHOOK_HMAC_KEY_SECRET_ARN is not set")
        return str(self._secrets.get(self.settings.webhook_hmac_key_secret_arn, max_age=300)).encode()

    def evolution(self) -> EvolutionClient:
        """A client with the current global key (Secrets Manager, cached by Powertools parameters)."""
        settings = self.settings
        if settings.evolution_base_url is None or not settings.evolution_api_key_secret_arn:
            raise NotConfigured("EVOLUTION_BASE_URL and EVOLUTION_API_KEY_SECRET_ARN are not set")
        from whatsapp_integrations.adapters.evolution_client import EvolutionClient

        api_key = self._secrets.get(settings.evolution_api_key_secret_arn, max_age=300)
        return EvolutionClient(self._evolution_http, str(settings.evolution_base_url).rstrip("/"), str(api_key))

    @cached_property
    def _evolution_http(self) -> Any:
        import httpx

        return httpx.Client(
            timeout=httpx.Timeout(self.settings.evolution_timeout_seconds, connect=3.0), verify=self._tls_context
        )

    @cached_property
    def _tls_context(self) -> Any:
        import httpx

        trace_calls_of("httpx")  # every HTTP client is built with this context, so once is enough
        return httpx.create_ssl_context()

    @cached_property
    def _secrets(self) -> Any:
        """Secrets Manager values, cached by Powertools parameters; its client comes from the shared session."""
        from aws_lambda_powertools.utilities import parameters

        return parameters.SecretsProvider(boto3_client=self._aws_client("secretsmanager"))

    def _aws_client(self, service: str) -> Any:
        """One client per service, from the execution environment's one botocore session."""
        if service not in self._aws_clients:
            from whatsapp_integrations.adapters.aws_session import aws_client

            trace_calls_of("botocore")
            self._aws_clients[service] = aws_client(service, self.settings.aws_region)
        return self._aws_clients[service]


def build_services(settings: Settings) -> Services:
    return Services(settings)


@lru_cache(maxsize=1)
def default_services() -> Services:
    return build_services(get_settings())
