"""Domain events on an EventBridge bus, so campaigns and other services can react to what happens here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from whatsapp_integrations.domain.events import SOURCE

EVENTS_PER_CALL = 10  # PutEvents' limit


class EventNotPublished(Exception):
    pass


class DomainEvents:
    def __init__(self, events_client: Any, bus_name: str) -> None:
        self._events = events_client
        self._bus_name = bus_name

    def publish_many(self, events: Sequence[tuple[str, dict[str, Any]]]) -> list[str | None]:
        """Up to EVENTS_PER_CALL events in one PutEvents call; for each, None when EventBridge took it, else its
        error code. Raises the client's error when the call itself failed (none was taken)."""
        answer = self._events.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "EventBusName": self._bus_name,
                }
                for detail_type, detail in events
            ]
        )
        results = answer.get("Entries") or []
        if len(results) != len(events):
            raise EventNotPublished(f"PutEvents answered {len(results)} entries for {len(events)}")
        return [(result.get("ErrorCode") or "unknown") if "EventId" not in result else None for result in results]
