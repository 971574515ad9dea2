"""Domain events on an EventBridge bus, so campaigns and other services can react to what happens here."""

from __future__ import annotations

import json
from typing import Any

from whatsapp_integrations.domain.events import SOURCE


class EventNotPublished(Exception):
    pass


class DomainEvents:
    def __init__(self, events_client: Any, bus_name: str) -> None:
        self._events = events_client
        self._bus_name = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Raises EventNotPublished (or the client's error) when EventBridge did not take the event; the outbox
        keeps it and sends it again."""
        answer = self._events.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "EventBusName": self._bus_name,
                }
            ]
        )
        if int(answer.get("FailedEntryCount", 0)):
            raise EventNotPublished(str((answer.get("Entries") or [{}])[0].get("ErrorCode", "unknown")))
