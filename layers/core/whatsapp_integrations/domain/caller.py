from __future__ import annotations

from dataclasses import dataclass

from whatsapp_integrations.domain.audit import Origin


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
