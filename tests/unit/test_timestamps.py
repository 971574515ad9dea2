"""The connection's timestamptz parser reads what PostgreSQL writes exactly as pg8000's own parser does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from pg8000.converters import timestamptz_in

from whatsapp_integrations.adapters.database_connection import parse_timestamptz


def postgres_text(moment: datetime) -> str:
    """timestamptz as PostgreSQL prints it (DateStyle ISO): microseconds only when there are some, the offset as
    +HH, +HH:MM or +HH:MM:SS."""
    text = f"{moment.year:04d}-{moment:%m-%d %H:%M:%S}"
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset() or timedelta()
    sign, seconds = ("-", -offset) if offset < timedelta() else ("+", offset)
    hours, rest = divmod(int(seconds.total_seconds()), 3600)
    minutes, secs = divmod(rest, 60)
    return (
        text + f"{sign}{hours:02d}" + (f":{minutes:02d}" if minutes or secs else "") + (f":{secs:02d}" if secs else "")
    )


offsets = st.integers(min_value=-15 * 60, max_value=15 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@given(moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets))
def test_every_iso_timestamp_reads_as_pg8000_reads_it(moment: datetime) -> None:
    text = postgres_text(moment)
    assert parse_timestamptz(text) == timestamptz_in(text) == moment


def test_what_is_not_iso_goes_to_pg8000() -> None:
    assert parse_timestamptz("infinity") == "infinity"
    assert parse_timestamptz("-infinity") == "-infinity"
    assert parse_timestamptz("2024-01-01 00:00:37+00") == datetime(2024, 1, 1, 0, 0, 37, tzinfo=UTC)
