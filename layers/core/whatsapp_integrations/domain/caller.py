from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant every query is scoped to, the acting user, and the request for the audit trail."""

    tenant_id: str
    actor: str
    request_id: str | None = None
