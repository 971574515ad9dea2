"""Sending what the outbox holds: right after a commit (`dispatch`), and by the scheduled sweeper (`sweep_outbox`)
for whatever that could not send (a crash after commit, SQS or EventBridge down).

At least once, in order per integration: a message that fails stops the later messages of its integration until
it is sent. Consumers are idempotent (the provisioner drops a message its integration's status no longer expects,
event consumers key on the event's fields), so a message sent twice does no harm. Domain events go out ten to a
PutEvents call; when EventBridge refuses one entry of a call (throttled) and takes the rest, a later event of the
same integration in that call is out before it (EventBridge promises consumers no order anyway).

A request sends at most DISPATCH_LIMIT messages after its commit, so a post with thousands of statuses still answers
in time; what it leaves, the sweeper sends (or the next request of that integration, oldest first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from whatsapp_integrations.adapters import outbox
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.adapters.domain_events import EVENTS_PER_CALL
from whatsapp_integrations.domain.outbox import OutboxEntry
from whatsapp_integrations.domain.provisioning import ProvisioningMessage
from whatsapp_integrations.observability import logger, metrics
from whatsapp_integrations.services import Services

SWEEP_BATCH = 500
DISPATCH_LIMIT = 50


@dataclass
class Sent:
    ids: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def dispatch(services: Services, entries: Sequence[OutboxEntry]) -> Sent:
    """Send what a transaction just wrote, then delete it. Never raises: what is left, the sweeper sends.

    When an older message of the same integration still waits (its own dispatch failed, or is running right now),
    every waiting message of that integration is sent, oldest first, so ours never overtakes it; in the second
    case the older one may go out twice, which consumers tolerate.
    """
    if not entries:
        return Sent()
    try:
        ready = _with_older_messages(services, entries)[:DISPATCH_LIMIT]
        sent = send_in_order(services, ready)
        services.database.autocommit(lambda session: outbox.delete_sent(session, sent.ids))
    except Exception as error:  # sent but not deleted, or not read: the sweeper sends it (again)
        logger.warning("outbox dispatch incomplete; left to the sweeper", extra={"error_type": type(error).__name__})
        return Sent()
    return sent


def _with_older_messages(services: Services, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
    behind = {entry.message.integration_id for entry in entries if entry.behind_older}
    if not behind:
        return list(entries)
    waiting = services.database.autocommit(
        lambda session: outbox.waiting_for(session, sorted(behind), limit=DISPATCH_LIMIT)
    )
    return sorted(
        [entry for entry in entries if entry.message.integration_id not in behind] + waiting,
        key=lambda entry: entry.id,
    )


def send_in_order(services: Services, entries: Sequence[OutboxEntry]) -> Sent:
    sent = Sent()
    blocked: set[UUID] = set()
    events: list[OutboxEntry] = []  # domain events waiting to go out together, in order

    def fail(entry: OutboxEntry, error: str) -> None:
        blocked.add(entry.message.integration_id)
        sent.failed[entry.id] = error
        metrics.add_metric(name="OutboxSendFailed", unit="Count", value=1)
        logger.warning(
            "outbox message not sent; kept for the sweeper", extra={"kind": entry.message.kind, "error_type": error}
        )

    def publish_events() -> None:
        batch = [entry for entry in events if entry.message.integration_id not in blocked]
        events.clear()
        if not batch:
            return
        try:
            outcomes = _publish(services, batch)
        except Exception as error:  # the call itself failed: none of them went out
            outcomes = [type(error).__name__] * len(batch)
        for entry, refused in zip(batch, outcomes, strict=True):
            if refused is None:
                sent.ids.append(entry.id)
            else:
                fail(entry, refused)

    for entry in entries:
        if entry.message.kind != "provisioning":
            events.append(entry)
            if len(events) == EVENTS_PER_CALL:
                publish_events()
            continue
        publish_events()  # the events written before it go first
        if entry.message.integration_id in blocked:
            continue
        try:
            services.queue.send(ProvisioningMessage.from_payload(entry.message.payload))
        except Exception as error:
            fail(entry, type(error).__name__)
            continue
        sent.ids.append(entry.id)
    publish_events()
    return sent


def _publish(services: Services, batch: Sequence[OutboxEntry]) -> list[str | None]:
    if services.domain_events is None:  # written while a bus was configured; without one there is nowhere
        return [None] * len(batch)
    return services.domain_events.publish_many(
        [(str(entry.message.payload["detail_type"]), dict(entry.message.payload["detail"])) for entry in batch]
    )


@dataclass(frozen=True)
class SweepReport:
    swept: bool
    sent: int = 0
    failed: int = 0


def sweep_outbox(services: Services) -> SweepReport:
    """Send every message older than the grace period, oldest first, one sweeper at a time."""

    def sweep(session: Session) -> SweepReport:
        if not outbox.try_lock_sweeper(session):
            return SweepReport(swept=False)
        grace = timedelta(seconds=services.settings.outbox_sweep_after_seconds)
        due = outbox.due(session, written_before=services.clock() - grace, limit=SWEEP_BATCH)
        sent = send_in_order(services, due)
        outbox.delete(session, sent.ids)
        for entry_id, error in sent.failed.items():
            outbox.record_failure(session, [entry_id], error)
        return SweepReport(swept=True, sent=len(sent.ids), failed=len(sent.failed))

    report = services.database.in_transaction(sweep)
    if report.sent or report.failed:
        logger.info("outbox swept", extra={"sent": report.sent, "failed": report.failed})
    return report
