from __future__ import annotations

import base64
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


def test_an_instant_out_of_range_once_in_utc_is_refused() -> None:
    # Given cursors whose offset moves their instant before year 1 or past year 9999
    for created_at in ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"):
        cursor = base64.urlsafe_b64encode(f"i1|{created_at}|{uuid4()}".encode()).decode().rstrip("=")
        # Then they are a bad cursor (400), not an overflow in the driver (500)
        with pytest.raises(BadCursor):
            decode_integration_cursor(cursor)


def test_an_audit_cursor_with_digits_int_does_not_read_is_refused() -> None:
    # "²" is a digit to str.isdigit, not to int()
    with pytest.raises(BadCursor):
        decode_audit_cursor(base64.urlsafe_b64encode("a1|²".encode()).decode())


def test_an_integration_cursor_is_not_an_audit_cursor() -> None:
    with pytest.raises(BadCursor):
        decode_audit_cursor(encode_integration_cursor(PageKey(datetime.now(UTC), uuid4())))
