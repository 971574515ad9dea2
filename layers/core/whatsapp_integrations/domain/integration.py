"""What we know about one tenant's WhatsApp integration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict

from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.model import Model
from whatsapp_integrations.domain.provisioning import IntegrationError
from whatsapp_integrations.domain.validated_credentials import IntegrationWarning, PhoneProfile, TokenFacts


class Integration(Model):
    """A stored integration as every reader sees it: never a secret, only a fingerprint."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    tenant_id: str
    name: str
    phone_number_id: str
    waba_id: str
    app_id: str | None
    token_fingerprint: str
    has_app_secret: bool
    status: IntegrationStatus
    phone_profile: PhoneProfile
    token_facts: TokenFacts
    warnings: list[IntegrationWarning]
    version: int
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    last_error: IntegrationError | None = None
    evolution_instance_name: str | None = None
    evolution_state: str | None = None
    last_checked_at: datetime | None = None
    pending_operation: str | None = None
    meta_callback_url: str | None = None


class StatusChange(Model):
    """One transition in an integration's status history."""

    model_config = ConfigDict(frozen=True)

    from_status: IntegrationStatus
    to_status: IntegrationStatus
    reason: str
    error: IntegrationError | None = None
    correlation_id: str | None = None
    occurred_at: datetime


@dataclass(frozen=True)
class StoredSecrets:
    """An integration's secrets as stored: KMS ciphertexts bound to tenant, integration and field."""

    access_token_ciphertext: bytes
    app_secret_ciphertext: bytes | None
    kms_key_id: str
    webhook_secret_ciphertext: bytes | None = None
    webhook_secrets_for: str | None = None  # the connect request they were issued for
    meta_verify_token_ciphertext: bytes | None = None


@dataclass(frozen=True)
class PageKey:
    """Position after the last row of a page, newest first."""

    created_at: datetime
    id: UUID


@dataclass(frozen=True)
class CheckTarget:
    """An integration the status-sync scheduler queues a check for."""

    id: UUID
    tenant_id: str


@dataclass(frozen=True)
class WebhookActivity:
    """When each side's webhooks last reached us (stamped at most every 30 s)."""

    last_meta_event_at: datetime | None = None
    last_evolution_event_at: datetime | None = None
