"""The two per-integration webhook secrets, issued together at each connect and kept for that connect's retries:

- the secret Evolution sends back in a header of every webhook (`X-Webhook-Secret`);
- the verify token Meta presents in its handshake with our `/webhooks/meta/{id}` route.

Only their SHA-256 hashes are used to check what arrives; their KMS ciphertexts exist so that a drifted Evolution
webhook config or Meta override can be set again with the same values. Neither leaves the provisioner, the status
check and the repair.
"""

from __future__ import annotations

import hashlib
import secrets as token_generator
from dataclasses import dataclass

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.adapters.secret_cipher import SecretContext, SecretField
from whatsapp_integrations.domain.evolution_instance import WebhookConfig, webhook_config
from whatsapp_integrations.domain.integration import Integration, StoredSecrets
from whatsapp_integrations.domain.provisioning import ProvisioningMessage
from whatsapp_integrations.services import Services


@dataclass(frozen=True, repr=False)
class WebhookSecrets:
    evolution_webhook: WebhookConfig
    meta_verify_token: str


def secrets_for_connect(
    services: Services,
    integration: Integration,
    secrets: StoredSecrets,
    message: ProvisioningMessage,
    lease_owner: str,
) -> WebhookSecrets | None:
    """The secrets for this connect: a retry of the same request reuses them, a new request rotates them.
    None when the provisioning lease was lost (nothing stored)."""
    issued_for = f"{message.operation.value}:{message.correlation_id}"
    if secrets.webhook_secrets_for == issued_for:
        current = current_webhook_secrets(services, integration, secrets)
        if current is not None:
            return current
    evolution_secret, verify_token = token_generator.token_urlsafe(32), token_generator.token_urlsafe(32)
    evolution_ciphertext = services.cipher.encrypt(evolution_secret, _context(integration, "webhook_secret"))
    verify_ciphertext = services.cipher.encrypt(verify_token, _context(integration, "meta_verify_token"))
    stored = services.database.autocommit(
        lambda session: integrations_repository.store_webhook_secrets(
            session,
            integration.tenant_id,
            integration.id,
            evolution_secret_hash=secret_hash(evolution_secret),
            evolution_secret_ciphertext=evolution_ciphertext,
            meta_verify_token_hash=secret_hash(verify_token),
            meta_verify_token_ciphertext=verify_ciphertext,
            issued_for=issued_for,
            lease_owner=lease_owner,
        )
    )
    if not stored:
        return None
    return WebhookSecrets(webhook_config(services.settings.evolution_webhook_url, evolution_secret), verify_token)


def current_webhook_secrets(
    services: Services, integration: Integration, secrets: StoredSecrets
) -> WebhookSecrets | None:
    """The secrets of the last connect; None before a connect issued both (integrations older than the relay)."""
    if secrets.webhook_secret_ciphertext is None or secrets.meta_verify_token_ciphertext is None:
        return None
    evolution_secret = services.cipher.decrypt(
        secrets.webhook_secret_ciphertext, _context(integration, "webhook_secret"), secrets.kms_key_id
    )
    verify_token = services.cipher.decrypt(
        secrets.meta_verify_token_ciphertext, _context(integration, "meta_verify_token"), secrets.kms_key_id
    )
    return WebhookSecrets(webhook_config(services.settings.evolution_webhook_url, evolution_secret), verify_token)


def current_evolution_webhook(
    services: Services, integration: Integration, secrets: StoredSecrets
) -> WebhookConfig | None:
    """The Evolution webhook config the instance should have now (also for integrations older than the relay)."""
    if secrets.webhook_secret_ciphertext is None:
        return None
    evolution_secret = services.cipher.decrypt(
        secrets.webhook_secret_ciphertext, _context(integration, "webhook_secret"), secrets.kms_key_id
    )
    return webhook_config(services.settings.evolution_webhook_url, evolution_secret)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _context(integration: Integration, field: SecretField) -> SecretContext:
    return SecretContext(integration.tenant_id, integration.id, field)
