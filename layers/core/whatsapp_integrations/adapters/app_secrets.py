"""Decrypted app secrets for the Meta webhook relay, cached in a warm function for a bounded time, so that a stream
of posts does not cost a KMS call each. Built on Powertools' parameters provider, which owns the expiry."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.parameters.base import BaseProvider

from whatsapp_integrations.adapters.secret_cipher import SecretCipher, SecretContext

MAX_AGE_SECONDS = 300


class AppSecrets(BaseProvider):
    def __init__(self, cipher: SecretCipher) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._cipher = cipher

    def app_secret(self, tenant_id: str, integration_id: UUID, ciphertext: bytes, kms_key_id: str) -> str:
        # The ciphertext is part of the key: a new secret (a credentials update) is never served from the cache.
        name = f"{integration_id}:{hashlib.sha256(ciphertext).hexdigest()[:16]}"
        value = self.get(
            name,
            max_age=MAX_AGE_SECONDS,
            ciphertext=ciphertext,
            context=SecretContext(tenant_id, integration_id, "app_secret"),
            kms_key_id=kms_key_id,
        )
        return str(value)

    def _get(self, name: str, **options: Any) -> str:
        return self._cipher.decrypt(options["ciphertext"], options["context"], options["kms_key_id"])

    def _get_multiple(self, path: str, **options: Any) -> dict[str, str]:
        raise NotImplementedError("app secrets are read one at a time")
