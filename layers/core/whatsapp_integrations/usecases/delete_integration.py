from __future__ import annotations

from uuid import UUID

from whatsapp_integrations.adapters import audit_log, integrations_repository
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import IntegrationNotFound, VersionMismatch
from whatsapp_integrations.services import Services


def delete_integration(caller: Caller, integration_id: UUID, expected_version: int | None, services: Services) -> None:
    """Soft delete: the row stays for the audit trail, but no route shows it and its phone number is free again."""

    def remove(session: Session) -> None:
        found = integrations_repository.get_for_update(session, caller.tenant_id, integration_id)
        if found is None:
            raise IntegrationNotFound()
        if expected_version is not None and found[0].version != expected_version:
            raise VersionMismatch(found[0].version)
        integrations_repository.soft_delete(session, caller.tenant_id, integration_id)
        audit_log.record(
            session,
            tenant_id=caller.tenant_id,
            integration_id=integration_id,
            actor=caller.actor,
            action="integration.deleted",
            request_id=caller.request_id,
            details={"phone_number_id": found[0].phone_number_id, "status": found[0].status.value},
        )

    services.database.in_transaction(remove)
