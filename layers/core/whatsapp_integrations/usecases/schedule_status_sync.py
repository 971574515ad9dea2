"""The scheduler's fan-out: one status-sync message per integration that needs a check, ten per SendMessageBatch,
their delivery spread over the interval so that Evolution and Meta never see a burst.

The batches go out in parallel: each SendMessageBatch waits 10-20 ms on SQS, so one after the other, 100,000
integrations (10,000 calls) would take most of the function's timeout. boto3 clients are thread-safe.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.adapters.status_sync_queue import StatusSyncQueue, SyncRequest
from whatsapp_integrations.domain.integration import CheckTarget
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services

PAGE_SIZE = 1000
BATCH_SIZE = 10  # SendMessageBatch's limit
# As many calls in flight as a boto3 client keeps connections (botocore's max_pool_connections, 10 by default).
SENDERS = 10


def schedule_status_sync(services: Services, queue: StatusSyncQueue, *, correlation_id: str) -> int:
    """Queue a check of every integration that needs one; return how many were queued. Entries SQS refuses are
    counted and logged, not queued again (the next run checks them); a call that fails outright fails the run,
    once every other batch has been sent."""
    targets = _targets(services)
    interval = services.settings.status_sync_interval_minutes * 60
    batches = [
        [
            (SyncRequest(target.tenant_id, target.id, correlation_id), (start + offset) * interval // len(targets))
            for offset, target in enumerate(targets[start : start + BATCH_SIZE])
        ]
        for start in range(0, len(targets), BATCH_SIZE)
    ]
    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="status-sync-send") as senders:
        failed = sum(senders.map(queue.send_batch, batches))
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
