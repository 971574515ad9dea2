"""The audit trail's vocabulary: who or what caused a change, and one recorded entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Origin:
    """Who or what caused a change: a user's request (actor = the JWT subject) or a system worker
    (actor = "system:<worker>"), with the request or message that carried it."""

    actor: str
    request_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None


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
