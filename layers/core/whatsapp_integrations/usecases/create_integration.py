from __future__ import annotations

from uuid import uuid4

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials, token_fingerprint
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.live_validation import validate_live
from whatsapp_integrations.usecases.meta_call_guard import count_meta_call, reject_malformed
from whatsapp_integrations.usecases.secrets_storage import encrypt_secrets
from whatsapp_integrations.usecases.state_changes import Changes, in_one_transaction


def create_integration(caller: Caller, name: str, credentials: MetaCredentials, services: Services) -> Integration:
    """Validate live against Meta, then store the integration with its secrets encrypted.

    A phone number already used by a live integration is refused (409) only after the caller proved, with valid
    credentials, that they can see it: otherwise any tenant could probe which numbers are connected.
    """
    reject_malformed(credentials)
    count_meta_call(caller, services)
    validated = validate_live(credentials, services.graph, services.clock())
    now = services.clock()
    integration = Integration(
        id=uuid4(),
        tenant_id=caller.tenant_id,
        name=name,
        phone_number_id=credentials.phone_number_id,
        waba_id=credentials.waba_id,
        app_id=credentials.app_id,
        token_fingerprint=token_fingerprint(credentials.access_token),
        has_app_secret=credentials.app_secret is not None,
        status=IntegrationStatus.VALIDATED,
        phone_profile=validated.phone_profile,
        token_facts=validated.token_facts,
        warnings=validated.warnings,
        version=1,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    secrets = encrypt_secrets(
        services.cipher, caller.tenant_id, integration.id, credentials.access_token, credentials.app_secret
    )

    def store(changes: Changes) -> Integration:
        stored = integrations_repository.insert(changes.session, integration, secrets)
        changes.audit(
            stored,
            caller.origin,
            AuditEntry(
                "integration.created",
                changed_fields=(
                    "name",
                    "phone_number_id",
                    "waba_id",
                    "access_token",
                    *(["app_id"] if credentials.app_id else []),
                    *(["app_secret"] if credentials.app_secret else []),
                ),
                details={"token_fingerprint": stored.token_fingerprint, "status": stored.status.value},
            ),
        )
        return stored

    return in_one_transaction(services, store)
