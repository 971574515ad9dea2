"""Who is calling, and who or what caused a change (the audit trail records it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Who or what caused a change: a user's request (actor = the JWT subject) or a system worker
    (actor = "system:<worker>"), with the request or message that carried it."""

    actor: str
    request_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant every query is scoped to, the acting user, and the request for the audit trail."""

    tenant_id: str
    actor: str
    request_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None

    @property
    def origin(self) -> Origin:
        return Origin(self.actor, self.request_id, self.source_ip, self.user_agent)
