"""Looking into a dead-letter queue without taking anything out: the messages of one integration waiting there."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

_BATCHES = 5  # at most 50 messages looked at: enough to tell "some", cheap enough for a diagnosis


def waiting_for(sqs: Any, queue_url: str, integration_id: UUID) -> int:
    """Received with a zero visibility timeout, so each message stays visible for redrive (its receive count on a
    dead-letter queue matters to nobody)."""
    wanted, seen, found = str(integration_id), set(), 0
    for _ in range(_BATCHES):
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["integration_id"],
        ).get("Messages", [])
        fresh = [message for message in messages if message["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            if _integration_of(message) == wanted:
                found += 1
    return found


def _integration_of(message: dict[str, Any]) -> str | None:
    attribute = (message.get("MessageAttributes") or {}).get("integration_id") or {}
    if attribute.get("StringValue"):
        return str(attribute["StringValue"])
    try:
        return str(json.loads(message.get("Body") or "").get("integration_id"))
    except (ValueError, AttributeError):
        return None
