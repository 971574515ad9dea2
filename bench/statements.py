"""The statement a repository function runs, captured instead of run: a baseline then runs exactly that statement,
prepared on a bare pg8000 connection (the same protocol as the subject: one Bind/Execute/Sync round trip)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pg8000.native

from whatsapp_integrations.adapters.database import Row, Session


class CapturingSession(Session):
    def __init__(self) -> None:
        self.sql = ""
        self.params: dict[str, Any] = {}

    def fetch(self, sql: str, **params: Any) -> list[Row]:
        self.sql, self.params = sql, params
        return []


def captured(read: Callable[[Session], object]) -> tuple[str, dict[str, Any]]:
    session = CapturingSession()
    read(session)
    return session.sql, session.params


def prepared(connection: pg8000.native.Connection, read: Callable[[Session], object]) -> Callable[[], list[Any]]:
    """A call that runs `read`'s statement, prepared once on `connection`, and returns its rows."""
    sql, params = captured(read)
    statement = connection.prepare(sql)
    return lambda: list(statement.run(**params) or [])
