"""Meta's webhooks, one URL per integration: the verification handshake, and every post checked against the
integration's app secret, split into one post per change and per status or message, and queued for the relay worker.
What Evolution would drop of Meta's statuses (their failure details and pricing) is recorded first, deduplicated and
forward-only like Evolution's own reports, so the relay worker only forwards. Meta gets its 200 as soon as the post
is queued; a post that proves nothing is refused before anything is recorded or queued.

Meta retries any non-200 answer for up to days, so only a queue outage answers 5xx: a post for a number that is
not the integration's is answered 200 and dropped (counted), never forwarded.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from whatsapp_integrations.adapters import webhook_store
from whatsapp_integrations.adapters.relay_queue import RelayItem
from whatsapp_integrations.adapters.webhook_store import MetaTarget, StatusReport
from whatsapp_integrations.domain.errors import (
    HandshakeRefused,
    IntegrationNotFound,
    MalformedWebhook,
    QueueUnavailable,
    WebhookUnauthenticated,
)
from whatsapp_integrations.domain.events import MessageStatusChanged
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.meta_errors import advise
from whatsapp_integrations.domain.meta_webhook import MetaStatus, signature_matches, split_for_evolution, statuses_of
from whatsapp_integrations.observability import logger, metrics
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.outbox_dispatch import dispatch
from whatsapp_integrations.usecases.webhook_secrets import secret_hash

SUBSCRIBE = "subscribe"
MAX_CHALLENGE_CHARS = 512
# Nothing of ours exists at Evolution for these: a post is answered 200 and dropped.
_NOT_RELAYED = frozenset({IntegrationStatus.VALIDATED, IntegrationStatus.DISCONNECTED})


def answer_handshake(
    integration_id: UUID, mode: str | None, verify_token: str | None, challenge: str | None, services: Services
) -> str:
    """The challenge to echo when Meta presents this integration's verify token; HandshakeRefused otherwise."""
    target = _target(integration_id, services)
    if (
        mode != SUBSCRIBE
        or not verify_token
        or not challenge
        or len(challenge) > MAX_CHALLENGE_CHARS
        or target.meta_verify_token_hash is None
        or not hmac.compare_digest(secret_hash(verify_token), target.meta_verify_token_hash)
    ):
        metrics.add_metric(name="MetaHandshakeRefused", unit="Count", value=1)
        raise HandshakeRefused()
    return challenge


@dataclass(frozen=True)
class Relayed:
    queued: int
    dropped: int


def receive_meta_webhook(
    integration_id: UUID, raw_body: bytes, signature: str | None, services: Services, *, correlation_id: str
) -> Relayed:
    target = _target(integration_id, services)
    if target.app_secret_ciphertext is None or not signature_matches(
        raw_body, signature, _app_secret(target, services)
    ):
        metrics.add_metric(name="MetaWebhookUnauthenticated", unit="Count", value=1)
        raise WebhookUnauthenticated(
            "X-Hub-Signature-256 is missing or is not the signature of this body with the integration's app secret."
        )
    try:
        payload = json.loads(raw_body, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise MalformedWebhook("the body is not JSON") from None
    split = split_for_evolution(payload, waba_id=target.waba_id, phone_number_id=target.phone_number_id)
    if split.foreign:
        metrics.add_metric(name="MetaWebhookForeignChange", unit="Count", value=split.foreign)
        logger.warning("changes for another WABA or number dropped", extra={"dropped": split.foreign})
    if IntegrationStatus(target.status) in _NOT_RELAYED:
        metrics.add_metric(name="MetaWebhookNotConnected", unit="Count", value=1)
        return Relayed(0, len(split.posts) + split.foreign + split.not_relayed)
    _record_what_evolution_drops(target, split.posts, services, correlation_id)
    items = [RelayItem(target.integration_id, target.tenant_id, post, correlation_id) for post in split.posts]
    if items and services.relay_queue.send(items):
        raise QueueUnavailable()
    return Relayed(len(items), split.foreign + split.not_relayed)


def _not_json(constant: str) -> Any:
    """NaN and Infinity, which Python's parser takes and no JSON (nor the relay's POST to Evolution) allows."""
    raise ValueError(f"{constant} is not JSON")


def _record_what_evolution_drops(
    target: MetaTarget, posts: list[dict[str, Any]], services: Services, correlation_id: str
) -> None:
    """One statement for the whole post: its statuses with Meta's details, or just that Meta was heard from."""
    statuses = [status for post in posts for status in statuses_of(post)]
    if not statuses:
        services.database.autocommit(
            lambda session: webhook_store.touch(session, target.integration_id, target.tenant_id, "meta")
        )
        return
    reports = [_report(target, status, services, correlation_id) for status in statuses]
    recorded = services.database.autocommit(
        lambda session: webhook_store.record_statuses(
            session, target.integration_id, target.tenant_id, reports, source="meta"
        )
    )
    dispatch(services, recorded.events)


def _report(target: MetaTarget, status: MetaStatus, services: Services, correlation_id: str) -> StatusReport:
    error_code = advise(status.failure.code).code if status.failure and status.failure.code is not None else None
    event = (
        MessageStatusChanged(
            integration_id=target.integration_id,
            tenant_id=target.tenant_id,
            wamid=status.wamid,
            reported=status.status.value,
            status=status.status.value,
            progress=status.status.value,
            failed=False,
            error_code=error_code,
            correlation_id=correlation_id or None,
            occurred_at=services.clock(),
        ).detail()
        if services.publishes_events
        else None
    )
    return StatusReport(status.wamid, status.status, status.failure, status.pricing, event)


def _target(integration_id: UUID, services: Services) -> MetaTarget:
    target = services.database.autocommit(lambda session: webhook_store.find_meta_target(session, integration_id))
    if target is None:
        raise IntegrationNotFound()
    return target


def _app_secret(target: MetaTarget, services: Services) -> str:
    assert target.app_secret_ciphertext is not None
    return services.app_secrets.app_secret(
        target.tenant_id, target.integration_id, target.app_secret_ciphertext, target.kms_key_id
    )
