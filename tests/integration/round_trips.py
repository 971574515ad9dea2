"""Round trips to PostgreSQL, counted on the connection itself: each wait for the server's ReadyForQuery is one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pg8000.native

from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.services import Services

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


def count_round_trips(services: Services) -> RoundTrips:
    """Give `services` a database whose round trips are counted."""
    round_trips = RoundTrips()
    services.database.close()
    services.database = Database(round_trips.counting(connection_factory(services.settings)))
    return round_trips
