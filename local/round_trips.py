"""Round trips to PostgreSQL, counted on the connection itself: each wait for the server's ReadyForQuery is one.
The tests prove with it how many a request takes; the benches report it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pg8000.native

T = TypeVar("T")


class RoundTrips:
    def __init__(self) -> None:
        self.count = 0

    def counting(self, connect: Callable[[], pg8000.native.Connection]) -> Callable[[], pg8000.native.Connection]:
        """`connect`, with every round trip of the connections it opens counted (the login is not)."""

        def connect_counted() -> pg8000.native.Connection:
            connection = connect()
            wait_for_ready = connection.handle_messages

            def counted(context: Any) -> None:
                self.count += 1
                wait_for_ready(context)

            connection.handle_messages = counted
            return connection

        return connect_counted

    def of(self, work: Callable[[], T]) -> tuple[T, int]:
        """What `work` returns, and the round trips it took."""
        before = self.count
        result = work()
        return result, self.count - before
