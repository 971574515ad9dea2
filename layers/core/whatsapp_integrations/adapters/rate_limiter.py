"""Per-tenant fixed-window counters in PostgreSQL, so the limit holds across Lambda instances."""

from __future__ import annotations

from datetime import datetime, timedelta

from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.errors import RateLimited

WINDOW = timedelta(minutes=1)


def take(
    session: Session,
    *,
    tenant_id: str,
    bucket: str,
    limit: int,
    now: datetime,
    window: timedelta = WINDOW,
    what: str = "calls that reach Meta",
    per: str = "a minute per account",
) -> None:
    """Count one call in the current window; raise RateLimited (saying `what` is limited `per` what) once the window
    is full."""
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    window_start = now - (now - epoch) % window
    row = session.fetch_one(
        """INSERT INTO rate_limit_windows (tenant_id, bucket, window_start, calls)
           VALUES (:tenant_id, :bucket, :window_start, 1)
           ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET calls = rate_limit_windows.calls + 1
           RETURNING calls""",
        tenant_id=tenant_id,
        bucket=bucket,
        window_start=window_start,
    )
    session.execute(
        "DELETE FROM rate_limit_windows WHERE tenant_id = :tenant_id AND bucket = :bucket "
        "AND window_start < :window_start",
        tenant_id=tenant_id,
        bucket=bucket,
        window_start=window_start,
    )
    assert row is not None
    if row["calls"] > limit:
        retry_after = int((window_start + window - now).total_seconds()) + 1
        raise RateLimited(limit, retry_after, what, per)
