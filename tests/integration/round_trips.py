"""A use case's database, with its round trips counted (local/round_trips.py)."""

from __future__ import annotations

from local.round_trips import RoundTrips
from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.services import Services

__all__ = ["RoundTrips", "count_round_trips"]


def count_round_trips(services: Services) -> RoundTrips:
    """Give `services` a database whose round trips are counted."""
    round_trips = RoundTrips()
    services.database.close()
    services.database = Database(round_trips.counting(connection_factory(services.settings)))
    return round_trips
