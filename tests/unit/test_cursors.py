from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from whatsapp_integrations.domain.integration import PageKey
from whatsapp_integrations.http.cursors import (
    BadCursor,
    decode_audit_cursor,
    decode_integration_cursor,
    encode_audit_cursor,
    encode_integration_cursor,
)


def test_integration_cursor_round_trips() -> None:
    key = PageKey(datetime(2026, 11, 29, 3, 50, 1, 123456, tzinfo=UTC), uuid4())
    assert decode_integration_cursor(encode_integration_cursor(key)) == key


def test_audit_cursor_round_trips() -> None:
    assert decode_audit_cursor(encode_audit_cursor(987654)) == 987654


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-a-cursor",
        "%%%",
        "aTF8eHx5",
        "x" * 300,
        encode_audit_cursor(5),
        "aTF8MjAyNi0xMS0yOVQwMzo1MDowMXxub3QtYS11dWlk",
    ],
)
def test_foreign_or_damaged_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_integration_cursor(cursor)


def test_an_integration_cursor_is_not_an_audit_cursor() -> None:
    with pytest.raises(BadCursor):
        decode_audit_cursor(encode_integration_cursor(PageKey(datetime.now(UTC), uuid4())))
