"""What the webhooks write, from Evolution (`/webhooks/evolution`) and from Meta (through the relay): one idempotent
statement per event, which also stamps when that side last reached us."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.integration import WebhookActivity
from whatsapp_integrations.domain.message_status import MessageFailure, MessageRecord, MessageStatus, StatusSeen, rank
from whatsapp_integrations.domain.outbox import OutboxEntry, OutgoingMessage

Source = Literal["evolution", "meta"]


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


@dataclass(frozen=True, repr=False)
class MetaTarget:
    """The integration a Meta post is addressed to, with what checks it: the verify token's hash (handshake) and the
    app secret's ciphertext (signature)."""

    integration_id: UUID
    tenant_id: str
    status: str
    waba_id: str
    phone_number_id: str
    app_secret_ciphertext: bytes | None
    kms_key_id: str
    meta_verify_token_hash: str | None


def find_meta_target(session: Session, integration_id: UUID) -> MetaTarget | None:
    row = session.fetch_one(
        """SELECT id, tenant_id, status, waba_id, phone_number_id, app_secret_ciphertext, kms_key_id,
                  meta_verify_token_hash
           FROM integrations WHERE id = :id AND deleted_at IS NULL""",
        id=integration_id,
    )
    if row is None:
        return None
    return MetaTarget(
        row["id"],
        row["tenant_id"],
        row["status"],
        row["waba_id"],
        row["phone_number_id"],
        row["app_secret_ciphertext"],
        row["kms_key_id"],
        row["meta_verify_token_hash"],
    )


def _touch(source: Source) -> str:
    """A CTE that stamps when `source` last reached us, at most every 30 s (no write for every event)."""
    column = f"last_{source}_event_at"
    return f"""touched AS (
    INSERT INTO integration_activity AS a (integration_id, tenant_id, {column})
    VALUES (:integration_id, :tenant_id, now())
    ON CONFLICT (integration_id) DO UPDATE SET {column} = EXCLUDED.{column}
    WHERE a.{column} IS NULL OR a.{column} < EXCLUDED.{column} - interval '30 seconds'
)"""


# The status row is the dedupe key: the message moves only when the row is new, progress only forward, and a
# failure is stamped once and kept. Meta's failure details and pricing fill in a row Evolution wrote first, without
# counting as a new status. `before` reads the row as it was when the statement started. A visible change writes
# its MessageStatusChanged event to the outbox in the same statement (the caller's detail, completed with what the
# statement decided), so no committed status can miss its event.
_RECORD_STATUS = """
WITH before AS (
    SELECT progress, failed_at FROM whatsapp_messages WHERE integration_id = :integration_id AND wamid = :wamid
), seen AS (
    INSERT INTO whatsapp_message_statuses AS s (integration_id, wamid, status, error_code, error_title, error_message,
        error_details, pricing)
    VALUES (:integration_id, :wamid, :status, :error_code, :error_title, :error_message, :error_details,
        CAST(:pricing AS jsonb))
    ON CONFLICT (integration_id, wamid, status) DO UPDATE SET
        error_code = COALESCE(s.error_code, EXCLUDED.error_code),
        error_title = COALESCE(s.error_title, EXCLUDED.error_title),
        error_message = COALESCE(s.error_message, EXCLUDED.error_message),
        error_details = COALESCE(s.error_details, EXCLUDED.error_details),
        pricing = COALESCE(s.pricing, EXCLUDED.pricing)
    WHERE EXCLUDED.error_code IS NOT NULL OR EXCLUDED.error_title IS NOT NULL OR EXCLUDED.error_message IS NOT NULL
       OR EXCLUDED.error_details IS NOT NULL OR EXCLUDED.pricing IS NOT NULL
    RETURNING received_at, xmax = 0 AS inserted
), applied AS (
    INSERT INTO whatsapp_messages AS m (integration_id, tenant_id, wamid, progress, progress_rank, failed_at)
    SELECT :integration_id, :tenant_id, :wamid, :progress, :progress_rank,
           CASE WHEN :failed THEN received_at END
    FROM seen WHERE seen.inserted
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
), {touched}
SELECT result.progress, result.failed, result.visible_change, queued.id AS event_id, queued.payload AS event_payload
FROM result LEFT JOIN queued ON true
"""
_RECORD_STATUS_FROM = {source: _RECORD_STATUS.format(touched=_touch(source)) for source in ("evolution", "meta")}


def record_status(
    session: Session,
    target_integration_id: UUID,
    tenant_id: str,
    wamid: str,
    status: MessageStatus,
    *,
    source: Source,
    event: dict[str, Any] | None,
    failure: MessageFailure | None = None,
    pricing: dict[str, Any] | None = None,
) -> RecordedStatus:
    """`event`: the detail of the MessageStatusChanged event to write if what a reader sees moves (None: none)."""
    failed = status == MessageStatus.FAILED
    row = session.fetch_one(
        _RECORD_STATUS_FROM[source],
        event=json.dumps(event, default=str) if event is not None else None,
        integration_id=target_integration_id,
        tenant_id=tenant_id,
        wamid=wamid,
        status=status.value,
        progress=(MessageStatus.PENDING if failed else status).value,
        progress_rank=max(rank(status), 0),
        failed=failed,
        error_code=failure.code if failure else None,
        error_title=failure.title if failure else None,
        error_message=failure.message if failure else None,
        error_details=failure.details if failure else None,
        pricing=json.dumps(pricing) if pricing else None,
    )
    if row is None:
        return RecordedStatus(wamid, status, failed, changed=False)
    queued = None
    if row["event_id"] is not None:
        message = OutgoingMessage(tenant_id, target_integration_id, "domain_event", row["event_payload"])
        queued = OutboxEntry(row["event_id"], message)
    return RecordedStatus(
        wamid,
        MessageStatus(row["progress"]),
        bool(row["failed"]),
        changed=True,
        visible_change=bool(row["visible_change"]),
        event=queued,
    )


_INSERT_SENT = """INSERT INTO whatsapp_messages AS m (integration_id, tenant_id, wamid, recipient, sent_at, progress,
    progress_rank)
VALUES (:integration_id, :tenant_id, :wamid, :recipient, :sent_at, 'PENDING', 0)
ON CONFLICT (integration_id, wamid) DO UPDATE SET recipient = COALESCE(m.recipient, EXCLUDED.recipient),
    sent_at = COALESCE(m.sent_at, EXCLUDED.sent_at)"""
_RECORD_SENT = f"""WITH {_touch("evolution")}
{_INSERT_SENT}"""


def record_sent(
    session: Session, integration_id: UUID, tenant_id: str, wamid: str, recipient: str | None, sent_at: datetime | None
) -> None:
    """The outgoing message Evolution reported (send.message); a status that arrived first already created the row,
    so only fill in the blanks."""
    session.execute(
        _RECORD_SENT,
        integration_id=integration_id,
        tenant_id=tenant_id,
        wamid=wamid,
        recipient=recipient,
        sent_at=sent_at,
    )


def record_own_send(
    session: Session, integration_id: UUID, tenant_id: str, wamid: str, recipient: str, sent_at: datetime
) -> None:
    """A message this service sent (a test message), known before any webhook tells of it."""
    session.execute(
        _INSERT_SENT,
        integration_id=integration_id,
        tenant_id=tenant_id,
        wamid=wamid,
        recipient=recipient,
        sent_at=sent_at,
    )


_RECORD_INBOUND = f"""WITH {_touch("evolution")}
INSERT INTO contact_activity AS c (integration_id, contact, last_inbound_at)
VALUES (:integration_id, :contact, :at)
ON CONFLICT (integration_id, contact) DO UPDATE SET
    last_inbound_at = GREATEST(c.last_inbound_at, EXCLUDED.last_inbound_at)"""


def record_inbound(session: Session, target: WebhookTarget, contact: str, at: datetime) -> None:
    session.execute(
        _RECORD_INBOUND, integration_id=target.integration_id, tenant_id=target.tenant_id, contact=contact, at=at
    )


def touch(session: Session, integration_id: UUID, tenant_id: str, source: Source) -> None:
    """Stamp an event of `source` that wrote nothing else."""
    session.execute(f"WITH {_touch(source)} SELECT 1", integration_id=integration_id, tenant_id=tenant_id)


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
        """SELECT status, received_at, error_code, error_title, error_message, error_details, pricing
           FROM whatsapp_message_statuses
           WHERE integration_id = :integration_id AND wamid = :wamid ORDER BY received_at, status""",
        integration_id=integration_id,
        wamid=wamid,
    )
    failure = next(
        (
            MessageFailure(entry["error_code"], entry["error_title"], entry["error_message"], entry["error_details"])
            for entry in history
            if entry["status"] == MessageStatus.FAILED
        ),
        None,
    )
    pricing = next((entry["pricing"] for entry in reversed(history) if entry["pricing"]), None)
    return MessageRecord(
        wamid=row["wamid"],
        recipient=row["recipient"],
        sent_at=row["sent_at"],
        progress=MessageStatus(row["progress"]),
        failed_at=row["failed_at"],
        updated_at=row["updated_at"],
        history=[StatusSeen(MessageStatus(entry["status"]), entry["received_at"]) for entry in history],
        failure=failure,
        pricing=pricing,
    )


def activity(session: Session, integration_id: UUID) -> WebhookActivity:
    row = session.fetch_one(
        "SELECT last_meta_event_at, last_evolution_event_at FROM integration_activity "
        "WHERE integration_id = :integration_id",
        integration_id=integration_id,
    )
    return WebhookActivity(row["last_meta_event_at"], row["last_evolution_event_at"]) if row else WebhookActivity()


def stuck_messages(session: Session, integration_id: UUID) -> int:
    """Messages at SENT, without a failure, for more than 24 hours: their delivery reports did not come."""
    row = session.fetch_one(
        """SELECT count(*) AS stuck FROM whatsapp_messages
           WHERE integration_id = :integration_id AND progress = 'SENT' AND failed_at IS NULL
             AND updated_at < now() - interval '24 hours'""",
        integration_id=integration_id,
    )
    return int(row["stuck"]) if row else 0


def recent_failures(session: Session, integration_id: UUID) -> dict[int | None, int]:
    """FAILED statuses of the last 7 days, by Meta's error code (None: Evolution reported it without a code)."""
    rows = session.fetch(
        """SELECT error_code, count(*) AS failures FROM whatsapp_message_statuses
           WHERE integration_id = :integration_id AND status = 'FAILED' AND received_at > now() - interval '7 days'
           GROUP BY error_code ORDER BY failures DESC""",
        integration_id=integration_id,
    )
    return {row["error_code"]: int(row["failures"]) for row in rows}
