"""The append-only audit trail: who changed what and when, never a secret value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from whatsapp_integrations.adapters.database import Session


@dataclass(frozen=True)
class AuditEvent:
    id: int
    integration_id: UUID
    actor: str
    action: str
    request_id: str | None
    changed_fields: list[str]
    details: dict[str, Any]
    occurred_at: datetime


def record(
    session: Session,
    *,
    tenant_id: str,
    integration_id: UUID,
    actor: str,
    action: str,
    request_id: str | None,
    changed_fields: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.execute(
        """INSERT INTO audit_events (tenant_id, integration_id, actor, action, request_id, changed_fields, details)
           VALUES (:tenant_id, :integration_id, :actor, :action, :request_id, CAST(:changed_fields AS text[]),
                   CAST(:details AS jsonb))""",
        tenant_id=tenant_id,
        integration_id=integration_id,
        actor=actor,
        action=action,
        request_id=request_id,
        changed_fields=sorted(changed_fields or []),
        details=json.dumps(details or {}, default=str),
    )


def list_page(
    session: Session, tenant_id: str, integration_id: UUID, *, before_id: int | None, limit: int
) -> list[AuditEvent]:
    rows = session.fetch(
        """SELECT id, integration_id, actor, action, request_id, changed_fields, details, occurred_at
           FROM audit_events WHERE tenant_id = :tenant_id AND integration_id = :integration_id
             AND (CAST(:before_id AS bigint) IS NULL OR id < :before_id)
           ORDER BY id DESC LIMIT :limit""",
        tenant_id=tenant_id,
        integration_id=integration_id,
        before_id=before_id,
        limit=limit,
    )
    return [AuditEvent(**row) for row in rows]
