from __future__ import annotations

from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import IntegrationNotFound, VersionMismatch
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.connection_requests import Requested, request_delete
from whatsapp_integrations.usecases.state_changes import Changes, in_one_transaction

_NOTHING_PROVISIONED = (IntegrationStatus.VALIDATED, IntegrationStatus.DISCONNECTED)


def needs_deprovisioning(integration: Integration) -> bool:
    return integration.status not in _NOTHING_PROVISIONED or integration.evolution_instance_name is not None


def delete_integration(
    caller: Caller, integration_id: UUID, expected_version: int | None, services: Services
) -> Requested | None:
    """Remove an integration that owns nothing in Evolution now (None); otherwise deprovision it first (Requested).

    The removal is a soft delete: no route shows the row again, its phone number is free, its audit trail stays.
    """

    def remove(changes: Changes) -> Integration | None:
        found = integrations_repository.get_for_update(changes.session, caller.tenant_id, integration_id)
        if found is None:
            raise IntegrationNotFound()
        integration = found[0]
        if expected_version is not None and integration.version != expected_version:
            raise VersionMismatch(integration.version)
        if needs_deprovisioning(integration):
            return integration
        integrations_repository.soft_delete(changes.session, caller.tenant_id, integration_id)
        changes.audit(
            integration,
            caller.origin,
            AuditEntry(
                "integration.deleted",
                details={"phone_number_id": integration.phone_number_id, "status": integration.status.value},
            ),
        )
        return None

    if in_one_transaction(services, remove) is None:
        return None
    return request_delete(caller, integration_id, services)
