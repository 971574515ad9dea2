from __future__ import annotations

from dataclasses import dataclass

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.integration import Integration, PageKey
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.services import Services


@dataclass(frozen=True)
class IntegrationPage:
    items: list[Integration]
    next_key: PageKey | None


def list_integrations(
    caller: Caller, services: Services, *, status: IntegrationStatus | None, after: PageKey | None, limit: int
) -> IntegrationPage:
    rows = services.database.autocommit(
        lambda session: integrations_repository.list_page(
            session, caller.tenant_id, status=status, after=after, limit=limit + 1
        )
    )
    items = rows[:limit]
    has_more = len(rows) > limit
    return IntegrationPage(items, PageKey(items[-1].created_at, items[-1].id) if has_more else None)
