from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials, token_fingerprint
from whatsapp_integrations.domain.errors import IntegrationNotFound, InvalidState, VersionMismatch
from whatsapp_integrations.domain.integration import Integration, StoredSecrets
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.connection_requests import reprovision
from whatsapp_integrations.usecases.live_validation import validate_live
from whatsapp_integrations.usecases.meta_call_guard import count_meta_call, reject_malformed
from whatsapp_integrations.usecases.secrets_storage import (
    decrypt_access_token,
    decrypt_app_secret,
    encrypt_secrets,
)
from whatsapp_integrations.usecases.state_changes import Changes, in_one_transaction

CREDENTIAL_FIELDS = ("phone_number_id", "waba_id", "access_token", "app_id", "app_secret")
# What an Evolution instance was created with; changing one of them means re-creating the instance.
EVOLUTION_FIELDS = ("phone_number_id", "waba_id", "access_token")


@dataclass(frozen=True)
class IntegrationChanges:
    """Only the fields the tenant sent. A write-only field that is absent keeps its stored value;
    `app_id` / `app_secret` sent as null remove them."""

    values: dict[str, str | None] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"IntegrationChanges(fields={sorted(self.values)})"


def update_integration(
    caller: Caller, integration_id: UUID, changes: IntegrationChanges, expected_version: int, services: Services
) -> Integration:
    current, secrets = _read(caller, integration_id, expected_version, services)
    new_name = changes.values.get("name") or current.name
    changed = ["name"] if new_name != current.name else []
    if any(name in changes.values for name in CREDENTIAL_FIELDS):
        if current.status in (IntegrationStatus.CONNECTING, IntegrationStatus.DISCONNECTING):
            raise InvalidState("change the credentials of", current.status.value)
        stored_token = decrypt_access_token(services.cipher, caller.tenant_id, integration_id, secrets)
        stored_secret = decrypt_app_secret(services.cipher, caller.tenant_id, integration_id, secrets)
        before = MetaCredentials(current.phone_number_id, current.waba_id, stored_token, current.app_id, stored_secret)
        sent = changes.values
        after = MetaCredentials(
            phone_number_id=sent.get("phone_number_id") or before.phone_number_id,
            waba_id=sent.get("waba_id") or before.waba_id,
            access_token=sent.get("access_token") or before.access_token,
            app_id=sent.get("app_id", before.app_id),
            app_secret=sent.get("app_secret", before.app_secret),
        )
        changed += [name for name in CREDENTIAL_FIELDS if getattr(after, name) != getattr(before, name)]
    if not changed:
        return current

    updated = current
    if any(name in CREDENTIAL_FIELDS for name in changed):
        reject_malformed(after)
        count_meta_call(caller, services)
        validated = validate_live(after, services.graph, services.clock())
        updated = current.model_copy(
            update={
                "phone_number_id": after.phone_number_id,
                "waba_id": after.waba_id,
                "app_id": after.app_id,
                "token_fingerprint": token_fingerprint(after.access_token),
                "has_app_secret": after.app_secret is not None,
                "phone_profile": validated.phone_profile,
                "token_facts": validated.token_facts,
                "warnings": validated.warnings,
            }
        )
        if "access_token" in changed or "app_secret" in changed:
            secrets = encrypt_secrets(
                services.cipher, caller.tenant_id, integration_id, after.access_token, after.app_secret
            )
    updated = updated.model_copy(update={"name": new_name})
    return in_one_transaction(
        services, lambda changes: _store(changes, caller, updated, secrets, expected_version, changed)
    )


def _read(
    caller: Caller, integration_id: UUID, expected_version: int, services: Services
) -> tuple[Integration, StoredSecrets]:
    found = services.database.autocommit(
        lambda session: integrations_repository.get_with_secrets(session, caller.tenant_id, integration_id)
    )
    if found is None:
        raise IntegrationNotFound()
    if found[0].version != expected_version:
        raise VersionMismatch(found[0].version)
    return found


def _store(
    changes: Changes,
    caller: Caller,
    updated: Integration,
    secrets: StoredSecrets,
    expected_version: int,
    changed: list[str],
) -> Integration:
    locked = integrations_repository.get_for_update(changes.session, caller.tenant_id, updated.id)
    if locked is None:
        raise IntegrationNotFound()
    if locked[0].version != expected_version:
        raise VersionMismatch(locked[0].version)
    stored = integrations_repository.replace(changes.session, updated, secrets, expected_version)
    changes.audit(
        stored,
        caller.origin,
        AuditEntry(
            "integration.updated",
            changed_fields=tuple(changed),
            details={
                "version": stored.version,
                "token_fingerprint": stored.token_fingerprint,
                "revalidated": any(name in CREDENTIAL_FIELDS for name in changed),
            },
        ),
    )
    if stored.evolution_instance_name is not None and any(name in EVOLUTION_FIELDS for name in changed):
        return changes.transition(stored, reprovision(caller)) or stored
    return stored
