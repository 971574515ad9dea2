"""Encrypting a tenant's secrets for one integration row."""

from __future__ import annotations

from uuid import UUID

from whatsapp_integrations.adapters.secret_cipher import SecretCipher, SecretContext
from whatsapp_integrations.domain.integration import StoredSecrets


def encrypt_secrets(
    cipher: SecretCipher, tenant_id: str, integration_id: UUID, access_token: str, app_secret: str | None
) -> StoredSecrets:
    return StoredSecrets(
        access_token_ciphertext=cipher.encrypt(access_token, SecretContext(tenant_id, integration_id, "access_token")),
        app_secret_ciphertext=(
            cipher.encrypt(app_secret, SecretContext(tenant_id, integration_id, "app_secret")) if app_secret else None
        ),
        kms_key_id=cipher.key_id,
    )


def decrypt_access_token(cipher: SecretCipher, tenant_id: str, integration_id: UUID, secrets: StoredSecrets) -> str:
    return cipher.decrypt(
        secrets.access_token_ciphertext, SecretContext(tenant_id, integration_id, "access_token"), secrets.kms_key_id
    )


def decrypt_app_secret(
    cipher: SecretCipher, tenant_id: str, integration_id: UUID, secrets: StoredSecrets
) -> str | None:
    if secrets.app_secret_ciphertext is None:
        return None
    return cipher.decrypt(
        secrets.app_secret_ciphertext, SecretContext(tenant_id, integration_id, "app_secret"), secrets.kms_key_id
    )
