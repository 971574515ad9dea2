"""The per-integration secret Evolution sends back in a webhook header: issued at each connect, kept for that
connect's retries, and readable again (KMS ciphertext) so that a drifted webhook config can be repaired.

Only the secret's SHA-256 hash is used to check webhooks; the ciphertext never leaves the provisioner and the
status check.
"""

from __future__ import annotations

import hashlib
import secrets as token_generator

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.adapters.secret_cipher import SecretContext
from whatsapp_integrations.domain.evolution_instance import WebhookConfig, webhook_config
from whatsapp_integrations.domain.integration import Integration, StoredSecrets
from whatsapp_integrations.domain.provisioning import ProvisioningMessage
from whatsapp_integrations.services import Services


def evolution_webhook_for_connect(
    services: Services,
    integration: Integration,
    secrets: StoredSecrets,
    message: ProvisioningMessage,
    lease_owner: str,
) -> WebhookConfig | None:
    """The config for this connect: a retry of the same request reuses its secret, a new request rotates it.
    None when the provisioning lease was lost (nothing stored)."""
    issued_for = f"{message.operation.value}:{message.correlation_id}"
    if secrets.webhook_secrets_for == issued_for and secrets.webhook_secret_ciphertext is not None:
        return current_evolution_webhook(services, integration, secrets)
    secret = token_generator.token_urlsafe(32)
    ciphertext = services.cipher.encrypt(secret, _context(integration))
    stored = services.database.autocommit(
        lambda session: integrations_repository.store_webhook_secret(
            session,
            integration.tenant_id,
            integration.id,
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
            ciphertext=ciphertext,
            issued_for=issued_for,
            lease_owner=lease_owner,
        )
    )
    return webhook_config(services.settings.evolution_webhook_url, secret) if stored else None


def current_evolution_webhook(
    services: Services, integration: Integration, secrets: StoredSecrets
) -> WebhookConfig | None:
    """The config the instance should have now; None before the first connect issued a secret."""
    if secrets.webhook_secret_ciphertext is None:
        return None
    secret = services.cipher.decrypt(secrets.webhook_secret_ciphertext, _context(integration), secrets.kms_key_id)
    return webhook_config(services.settings.evolution_webhook_url, secret)


def _context(integration: Integration) -> SecretContext:
    return SecretContext(integration.tenant_id, integration.id, "webhook_secret")
