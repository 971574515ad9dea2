"""Domain events on an EventBridge bus, so campaigns and other services can react to what happens here."""

from __future__ import annotations

import json
from typing import Any

from whatsapp_integrations.observability import logger, metrics

SOURCE = "whatsapp-integrations"


class DomainEvents:
    def __init__(self, events_client: Any, bus_name: str) -> None:
        self._events = events_client
        self._bus_name = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> bool:
        """Best effort: a failed publish is logged and counted, never allowed to fail the work that caused it."""
        try:
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
            published = int(answer.get("FailedEntryCount", 0)) == 0
        except Exception as error:
            logger.error(
                "domain event not published", extra={"detail_type": detail_type, "error_type": type(error).__name__}
            )
            published = False
        if not published:
            metrics.add_metric(name="DomainEventPublishFailed", unit="Count", value=1)
        return published
