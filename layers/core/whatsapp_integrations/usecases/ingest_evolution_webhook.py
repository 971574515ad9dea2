"""Evolution's webhooks, for every integration: authenticate, deduplicate, record, and announce status changes.

Evolution retries anything but 400/401/403/404/422 for about 25 minutes, sends events concurrently and out of
order, and duplicates them on retries. So: events for instances we do not know get 200 (no retry storm), a
webhook that proves nothing gets 401 (no retry), every write is idempotent, and only a database outage answers
5xx, so that Evolution's retry delivers the event later.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from whatsapp_integrations.adapters import audit_log, integrations_repository, webhook_store
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.adapters.webhook_store import WebhookTarget
from whatsapp_integrations.domain.credentials import token_hmac
from whatsapp_integrations.domain.errors import WebhookUnauthenticated
from whatsapp_integrations.domain.evolution_webhook import EvolutionWebhook
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.message_status import normalise, shown_status
from whatsapp_integrations.domain.provisioning import provisioning_error
from whatsapp_integrations.observability import logger, metrics
from whatsapp_integrations.services import Services

_SYSTEM_ACTOR = "system:evolution-webhook"


@dataclass(frozen=True)
class Outcome:
    result: Literal["recorded", "duplicate", "ignored"]
    reason: str = ""


def ingest_evolution_webhook(webhook: EvolutionWebhook, secret_header: str | None, services: Services) -> Outcome:
    integration_id = webhook.integration_id
    target = None
    if integration_id is not None:
        target = services.database.autocommit(lambda session: webhook_store.find_target(session, integration_id))
    if target is None:
        logger.info("webhook for an unknown or deleted instance dropped", extra={"event": webhook.event})
        return Outcome("ignored", "unknown instance")
    _authenticate(webhook, secret_header, target, services)
    handle = _HANDLERS.get(webhook.event)
    if handle is None:
        metrics.add_metric(name="UnknownWebhookEvent", unit="Count", value=1)
        return Outcome("ignored", "event not consumed")
    return handle(webhook, target, services)


def _authenticate(
    webhook: EvolutionWebhook, secret_header: str | None, target: WebhookTarget, services: Services
) -> None:
    if (
        secret_header
        and target.webhook_secret_hash
        and hmac.compare_digest(hashlib.sha256(secret_header.encode()).hexdigest(), target.webhook_secret_hash)
    ):
        return
    # Evolution's global webhook sends no custom headers; its `apikey` is the instance token.
    if (
        webhook.apikey
        and target.token_hmac
        and hmac.compare_digest(token_hmac(services.webhook_hmac_key(), webhook.apikey), target.token_hmac)
    ):
        return
    metrics.add_metric(name="WebhookUnauthenticated", unit="Count", value=1)
    raise WebhookUnauthenticated()


def _status_update(webhook: EvolutionWebhook, target: WebhookTarget, services: Services) -> Outcome:
    wamid = webhook.text("keyId") or webhook.text("key", "id")
    reported = webhook.text("status")
    status = normalise(reported) if reported else None
    if wamid is None or status is None:
        return Outcome("ignored", "no message id or no known status")
    change = services.database.autocommit(lambda session: webhook_store.record_status(session, target, wamid, status))
    if not change.changed:
        return Outcome("duplicate")
    if not change.visible_change:
        return Outcome("recorded", "history only")
    services.publish(
        "MessageStatusChanged",
        {
            "tenant_id": target.tenant_id,
            "integration_id": str(target.integration_id),
            "wamid": wamid,
            "reported": status.value,
            "status": shown_status(change.progress, change.failed).value,
            "progress": change.progress.value,
            "failed": change.failed,
        },
    )
    return Outcome("recorded")


def _sent_message(webhook: EvolutionWebhook, target: WebhookTarget, services: Services) -> Outcome:
    wamid = webhook.text("key", "id")
    if wamid is None:
        return Outcome("ignored", "no message id")
    recipient = _contact(webhook.text("key", "remoteJid"))
    sent_at = _timestamp(webhook.number("messageTimestamp"))
    services.database.autocommit(lambda session: webhook_store.record_sent(session, target, wamid, recipient, sent_at))
    return Outcome("recorded")


def _inbound_message(webhook: EvolutionWebhook, target: WebhookTarget, services: Services) -> Outcome:
    contact = _contact(webhook.text("key", "remoteJid"))
    if contact is None or (isinstance(webhook.data, dict) and (webhook.data.get("key") or {}).get("fromMe") is True):
        return Outcome("ignored", "no contact, or our own message")
    at = _timestamp(webhook.number("messageTimestamp")) or services.clock()
    services.database.autocommit(lambda session: webhook_store.record_inbound(session, target, contact, at))
    return Outcome("recorded")


def _instance_removed(webhook: EvolutionWebhook, target: WebhookTarget, services: Services) -> Outcome:
    """Our own disconnect also makes Evolution send this; only a connected integration was removed behind our back."""
    if target.status != IntegrationStatus.CONNECTED:
        return Outcome("ignored", "not connected")

    def mark(session: Session) -> bool:
        found = integrations_repository.get(session, target.tenant_id, target.integration_id)
        if found is None:
            return False
        moved = integrations_repository.transition(
            session,
            found,
            allowed_from=frozenset({IntegrationStatus.CONNECTED}),
            to=IntegrationStatus.ERROR,
            reason=f"{webhook.event}: the instance was removed outside this service",
            correlation_id=None,
            error=provisioning_error("instance_removed_outside"),
            evolution={"clear": True},
        )
        if moved is not None:
            audit_log.record(
                session,
                tenant_id=target.tenant_id,
                integration_id=target.integration_id,
                actor=_SYSTEM_ACTOR,
                action="integration.instance_removed_outside",
                request_id=None,
                details={"event": webhook.event},
            )
        return moved is not None

    if not services.database.in_transaction(mark):
        return Outcome("duplicate")
    services.publish(
        "IntegrationStatusChanged",
        {
            "tenant_id": target.tenant_id,
            "integration_id": str(target.integration_id),
            "status": "error",
            "reason": "instance_removed_outside",
        },
    )
    return Outcome("recorded")


def _contact(jid: str | None) -> str | None:
    digits = "".join(character for character in (jid or "").split("@")[0] if character.isdigit())
    return digits[:32] or None


def _timestamp(seconds: int | None) -> datetime | None:
    if seconds is None or not 0 < seconds < 10_000_000_000:
        return None
    return datetime.fromtimestamp(seconds, UTC)


_HANDLERS: dict[str, Callable[[EvolutionWebhook, WebhookTarget, Services], Outcome]] = {
    "messages.update": _status_update,
    "send.message": _sent_message,
    "messages.upsert": _inbound_message,
    "instance.delete": _instance_removed,
    "remove.instance": _instance_removed,
}
