from __future__ import annotations

from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import IntegrationNotFound
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.services import Services


def get_integration(caller: Caller, integration_id: UUID, services: Services) -> Integration:
    found = services.database.autocommit(
        lambda session: integrations_repository.get(session, caller.tenant_id, integration_id)
    )
    if found is None:
        raise IntegrationNotFound()
    return found
