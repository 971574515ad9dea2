"""Sending what the outbox holds: right after a commit (`dispatch`), and by the scheduled sweeper (`sweep_outbox`)
for whatever that could not send (a crash after commit, SQS or EventBridge down).

At least once, in order per integration: a message that fails stops the later messages of its integration until
it is sent. Consumers are idempotent (the provisioner drops a message its integration's status no longer expects,
event consumers key on the event's fields), so a message sent twice does no harm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from whatsapp_integrations.adapters import outbox
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.outbox import OutboxEntry, OutgoingMessage
from whatsapp_integrations.domain.provisioning import ProvisioningMessage
from whatsapp_integrations.observability import logger, metrics
from whatsapp_integrations.services import Services

SWEEP_BATCH = 500


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
        ready = _with_older_messages(services, entries)
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
    waiting = services.database.autocommit(lambda session: outbox.waiting_for(session, sorted(behind)))
    return sorted(
        [entry for entry in entries if entry.message.integration_id not in behind] + waiting,
        key=lambda entry: entry.id,
    )


def send_in_order(services: Services, entries: Sequence[OutboxEntry]) -> Sent:
    sent = Sent()
    blocked: set[UUID] = set()
    for entry in entries:
        integration_id = entry.message.integration_id
        if integration_id in blocked:
            continue
        try:
            _send(services, entry.message)
        except Exception as error:
            blocked.add(integration_id)
            sent.failed[entry.id] = type(error).__name__
            metrics.add_metric(name="OutboxSendFailed", unit="Count", value=1)
            logger.warning(
                "outbox message not sent; kept for the sweeper",
                extra={"kind": entry.message.kind, "error_type": type(error).__name__},
            )
            continue
        sent.ids.append(entry.id)
    return sent


def _send(services: Services, message: OutgoingMessage) -> None:
    if message.kind == "provisioning":
        services.queue.send(ProvisioningMessage.from_payload(message.payload))
    elif services.domain_events is not None:  # written while a bus was configured; without one there is nowhere
        services.domain_events.publish(str(message.payload["detail_type"]), dict(message.payload["detail"]))


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
