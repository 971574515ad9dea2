from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from whatsapp_integrations.adapters import audit_log, integrations_repository
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.audit import AuditEvent
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import IntegrationNotFound
from whatsapp_integrations.services import Services


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    next_before_id: int | None


def list_audit_events(
    caller: Caller, integration_id: UUID, services: Services, *, before_id: int | None, limit: int
) -> AuditPage:
    def read(session: Session) -> list[AuditEvent]:
        if integrations_repository.get(session, caller.tenant_id, integration_id) is None:
            raise IntegrationNotFound()
        return audit_log.list_page(session, caller.tenant_id, integration_id, before_id=before_id, limit=limit + 1)

    rows = services.database.autocommit(read)
    items = rows[:limit]
    return AuditPage(items, items[-1].id if len(rows) > limit else None)


def list_tenant_audit_events(
    caller: Caller, services: Services, *, integration_id: UUID | None, before_id: int | None, limit: int
) -> AuditPage:
    """The tenant's whole trail, or one integration's, deleted integrations included (their trail outlives them)."""
    rows = services.database.autocommit(
        lambda session: audit_log.list_page(
            session, caller.tenant_id, integration_id, before_id=before_id, limit=limit + 1
        )
    )
    items = rows[:limit]
    return AuditPage(items, items[-1].id if len(rows) > limit else None)
