"""The Meta relay queue: one message per post for Evolution (one change, one status or message), so that each is
retried, dead-lettered and redriven on its own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

_BATCH = 10  # SendMessageBatch's limit


@dataclass(frozen=True)
class RelayItem:
    integration_id: UUID
    tenant_id: str
    post: dict[str, Any]
    correlation_id: str = ""


class RelayQueue:
    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = sqs_client
        self.queue_url = queue_url

    def send(self, items: Sequence[RelayItem]) -> int:
        """Queue every item (ten per call); return how many SQS did not take."""
        failed = 0
        for start in range(0, len(items), _BATCH):
            answer = self._sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "MessageBody": json.dumps(
                            {
                                "integration_id": str(item.integration_id),
                                "tenant_id": item.tenant_id,
                                "correlation_id": item.correlation_id,
                                "post": item.post,
                            },
                            separators=(",", ":"),
                        ),
                        "MessageAttributes": {
                            "integration_id": {"DataType": "String", "StringValue": str(item.integration_id)}
                        },
                    }
                    for index, item in enumerate(items[start : start + _BATCH])
                ],
            )
            failed += len(answer.get("Failed", []))
        return failed

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay_seconds
        )


def parse_relay_item(body: str) -> RelayItem:
    """Raises ValueError, KeyError or TypeError for a body that is not ours."""
    data = json.loads(body)
    post = data["post"]
    if not isinstance(post, dict):
        raise TypeError("post is not an object")
    return RelayItem(
        UUID(str(data["integration_id"])), str(data["tenant_id"]), post, str(data.get("correlation_id") or "")
    )
