"""Secrets encrypted with KMS, each ciphertext bound to its tenant, integration and field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

SecretField = Literal["access_token", "app_secret", "webhook_secret", "meta_verify_token"]


@dataclass(frozen=True)
class SecretContext:
    tenant_id: str
    integration_id: UUID
    field: SecretField

    def as_encryption_context(self) -> dict[str, str]:
        return {"tenant_id": self.tenant_id, "integration_id": str(self.integration_id), "field": self.field}


class SecretCipher:
    def __init__(self, kms_client: Any, key_id: str) -> None:
        self._kms = kms_client
        self.key_id = key_id

    def encrypt(self, plaintext: str, context: SecretContext) -> bytes:
        answer = self._kms.encrypt(
            KeyId=self.key_id, Plaintext=plaintext.encode(), EncryptionContext=context.as_encryption_context()
        )
        return bytes(answer["CiphertextBlob"])

    def decrypt(self, ciphertext: bytes, context: SecretContext, key_id: str | None = None) -> str:
        """Raises KMS InvalidCiphertextException when the ciphertext belongs to another row or field.

        `key_id` is the key recorded with the ciphertext, so rows written before a key change still decrypt.
        """
        answer = self._kms.decrypt(
            CiphertextBlob=ciphertext, KeyId=key_id or self.key_id, EncryptionContext=context.as_encryption_context()
        )
        return bytes(answer["Plaintext"]).decode()
