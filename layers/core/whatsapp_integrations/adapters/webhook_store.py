"""What the webhooks write, from Evolution (`/webhooks/evolution`) and from Meta (through the relay): one idempotent
statement per event, which also stamps when that side last reached us."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.integration import WebhookActivity
from whatsapp_integrations.domain.message_status import (
    PROGRESS_RANK,
    MessageFailure,
    MessageRecord,
    MessageStatus,
    StatusSeen,
    rank,
)
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
class StatusReport:
    """What one webhook says of one message's status, with what only Meta tells (its failure and pricing)."""

    wamid: str
    status: MessageStatus
    failure: MessageFailure | None = None
    pricing: dict[str, Any] | None = None
    # The MessageStatusChanged detail as far as the webhook knows it (None: no event is written); the statement fills
    # in the outcome (status, progress, failed).
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class RecordedStatuses:
    new: int  # reports not recorded before (the others were replays or duplicates)
    visible: int  # of the new ones, those that moved what a reader sees (a late SENT after READ is history only)
    events: list[OutboxEntry]  # the MessageStatusChanged events written with them, to send now


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


# A status seen again only fills in the details it lacked (Meta's, which may come after Evolution's bare report)
_KEEP_FIRST_DETAILS = """ON CONFLICT (integration_id, wamid, status) DO UPDATE SET
        error_code = COALESCE(s.error_code, EXCLUDED.error_code),
        error_title = COALESCE(s.error_title, EXCLUDED.error_title),
        error_message = COALESCE(s.error_message, EXCLUDED.error_message),
        error_details = COALESCE(s.error_details, EXCLUDED.error_details),
        pricing = COALESCE(s.pricing, EXCLUDED.pricing)
    WHERE EXCLUDED.error_code IS NOT NULL OR EXCLUDED.error_title IS NOT NULL OR EXCLUDED.error_message IS NOT NULL
       OR EXCLUDED.error_details IS NOT NULL OR EXCLUDED.pricing IS NOT NULL"""

# The status row is the dedupe key: the message moves only when the row is new, progress only forward, and a
# failure is stamped once and kept. Meta's failure details and pricing fill in a row Evolution wrote first, without
# counting as a new status. `before` reads the row as it was when the statement started. A visible change writes its
# MessageStatusChanged event to the outbox in the same statement (the caller's detail, completed with what the
# statement decided), so no committed status can miss its event.
#
# One report (the hot path: nearly every webhook carries one) takes this statement with scalar parameters; an array
# of reports takes _RECORD_STATUSES below, which does the same for all of them at once. The array form costs about
# 1.6 times as much to run for a single report (unnest, window functions), hence two statements.
_RECORD_STATUS = """
WITH before AS (
    SELECT progress, failed_at FROM whatsapp_messages WHERE integration_id = :integration_id AND wamid = :wamid
), seen AS (
    INSERT INTO whatsapp_message_statuses AS s (integration_id, wamid, status, error_code, error_title, error_message,
        error_details, pricing)
    VALUES (:integration_id, :wamid, :status, :error_code, :error_title, :error_message, :error_details,
        CAST(:pricing AS jsonb))
    {keep_first_details}
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
# Several reports in one statement, with the outcome of applying them one after the other in arrival order:
# `stepped` replays the new ones per message over the row as it was when the statement started, and each one that
# moves what a reader sees writes its event.
_RECORD_STATUSES = """
WITH input AS (
    SELECT * FROM unnest(CAST(:wamids AS text[]), CAST(:statuses AS text[]), CAST(:ranks AS smallint[]),
        CAST(:failed AS boolean[]), CAST(:error_codes AS integer[]), CAST(:error_titles AS text[]),
        CAST(:error_messages AS text[]), CAST(:error_details AS text[]), CAST(:pricings AS jsonb[]),
        CAST(:events AS jsonb[]))
    WITH ORDINALITY AS i(wamid, status, progress_rank, failed, error_code, error_title, error_message, error_details,
        pricing, event, position)
), before AS (
    SELECT wamid, progress_rank, failed_at IS NOT NULL AS failed FROM whatsapp_messages
    WHERE integration_id = :integration_id AND wamid = ANY(CAST(:wamids AS text[]))
), seen AS (
    INSERT INTO whatsapp_message_statuses AS s (integration_id, wamid, status, error_code, error_title, error_message,
        error_details, pricing)
    SELECT DISTINCT ON (wamid, status) :integration_id, wamid, status, error_code, error_title, error_message,
        error_details, pricing
    FROM input ORDER BY wamid, status, position
    {keep_first_details}
    RETURNING wamid, status, received_at, xmax = 0 AS inserted
), fresh AS (
    SELECT DISTINCT ON (i.wamid, i.status) i.position, i.wamid, i.progress_rank, i.failed, i.event, seen.received_at
    FROM input i JOIN seen ON seen.wamid = i.wamid AND seen.status = i.status AND seen.inserted
    ORDER BY i.wamid, i.status, i.position
), applied AS (
    INSERT INTO whatsapp_messages AS m (integration_id, tenant_id, wamid, progress, progress_rank, failed_at)
    SELECT :integration_id, :tenant_id, wamid, (CAST(:progress_by_rank AS text[]))[max(progress_rank) + 1],
           max(progress_rank), min(received_at) FILTER (WHERE failed)
    FROM fresh GROUP BY wamid
    ON CONFLICT (integration_id, wamid) DO UPDATE SET
        progress = CASE WHEN EXCLUDED.progress_rank > m.progress_rank THEN EXCLUDED.progress ELSE m.progress END,
        progress_rank = GREATEST(EXCLUDED.progress_rank, m.progress_rank),
        failed_at = COALESCE(m.failed_at, EXCLUDED.failed_at),
        updated_at = now()
), stepped AS (
    SELECT position, event, rank_before, rank_after, failed_after,
           rank_before IS DISTINCT FROM rank_after OR failed_before <> failed_after AS visible_change
    FROM (
        SELECT f.position, f.event,
               GREATEST(b.progress_rank, max(f.progress_rank) OVER earlier) AS rank_before,
               GREATEST(b.progress_rank, max(f.progress_rank) OVER so_far) AS rank_after,
               COALESCE(b.failed, false) OR COALESCE(bool_or(f.failed) OVER earlier, false) AS failed_before,
               COALESCE(b.failed, false) OR bool_or(f.failed) OVER so_far AS failed_after
        FROM fresh f LEFT JOIN before b USING (wamid)
        WINDOW so_far AS (PARTITION BY f.wamid ORDER BY f.position ROWS UNBOUNDED PRECEDING),
               earlier AS (PARTITION BY f.wamid ORDER BY f.position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ) AS replayed
), queued AS (
    INSERT INTO outbox (tenant_id, integration_id, kind, payload)
    SELECT :tenant_id, :integration_id, 'domain_event', jsonb_build_object(
        'detail_type', 'MessageStatusChanged',
        'detail', event || jsonb_build_object(
            'status', CASE WHEN failed_after THEN 'FAILED' ELSE (CAST(:progress_by_rank AS text[]))[rank_after + 1] END,
            'progress', (CAST(:progress_by_rank AS text[]))[rank_after + 1],
            'failed', failed_after))
    FROM stepped WHERE visible_change AND event IS NOT NULL
    ORDER BY position
    RETURNING id, payload
), {touched}
SELECT (SELECT count(*) FROM stepped) AS new, (SELECT count(*) FROM stepped WHERE visible_change) AS visible,
       (SELECT jsonb_agg(jsonb_build_array(id, payload) ORDER BY id) FROM queued) AS events
"""
_RECORD_STATUS_FROM = {
    source: _RECORD_STATUS.format(touched=_touch(source), keep_first_details=_KEEP_FIRST_DETAILS)
    for source in ("evolution", "meta")
}
_RECORD_STATUSES_FROM = {
    source: _RECORD_STATUSES.format(touched=_touch(source), keep_first_details=_KEEP_FIRST_DETAILS)
    for source in ("evolution", "meta")
}
# Position i holds the progress of rank i (PostgreSQL arrays count from 1, hence `rank + 1` above).
_PROGRESS_BY_RANK = [status.value for status, _ in sorted(PROGRESS_RANK.items(), key=lambda item: item[1])]


def record_statuses(
    session: Session, integration_id: UUID, tenant_id: str, reports: Sequence[StatusReport], *, source: Source
) -> RecordedStatuses:
    """Record `reports` in one statement, as if one after the other in this order."""
    if not reports:
        return RecordedStatuses(0, 0, [])
    if len(reports) == 1:
        return _record_one(session, integration_id, tenant_id, reports[0], source)
    failures = [report.failure for report in reports]
    row = session.fetch_one(
        _RECORD_STATUSES_FROM[source],
        integration_id=integration_id,
        tenant_id=tenant_id,
        progress_by_rank=_PROGRESS_BY_RANK,
        wamids=[report.wamid for report in reports],
        statuses=[report.status.value for report in reports],
        ranks=[_progress_rank(report.status) for report in reports],
        failed=[report.status == MessageStatus.FAILED for report in reports],
        error_codes=[failure.code if failure else None for failure in failures],
        error_titles=[failure.title if failure else None for failure in failures],
        error_messages=[failure.message if failure else None for failure in failures],
        error_details=[failure.details if failure else None for failure in failures],
        pricings=[_json(report.pricing) for report in reports],
        events=[_json(report.event) for report in reports],
    )
    assert row is not None
    events = [_event(integration_id, tenant_id, event_id, payload) for event_id, payload in row["events"] or []]
    return RecordedStatuses(int(row["new"]), int(row["visible"]), events)


def _record_one(
    session: Session, integration_id: UUID, tenant_id: str, report: StatusReport, source: Source
) -> RecordedStatuses:
    failed, failure = report.status == MessageStatus.FAILED, report.failure
    row = session.fetch_one(
        _RECORD_STATUS_FROM[source],
        event=_json(report.event),
        integration_id=integration_id,
        tenant_id=tenant_id,
        wamid=report.wamid,
        status=report.status.value,
        progress=(MessageStatus.PENDING if failed else report.status).value,
        progress_rank=_progress_rank(report.status),
        failed=failed,
        error_code=failure.code if failure else None,
        error_title=failure.title if failure else None,
        error_message=failure.message if failure else None,
        error_details=failure.details if failure else None,
        pricing=_json(report.pricing),
    )
    if row is None:
        return RecordedStatuses(0, 0, [])
    events = [_event(integration_id, tenant_id, row["event_id"], row["event_payload"])] if row["event_id"] else []
    return RecordedStatuses(1, int(bool(row["visible_change"])), events)


def _progress_rank(status: MessageStatus) -> int:
    """A failure is recorded beside the progress, at PENDING's rank when nothing better is known."""
    return max(rank(status), 0)


def _json(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value, default=str) if value else None


def _event(integration_id: UUID, tenant_id: str, event_id: int, payload: dict[str, Any]) -> OutboxEntry:
    return OutboxEntry(event_id, OutgoingMessage(tenant_id, integration_id, "domain_event", payload))


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
