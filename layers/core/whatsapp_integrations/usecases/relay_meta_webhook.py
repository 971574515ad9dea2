"""The relay worker: one queued post of Meta's at a time. First what Evolution would drop is recorded (Meta's
statuses with their failure details and pricing, deduplicated and forward-only like Evolution's own), then the post
goes to Evolution's `/webhook/meta`. Evolution down or failing is a transient failure: the message comes back
with the relay's backoff, and dead-letters once its attempts are spent (`make redrive` brings it back)."""

from __future__ import annotations

from whatsapp_integrations.adapters import webhook_store
from whatsapp_integrations.adapters.evolution_client import EvolutionUnavailable
from whatsapp_integrations.adapters.relay_queue import RelayItem
from whatsapp_integrations.adapters.webhook_store import StatusReport
from whatsapp_integrations.domain.events import MessageStatusChanged
from whatsapp_integrations.domain.meta_errors import advise
from whatsapp_integrations.domain.meta_webhook import MetaStatus, statuses_of
from whatsapp_integrations.domain.provisioning import TransientFailure, provisioning_error
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.outbox_dispatch import dispatch


def relay_meta_webhook(item: RelayItem, services: Services) -> None:
    statuses = statuses_of(item.post)
    if statuses:
        recorded = services.database.autocommit(
            lambda session: webhook_store.record_statuses(
                session,
                item.integration_id,
                item.tenant_id,
                [_report(item, status, services) for status in statuses],
                source="meta",
            )
        )
        dispatch(services, recorded.events)
    else:
        services.database.autocommit(
            lambda session: webhook_store.touch(session, item.integration_id, item.tenant_id, "meta")
        )
    try:
        services.meta_forwarder.forward(item.post)
    except EvolutionUnavailable as error:
        raise TransientFailure(
            provisioning_error("evolution_unavailable", f"HTTP {error.status or 'no answer'}.")
        ) from None


def _report(item: RelayItem, status: MetaStatus, services: Services) -> StatusReport:
    error_code = advise(status.failure.code).code if status.failure and status.failure.code is not None else None
    event = (
        MessageStatusChanged(
            integration_id=item.integration_id,
            tenant_id=item.tenant_id,
            wamid=status.wamid,
            reported=status.status.value,
            status=status.status.value,
            progress=status.status.value,
            failed=False,
            error_code=error_code,
            correlation_id=item.correlation_id or None,
            occurred_at=services.clock(),
        ).detail()
        if services.publishes_events
        else None
    )
    return StatusReport(status.wamid, status.status, status.failure, status.pricing, event)
