"""The scheduler's fan-out: one status-sync message per integration that needs a check, ten per SendMessageBatch,
their delivery spread over the interval so that Evolution and Meta never see a burst."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.adapters.status_sync_queue import StatusSyncQueue, SyncRequest
from whatsapp_integrations.domain.integration import CheckTarget
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services

PAGE_SIZE = 1000
BATCH_SIZE = 10  # SendMessageBatch's limit


def schedule_status_sync(services: Services, queue: StatusSyncQueue, *, correlation_id: str) -> int:
    targets = _targets(services)
    interval = services.settings.status_sync_interval_minutes * 60
    failed = 0
    for start in range(0, len(targets), BATCH_SIZE):
        batch = targets[start : start + BATCH_SIZE]
        failed += queue.send_batch(
            [
                (SyncRequest(target.tenant_id, target.id, correlation_id), (start + offset) * interval // len(targets))
                for offset, target in enumerate(batch)
            ]
        )
    if failed:
        logger.error("some status-sync messages were not sent", extra={"failed": failed})
    return len(targets) - failed


def _targets(services: Services) -> list[CheckTarget]:
    # Connecting for longer than the whole provisioning retry budget means the work was lost.
    cutoff = services.clock() - timedelta(seconds=services.settings.provisioning_retry.budget_seconds)
    targets: list[CheckTarget] = []
    while True:
        page = _page(services, targets[-1].id if targets else None, cutoff)
        targets += page
        if len(page) < PAGE_SIZE:
            return targets


def _page(services: Services, after: UUID | None, cutoff: datetime) -> list[CheckTarget]:
    return services.database.autocommit(
        lambda session: integrations_repository.needing_check(
            session, after_id=after, limit=PAGE_SIZE, stuck_before=cutoff
        )
    )
