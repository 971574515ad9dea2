"""Evolution's webhooks, for every integration: authenticate, deduplicate, record, and announce status changes.

Evolution retries anything but 400/401/403/404/422 for about 25 minutes, sends events concurrently and out of
order, and duplicates them on retries. So: events for instances we do not know get 200 (no retry storm), a
webhook that proves nothing gets 401 (no retry), every write is idempotent, and only a database outage answers
5xx, so that Evolution's retry delivers the event later. A claim that changes an integration's state (the
instance was removed) is believed only once Evolution itself confirms it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from whatsapp_integrations.adapters import integrations_repository, webhook_store
from whatsapp_integrations.adapters.evolution_client import EvolutionError, EvolutionUnavailable
from whatsapp_integrations.adapters.webhook_store import StatusReport, WebhookTarget
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Origin
from whatsapp_integrations.domain.credentials import token_hmac
from whatsapp_integrations.domain.errors import EvolutionUnconfirmed, WebhookUnauthenticated
from whatsapp_integrations.domain.events import MessageStatusChanged
from whatsapp_integrations.domain.evolution_instance import instance_name_for
from whatsapp_integrations.domain.evolution_webhook import EvolutionWebhook
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.message_status import MessageStatus, normalise
from whatsapp_integrations.domain.provisioning import provisioning_error
from whatsapp_integrations.domain.state_change import REMOVED_STATE, InstanceUpdate, Transition
from whatsapp_integrations.observability import logger, metrics
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.outbox_dispatch import dispatch
from whatsapp_integrations.usecases.state_changes import Changes, in_one_transaction

ACTOR = "system:evolution-webhook"
MAX_WAMID_CHARS = 256


@dataclass(frozen=True)
class Outcome:
    result: Literal["recorded", "duplicate", "ignored"]
    reason: str = ""


def ingest_evolution_webhook(
    webhook: EvolutionWebhook, secret_header: str | None, services: Services, *, origin: Origin
) -> Outcome:
    integration_id = webhook.integration_id
    target = services.webhook_targets.find(integration_id) if integration_id is not None else None
    if target is None:
        logger.info("webhook for an unknown or deleted instance dropped", extra={"event": webhook.event})
        return Outcome("ignored", "unknown instance")
    if not _is_authentic(webhook, secret_header, target, services):
        # The kept target may predate a reconnect's new secret: only a fresh read can refuse.
        target = services.webhook_targets.read(target.integration_id)
        if target is None or not _is_authentic(webhook, secret_header, target, services):
            metrics.add_metric(name="WebhookUnauthenticated", unit="Count", value=1)
            raise WebhookUnauthenticated()
    handle = _HANDLERS.get(webhook.event)
    if handle is None:
        metrics.add_metric(name="UnknownWebhookEvent", unit="Count", value=1)
        return Outcome("ignored", "event not consumed")
    return handle(webhook, target, services, Origin(ACTOR, origin.request_id, origin.source_ip, origin.user_agent))


def _is_authentic(
    webhook: EvolutionWebhook, secret_header: str | None, target: WebhookTarget, services: Services
) -> bool:
    if (
        secret_header
        and target.webhook_secret_hash
        and hmac.compare_digest(hashlib.sha256(secret_header.encode()).hexdigest(), target.webhook_secret_hash)
    ):
        return True
    # Evolution's global webhook sends no custom headers; its `apikey` is the instance token.
    return bool(
        webhook.apikey
        and target.token_hmac
        and hmac.compare_digest(token_hmac(services.webhook_hmac_key(), webhook.apikey), target.token_hmac)
    )


def _ignored(reason: str) -> Outcome:
    """A malformed field of one event: the event is dropped (200, so Evolution does not retry it for 25 minutes)."""
    metrics.add_metric(name="WebhookEventMalformed", unit="Count", value=1)
    return Outcome("ignored", reason)


def _wamid(webhook: EvolutionWebhook, *path: str) -> str | None:
    wamid = webhook.text(*path)
    if wamid is None or len(wamid) > MAX_WAMID_CHARS or "\x00" in wamid:
        return None
    return wamid


def _status_update(webhook: EvolutionWebhook, target: WebhookTarget, services: Services, origin: Origin) -> Outcome:
    """One status, or an array of them (all written in one statement)."""
    reports = [report for entry in webhook.entries() if (report := _status_report(entry, target, services, origin))]
    if not reports:
        return _ignored("no usable message id or no known status")
    recorded = services.database.autocommit(
        lambda session: webhook_store.record_statuses(
            session, target.integration_id, target.tenant_id, reports, source="evolution"
        )
    )
    if not recorded.new:
        return Outcome("duplicate")
    dispatch(services, recorded.events)
    return Outcome("recorded", "" if recorded.visible else "history only")


def _status_report(
    webhook: EvolutionWebhook, target: WebhookTarget, services: Services, origin: Origin
) -> StatusReport | None:
    wamid = _wamid(webhook, "keyId") or _wamid(webhook, "key", "id")
    reported = webhook.text("status")
    status = normalise(reported) if reported else None
    if wamid is None or status is None:
        return None
    event = _status_event(target, wamid, status, origin, services) if services.publishes_events else None
    return StatusReport(wamid, status, event=event)


def _status_event(
    target: WebhookTarget, wamid: str, status: MessageStatus, origin: Origin, services: Services
) -> dict[str, object]:
    """The event's detail as far as the webhook knows it; the statement that records the status fills in the
    outcome (status, progress, failed)."""
    return MessageStatusChanged(
        integration_id=target.integration_id,
        tenant_id=target.tenant_id,
        wamid=wamid,
        reported=status.value,
        status=status.value,
        progress=status.value,
        failed=status == MessageStatus.FAILED,
        correlation_id=origin.request_id,
        occurred_at=services.clock(),
    ).detail()


def _sent_message(webhook: EvolutionWebhook, target: WebhookTarget, services: Services, origin: Origin) -> Outcome:
    wamid = _wamid(webhook, "key", "id")
    if wamid is None:
        return _ignored("no usable message id")
    recipient = _contact(webhook.text("key", "remoteJid"))
    sent_at = _timestamp(webhook.number("messageTimestamp"))
    services.database.autocommit(
        lambda session: webhook_store.record_sent(
            session, target.integration_id, target.tenant_id, wamid, recipient, sent_at
        )
    )
    return Outcome("recorded")


def _inbound_message(webhook: EvolutionWebhook, target: WebhookTarget, services: Services, origin: Origin) -> Outcome:
    contact = _contact(webhook.text("key", "remoteJid"))
    if contact is None or (isinstance(webhook.data, dict) and _from_me(webhook.data)):
        return Outcome("ignored", "no contact, or our own message")
    at = _timestamp(webhook.number("messageTimestamp")) or services.clock()
    services.database.autocommit(lambda session: webhook_store.record_inbound(session, target, contact, at))
    return Outcome("recorded")


def _from_me(data: dict[str, object]) -> bool:
    key = data.get("key")
    return isinstance(key, dict) and key.get("fromMe") is True


def _instance_removed(webhook: EvolutionWebhook, target: WebhookTarget, services: Services, origin: Origin) -> Outcome:
    """Our own disconnect also makes Evolution send this; only a connected integration was removed behind our
    back, and only Evolution itself can confirm it (a replayed or forged claim changes nothing)."""
    current = services.webhook_targets.read(target.integration_id)  # a state change is decided on fresh data
    if current is None or current.status != IntegrationStatus.CONNECTED:
        return Outcome("ignored", "not connected")
    if _instance_still_exists(target, services):
        metrics.add_metric(name="WebhookClaimRefuted", unit="Count", value=1)
        logger.warning("instance removal claimed but the instance exists; ignored", extra={"event": webhook.event})
        return Outcome("ignored", "the instance still exists")

    def mark(changes: Changes) -> Integration | None:
        found = integrations_repository.get(changes.session, target.tenant_id, target.integration_id)
        if found is None:
            return None
        return changes.transition(
            found,
            Transition(
                to=IntegrationStatus.ERROR,
                reason=f"{webhook.event}: the instance was removed outside this service",
                origin=origin,
                audit=AuditEntry("integration.instance_removed_outside", details={"event": webhook.event}),
                # The name stays: the instance is still expected, so the status check and a repair re-create it.
                error=provisioning_error("instance_removed_outside"),
                instance=InstanceUpdate(state=REMOVED_STATE),
            ),
        )

    if in_one_transaction(services, mark) is None:
        return Outcome("duplicate")
    return Outcome("recorded")


def _instance_still_exists(target: WebhookTarget, services: Services) -> bool:
    try:
        return services.evolution().fetch_instance(instance_name_for(target.integration_id)) is not None
    except (EvolutionUnavailable, EvolutionError) as error:
        # Unconfirmed: answer 503 so Evolution delivers the claim again later.
        raise EvolutionUnconfirmed() from error


def _contact(jid: str | None) -> str | None:
    digits = "".join(character for character in (jid or "").split("@")[0] if character in "0123456789")
    return digits[:32] or None


def _timestamp(seconds: int | None) -> datetime | None:
    if seconds is None or not 0 < seconds < 10_000_000_000:
        return None
    return datetime.fromtimestamp(seconds, UTC)


_HANDLERS: dict[str, Callable[[EvolutionWebhook, WebhookTarget, Services, Origin], Outcome]] = {
    "messages.update": _status_update,
    "send.message": _sent_message,
    "messages.upsert": _inbound_message,
    "instance.delete": _instance_removed,
    "remove.instance": _instance_removed,
}
