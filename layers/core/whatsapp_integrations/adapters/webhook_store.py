"""What Evolution's webhooks write: one idempotent statement per event (after the integration lookup)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.message_status import MessageRecord, MessageStatus, StatusSeen, rank
from whatsapp_integrations.domain.outbox import OutboxEntry, OutgoingMessage


@dataclass(frozen=True)
class WebhookTarget:
    """The integration an instance belongs to, with what proves a webhook is really from its Evolution config."""

    integration_id: UUID
    tenant_id: str
    status: str
    webhook_secret_hash: str | None
    token_hmac: str | None


@dataclass(frozen=True)
class RecordedStatus:
    wamid: str
    progress: MessageStatus
    failed: bool
    changed: bool  # False when this exact status was already recorded (a replay or a duplicate)
    visible_change: bool = False  # what a reader sees moved (a late SENT after READ records history only)
    event: OutboxEntry | None = None  # the MessageStatusChanged event written with it, to send now


def find_target(session: Session, integration_id: UUID) -> WebhookTarget | None:
    row = session.fetch_one(
        "SELECT id, tenant_id, status, webhook_secret_hash, token_hmac FROM integrations "
        "WHERE id = :id AND deleted_at IS NULL",
        id=integration_id,
    )
    if row is None:
        return None
    return WebhookTarget(row["id"], row["tenant_id"], row["status"], row["webhook_secret_hash"], row["token_hmac"])


# The status row is the dedupe key; the message moves only when the row is new, progress only forward, and a
# failure is stamped once and kept. `before` reads the row as it was when the statement started. A visible change
# writes its MessageStatusChanged event to the outbox in the same statement (the caller's detail, completed with
# what the statement decided), so no committed status can miss its event.
_RECORD_STATUS = """
WITH before AS (
    SELECT progress, failed_at FROM whatsapp_messages WHERE integration_id = :integration_id AND wamid = :wamid
), seen AS (
    INSERT INTO whatsapp_message_statuses (integration_id, wamid, status) VALUES (:integration_id, :wamid, :status)
    ON CONFLICT DO NOTHING
    RETURNING received_at
), applied AS (
    INSERT INTO whatsapp_messages AS m (integration_id, tenant_id, wamid, progress, progress_rank, failed_at)
    SELECT :integration_id, :tenant_id, :wamid, :progress, :progress_rank,
           CASE WHEN :failed THEN received_at END
    FROM seen
    ON CONFLICT (integration_id, wamid) DO UPDATE SET
        progress = CASE WHEN EXCLUDED.progress_rank > m.progress_rank THEN EXCLUDED.progress ELSE m.progress END,
        progress_rank = GREATEST(EXCLUDED.progress_rank, m.progress_rank),
        failed_at = COALESCE(m.failed_at, EXCLUDED.failed_at),
        updated_at = now()
    RETURNING progress, failed_at IS NOT NULL AS failed
), result AS (
    SELECT applied.progress, applied.failed,
           before.progress IS DISTINCT FROM applied.progress
               OR (before.failed_at IS NOT NULL) IS DISTINCT FROM applied.failed AS visible_change
    FROM applied LEFT JOIN before ON true
), queued AS (
    INSERT INTO outbox (tenant_id, integration_id, kind, payload)
    SELECT :tenant_id, :integration_id, 'domain_event', jsonb_build_object(
        'detail_type', 'MessageStatusChanged',
        'detail', CAST(:event AS jsonb) || jsonb_build_object(
            'status', CASE WHEN result.failed THEN 'FAILED' ELSE result.progress END,
            'progress', result.progress,
            'failed', result.failed))
    FROM result WHERE result.visible_change AND CAST(:event AS jsonb) IS NOT NULL
    RETURNING id, payload
)
SELECT result.progress, result.failed, result.visible_change, queued.id AS event_id, queued.payload AS event_payload
FROM result LEFT JOIN queued ON true
"""


def record_status(
    session: Session, target: WebhookTarget, wamid: str, status: MessageStatus, event: dict[str, Any] | None
) -> RecordedStatus:
    """`event`: the detail of the MessageStatusChanged event to write if what a reader sees moves (None: none)."""
    failed = status == MessageStatus.FAILED
    row = session.fetch_one(
        _RECORD_STATUS,
        event=json.dumps(event, default=str) if event is not None else None,
        integration_id=target.integration_id,
        tenant_id=target.tenant_id,
        wamid=wamid,
        status=status.value,
        progress=(MessageStatus.PENDING if failed else status).value,
        progress_rank=max(rank(status), 0),
        failed=failed,
    )
    if row is None:
        return RecordedStatus(wamid, status, failed, changed=False)
    queued = None
    if row["event_id"] is not None:
        message = OutgoingMessage(target.tenant_id, target.integration_id, "domain_event", row["event_payload"])
        queued = OutboxEntry(row["event_id"], message)
    return RecordedStatus(
        wamid,
        MessageStatus(row["progress"]),
        bool(row["failed"]),
        changed=True,
        visible_change=bool(row["visible_change"]),
        event=queued,
    )


def record_sent(
    session: Session, target: WebhookTarget, wamid: str, recipient: str | None, sent_at: datetime | None
) -> None:
    """The outgoing message; a status that arrived first already created the row, so only fill in the blanks."""
    session.execute(
        """INSERT INTO whatsapp_messages AS m (integration_id, tenant_id, wamid, recipient, sent_at, progress,
               progress_rank)
           VALUES (:integration_id, :tenant_id, :wamid, :recipient, :sent_at, 'PENDING', 0)
           ON CONFLICT (integration_id, wamid) DO UPDATE SET recipient = COALESCE(m.recipient, EXCLUDED.recipient),
               sent_at = COALESCE(m.sent_at, EXCLUDED.sent_at)""",
        integration_id=target.integration_id,
        tenant_id=target.tenant_id,
        wamid=wamid,
        recipient=recipient,
        sent_at=sent_at,
    )


def record_inbound(session: Session, target: WebhookTarget, contact: str, at: datetime) -> None:
    session.execute(
        """INSERT INTO contact_activity AS c (integration_id, contact, last_inbound_at)
           VALUES (:integration_id, :contact, :at)
           ON CONFLICT (integration_id, contact) DO UPDATE SET
               last_inbound_at = GREATEST(c.last_inbound_at, EXCLUDED.last_inbound_at)""",
        integration_id=target.integration_id,
        contact=contact,
        at=at,
    )


def find_message(session: Session, tenant_id: str, integration_id: UUID, wamid: str) -> MessageRecord | None:
    row = session.fetch_one(
        """SELECT wamid, recipient, sent_at, progress, failed_at, updated_at FROM whatsapp_messages
           WHERE tenant_id = :tenant_id AND integration_id = :integration_id AND wamid = :wamid""",
        tenant_id=tenant_id,
        integration_id=integration_id,
        wamid=wamid,
    )
    if row is None:
        return None
    history = session.fetch(
        """SELECT status, received_at FROM whatsapp_message_statuses
           WHERE integration_id = :integration_id AND wamid = :wamid ORDER BY received_at, status""",
        integration_id=integration_id,
        wamid=wamid,
    )
    return MessageRecord(
        wamid=row["wamid"],
        recipient=row["recipient"],
        sent_at=row["sent_at"],
        progress=MessageStatus(row["progress"]),
        failed_at=row["failed_at"],
        updated_at=row["updated_at"],
        history=[StatusSeen(MessageStatus(entry["status"]), entry["received_at"]) for entry in history],
    )
