from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository, webhook_store
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import IntegrationNotFound, MetaUnavailable
from whatsapp_integrations.domain.integration import Integration, StatusChange, WebhookActivity
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.provisioning import TransientFailure
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.meta_call_guard import META_CHECKS_BUCKET, count_meta_call
from whatsapp_integrations.usecases.sync_integration_status import check_integration


@dataclass(frozen=True)
class ConnectionStatus:
    integration: Integration
    history: list[StatusChange]
    activity: WebhookActivity


def get_connection_status(
    caller: Caller, integration_id: UUID, services: Services, *, history: int
) -> ConnectionStatus:
    def read(session: Session) -> ConnectionStatus:
        integration = integrations_repository.get(session, caller.tenant_id, integration_id)
        if integration is None:
            raise IntegrationNotFound()
        changes = integrations_repository.status_history(session, caller.tenant_id, integration_id, history)
        return ConnectionStatus(
            integration, changes if history else [], webhook_store.activity(session, integration_id)
        )

    return services.database.autocommit(read)


def refresh_connection_status(
    caller: Caller, integration_id: UUID, services: Services, *, history: int = 10
) -> ConnectionStatus:
    """The "check now" button: the status check, run at once for one integration in any state (only Meta when no
    instance is expected), counted against the tenant's Meta-call limit only when it reaches Meta."""
    found = services.database.autocommit(
        lambda session: integrations_repository.get_with_secrets(session, caller.tenant_id, integration_id)
    )
    if found is None:
        raise IntegrationNotFound()
    integration, secrets = found
    if integration.status not in (IntegrationStatus.CONNECTING, IntegrationStatus.DISCONNECTING):
        try:
            check_integration(
                integration, secrets, services, caller.origin, meta_budget=lambda: _counted(caller, services)
            )
        except TransientFailure as failure:
            raise MetaUnavailable(
                f"{failure.error.message} Nothing was changed; try again later.", failure.retry_after_seconds or 30
            ) from None
    return get_connection_status(caller, integration_id, services, history=history)


def _counted(caller: Caller, services: Services) -> bool:
    count_meta_call(caller, services, META_CHECKS_BUCKET)
    return True
