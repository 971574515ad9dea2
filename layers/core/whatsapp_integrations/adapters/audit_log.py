"""The append-only audit trail in PostgreSQL: who changed what, when and from where, never a secret value."""

from __future__ import annotations

import json
from uuid import UUID

from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.audit import AuditEntry, AuditEvent
from whatsapp_integrations.domain.caller import Origin


def record(session: Session, *, tenant_id: str, integration_id: UUID, origin: Origin, entry: AuditEntry) -> None:
    session.execute(
        """INSERT INTO audit_events (tenant_id, integration_id, actor, action, request_id, source_ip, user_agent,
               changed_fields, details)
           VALUES (:tenant_id, :integration_id, :actor, :action, :request_id, :source_ip, :user_agent,
                   CAST(:changed_fields AS text[]), CAST(:details AS jsonb))""",
        tenant_id=tenant_id,
        integration_id=integration_id,
        actor=origin.actor,
        action=entry.action,
        request_id=origin.request_id,
        source_ip=origin.source_ip,
        user_agent=origin.user_agent[:300] if origin.user_agent else None,
        changed_fields=sorted(entry.changed_fields),
        details=json.dumps(entry.details, default=str),
    )


def list_page(
    session: Session, tenant_id: str, integration_id: UUID | None, *, before_id: int | None, limit: int
) -> list[AuditEvent]:
    """Newest first; one integration's (deleted ones included), or the whole tenant's when `integration_id` is None."""
    rows = session.fetch(
        """SELECT id, integration_id, actor, action, request_id, source_ip, user_agent, changed_fields, details,
                  occurred_at
           FROM audit_events WHERE tenant_id = :tenant_id
             AND (CAST(:integration_id AS uuid) IS NULL OR integration_id = :integration_id)
             AND (CAST(:before_id AS bigint) IS NULL OR id < :before_id)
           ORDER BY id DESC LIMIT :limit""",
        tenant_id=tenant_id,
        integration_id=integration_id,
        before_id=before_id,
        limit=limit,
    )
    return [AuditEvent(**row) for row in rows]
