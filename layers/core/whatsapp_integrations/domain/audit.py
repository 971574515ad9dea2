"""The audit trail's vocabulary: one recorded entry (who or what caused it is an Origin, domain/caller.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class AuditEntry:
    """What one accepted change writes to the append-only audit trail (never a secret value)."""

    action: str
    changed_fields: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEvent:
    id: int
    integration_id: UUID
    actor: str
    action: str
    request_id: str | None
    source_ip: str | None
    user_agent: str | None
    changed_fields: list[str]
    details: dict[str, Any]
    occurred_at: datetime
