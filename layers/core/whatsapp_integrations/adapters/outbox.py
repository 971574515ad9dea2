"""The outbox table: messages written by a state change's own transaction, deleted once sent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.outbox import OutboxEntry, OutgoingMessage

# Any constant works; it only has to be the same for every sweeper.
_SWEEPER_LOCK_KEY = 7_120_443_902


def add(session: Session, messages: Sequence[OutgoingMessage]) -> list[OutboxEntry]:
    """Write `messages` in order (one statement); each entry says whether an older message of its integration,
    committed by another transaction, still waits."""
    if not messages:
        return []
    rows = session.fetch(
        """WITH waiting AS (
               SELECT DISTINCT integration_id FROM outbox WHERE integration_id = ANY(CAST(:integration_ids AS uuid[]))
           ), written AS (
               INSERT INTO outbox (tenant_id, integration_id, kind, payload)
               SELECT tenant_id, integration_id, kind, payload
               FROM unnest(CAST(:tenant_ids AS text[]), CAST(:integration_ids AS uuid[]), CAST(:kinds AS text[]),
                           CAST(:payloads AS jsonb[])) WITH ORDINALITY
                    AS m(tenant_id, integration_id, kind, payload, position)
               ORDER BY position
               RETURNING id, integration_id
           )
           SELECT written.id, waiting.integration_id IS NOT NULL AS behind_older
           FROM written LEFT JOIN waiting USING (integration_id) ORDER BY written.id""",
        tenant_ids=[message.tenant_id for message in messages],
        integration_ids=[str(message.integration_id) for message in messages],
        kinds=[message.kind for message in messages],
        payloads=[json.dumps(message.payload, default=str) for message in messages],
    )
    return [
        OutboxEntry(row["id"], message, bool(row["behind_older"])) for row, message in zip(rows, messages, strict=True)
    ]


def delete(session: Session, ids: Sequence[int]) -> None:
    if ids:
        session.execute("DELETE FROM outbox WHERE id = ANY(CAST(:ids AS bigint[]))", ids=list(ids))


# synchronous_commit is off for this statement's own transaction only (set_config's `true`): its commit does not wait
# for the WAL to reach the disk. Were the server to crash before that, the row would come back and the sweeper send it
# again, which at-least-once delivery already allows (consumers are idempotent).
_DELETE_SENT = """WITH sent AS (DELETE FROM outbox WHERE id = ANY(CAST(:ids AS bigint[])) RETURNING id)
SELECT set_config('synchronous_commit', 'off', true) AS synchronous_commit"""


def delete_sent(session: Session, ids: Sequence[int]) -> None:
    """Delete what was just sent, on its own (autocommit), without the request waiting for a WAL flush."""
    if ids:
        session.fetch(_DELETE_SENT, ids=list(ids))


def try_lock_sweeper(session: Session) -> bool:
    """One sweeper at a time (until the end of its transaction), so two never interleave one integration's sends."""
    row = session.fetch_one("SELECT pg_try_advisory_xact_lock(:key) AS locked", key=_SWEEPER_LOCK_KEY)
    return bool(row and row["locked"])


def due(session: Session, *, written_before: datetime, limit: int) -> list[OutboxEntry]:
    """The oldest messages whose own transaction's dispatch should long be over, oldest first, locked."""
    rows = session.fetch(
        """SELECT id, tenant_id, integration_id, kind, payload FROM outbox WHERE created_at < :written_before
           ORDER BY id LIMIT :limit FOR UPDATE""",
        written_before=written_before,
        limit=limit,
    )
    return [_entry(row) for row in rows]


def waiting_for(session: Session, integration_ids: Sequence[UUID], *, limit: int) -> list[OutboxEntry]:
    """The oldest `limit` messages still waiting for these integrations, oldest first."""
    rows = session.fetch(
        """SELECT id, tenant_id, integration_id, kind, payload FROM outbox
           WHERE integration_id = ANY(CAST(:integration_ids AS uuid[])) ORDER BY id LIMIT :limit""",
        integration_ids=[str(integration_id) for integration_id in integration_ids],
        limit=limit,
    )
    return [_entry(row) for row in rows]


def record_failure(session: Session, ids: Sequence[int], error: str) -> None:
    if ids:
        session.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = :error WHERE id = ANY(CAST(:ids AS bigint[]))",
            ids=list(ids),
            error=error[:300],
        )


def pending_count(session: Session) -> int:
    row = session.fetch_one("SELECT count(*) AS pending FROM outbox")
    return int(row["pending"]) if row else 0


def _entry(row: dict[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        row["id"], OutgoingMessage(row["tenant_id"], UUID(str(row["integration_id"])), row["kind"], row["payload"])
    )
