"""Opaque pagination cursors. A cursor that does not decode is the client's mistake: 400, never 500."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from whatsapp_integrations.domain.integration import PageKey


class BadCursor(ValueError):
    pass


def encode_integration_cursor(key: PageKey) -> str:
    return _encode(f"i1|{key.created_at.isoformat()}|{key.id}")


def decode_integration_cursor(cursor: str) -> PageKey:
    # Imported here: every HTTP function imports this module (http/api answers BadCursor), not all need integrations
    from whatsapp_integrations.domain.integration import PageKey

    parts = _decode(cursor).split("|")
    if len(parts) != 3 or parts[0] != "i1":
        raise BadCursor()
    try:
        created_at = datetime.fromisoformat(parts[1])
        if created_at.tzinfo is None:
            raise BadCursor()
        # In UTC, as written: an offset that moves the instant past year 1 or 9999 is refused here, not by the driver
        return PageKey(created_at.astimezone(UTC), UUID(parts[2]))
    except (ValueError, OverflowError):
        raise BadCursor() from None


def encode_audit_cursor(before_id: int) -> str:
    return _encode(f"a1|{before_id}")


def decode_audit_cursor(cursor: str) -> int:
    parts = _decode(cursor).split("|")
    if len(parts) != 2 or parts[0] != "a1" or not (parts[1].isascii() and parts[1].isdigit()) or len(parts[1]) > 18:
        raise BadCursor()
    return int(parts[1])


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    if not cursor or len(cursor) > 200:
        raise BadCursor()
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor() from None
