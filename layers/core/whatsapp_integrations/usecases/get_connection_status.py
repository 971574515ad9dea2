from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import IntegrationNotFound
from whatsapp_integrations.domain.integration import Integration, StatusChange
from whatsapp_integrations.services import Services


@dataclass(frozen=True)
class ConnectionStatus:
    integration: Integration
    history: list[StatusChange]


def get_connection_status(
    caller: Caller, integration_id: UUID, services: Services, *, history: int
) -> ConnectionStatus:
    def read(session: Session) -> ConnectionStatus:
        integration = integrations_repository.get(session, caller.tenant_id, integration_id)
        if integration is None:
            raise IntegrationNotFound()
        changes = integrations_repository.status_history(session, caller.tenant_id, integration_id, history)
        return ConnectionStatus(integration, changes if history else [])

    return services.database.in_transaction(read)
