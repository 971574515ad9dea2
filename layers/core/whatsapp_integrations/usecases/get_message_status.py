from __future__ import annotations

from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository, webhook_store
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import IntegrationNotFound, MessageNotFound
from whatsapp_integrations.domain.message_status import MessageRecord
from whatsapp_integrations.services import Services


def get_message_status(caller: Caller, integration_id: UUID, wamid: str, services: Services) -> MessageRecord:
    def read(session: Session) -> MessageRecord:
        if integrations_repository.get(session, caller.tenant_id, integration_id) is None:
            raise IntegrationNotFound()
        found = webhook_store.find_message(session, caller.tenant_id, integration_id, wamid)
        if found is None:
            raise MessageNotFound()
        return found

    return services.database.autocommit(read)
