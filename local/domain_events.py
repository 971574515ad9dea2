"""The local stack's view of the domain event bus: a moto EventBridge bus whose rule feeds a queue that is printed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import boto3

from whatsapp_integrations.domain.events import SOURCE


class DomainEventTap:
    """Creates the bus and prints every event published on it (and keeps them, for tests)."""

    def __init__(self, bus_name: str, log: Callable[[str], None]) -> None:
        self.bus_name = bus_name
        self.received: list[dict[str, Any]] = []
        self._log = log
        events, self._sqs = boto3.client("events"), boto3.client("sqs")
        events.create_event_bus(Name=bus_name)
        self._queue_url = self._sqs.create_queue(QueueName=f"{bus_name}-tap")["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="local-tap", EventBusName=bus_name, EventPattern=json.dumps({"source": [SOURCE]}))
        events.put_targets(Rule="local-tap", EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": queue_arn}])
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="domain-event-tap", daemon=True)

    def start(self) -> DomainEventTap:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", [])
            except Exception:  # the stack is stopping
                return
            for message in messages:
                event = json.loads(message["Body"])
                self.received.append(event)
                self._log(f"domain event: {event['detail-type']} {json.dumps(event['detail'])}")
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
