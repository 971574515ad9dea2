"""One lazily opened pg8000 connection per execution environment, reopened once when it was dropped.

Every statement with parameters is prepared once per connection and then run with a single round trip
(Bind/Execute/Sync), instead of pg8000's three for an unnamed statement (Parse, Describe, Bind/Execute). The
prepared statements live as long as their connection: a reopened connection prepares again. Behind RDS Proxy,
named statements pin the client connection to one database connection, which a Lambda execution environment
(one connection, one invocation at a time) can afford.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pg8000.native
from pg8000.exceptions import DatabaseError, InterfaceError
from pg8000.native import PreparedStatement

from whatsapp_integrations.domain.errors import DatabaseUnavailable

T = TypeVar("T")
Row = dict[str, Any]

# 57P01-57P03: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection exceptions.
_RECONNECTABLE_SQLSTATES = ("57P01", "57P02", "57P03")


def sqlstate(error: DatabaseError) -> str | None:
    details = error.args[0] if error.args else None
    return details.get("C") if isinstance(details, dict) else None


def is_connection_error(error: BaseException) -> bool:
    """pg8000 reports a dropped connection as InterfaceError, a raw OSError, or an admin-shutdown SQLSTATE."""
    if isinstance(error, InterfaceError | OSError):
        return True
    if isinstance(error, DatabaseError):
        state = sqlstate(error) or ""
        return state in _RECONNECTABLE_SQLSTATES or state.startswith("08")
    return False


class Session:
    """Statements on one connection (inside a transaction, or each on its own); rows come back as dicts."""

    def __init__(self, connection: pg8000.native.Connection, prepared: dict[str, PreparedStatement]) -> None:
        self._connection = connection
        self._prepared = prepared

    def fetch(self, sql: str, **params: Any) -> list[Row]:
        statement = self._statement(sql)
        rows = statement.run(**params) or []
        names = [column["name"] for column in statement.columns or []]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def fetch_one(self, sql: str, **params: Any) -> Row | None:
        rows = self.fetch(sql, **params)
        return rows[0] if rows else None

    def execute(self, sql: str, **params: Any) -> int:
        statement = self._statement(sql)
        statement.run(**params)
        return int(statement._context.row_count)

    def execute_script(self, sql: str) -> None:
        """Several statements without parameters (a migration file), sent as one simple query."""
        self._connection.run(sql)

    def _statement(self, sql: str) -> PreparedStatement:
        statement = self._prepared.get(sql)
        if statement is None:
            statement = self._prepared[sql] = self._connection.prepare(sql)
        return statement


class Database:
    def __init__(self, connect: Callable[[], pg8000.native.Connection]) -> None:
        self._connect = connect
        self._connection: pg8000.native.Connection | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._lock = threading.Lock()

    def in_transaction(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction.

        A dropped connection before COMMIT means the server rolled the transaction back, so the whole unit of
        work is safe to run once more on a new connection. A drop during COMMIT leaves the outcome unknown and is
        reported, never retried.
        """
        with self._lock:
            try:
                return self._attempt(work)
            except _Reopen:
                return self._attempt(work, last_attempt=True)

    def autocommit(self, work: Callable[[Session], T]) -> T:
        """Run `work` without a transaction, each statement committing on its own: one round trip per statement.

        The way to read: under PostgreSQL's default READ COMMITTED each statement takes its own snapshot even
        inside a transaction, so BEGIN and COMMIT around reads would only add two round trips.

        Only for work whose statements are idempotent (reads, upserts, inserts that ignore conflicts): a dropped
        connection makes the whole of `work` run once more on a new connection.
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    connection = self._open()
                except Exception as error:
                    if attempt == 2:
                        raise DatabaseUnavailable() from error
                    continue
                try:
                    return work(Session(connection, self._prepared))
                except Exception as error:
                    if not is_connection_error(error):
                        raise
                    self._discard()
                    if attempt == 2:
                        raise DatabaseUnavailable() from error
            raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._discard()

    def _attempt(self, work: Callable[[Session], T], *, last_attempt: bool = False) -> T:
        try:
            connection = self._open()
        except Exception as error:
            # Refused logins and unreadable secrets too: from the caller's side the database is unavailable.
            if last_attempt:
                raise DatabaseUnavailable() from error
            raise _Reopen() from error
        try:
            connection.run("BEGIN")
            result = work(Session(connection, self._prepared))
        except Exception as error:
            if not is_connection_error(error):
                self._rollback()
                raise
            self._discard()
            if last_attempt:
                raise DatabaseUnavailable() from error
            raise _Reopen() from error
        try:
            connection.run("COMMIT")
        except Exception as error:
            if not is_connection_error(error):
                self._rollback()
                raise
            self._discard()
            raise DatabaseUnavailable(
                "The database connection dropped while saving; check the result before retrying."
            ) from error
        return result

    def _open(self) -> pg8000.native.Connection:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _rollback(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.run("ROLLBACK")
        except Exception as error:
            if not is_connection_error(error):
                raise
            self._discard()

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        self._prepared = {}
        if connection is not None:
            with contextlib.suppress(Exception):  # the socket is already gone; closing is best effort
                connection.close()


class _Reopen(Exception):
    pass
