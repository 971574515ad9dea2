"""The status-sync queue: one message per integration to check, sent ten at a time and spread over the interval."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

_MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds


@dataclass(frozen=True)
class SyncRequest:
    tenant_id: str
    integration_id: UUID
    correlation_id: str


class StatusSyncQueue:
    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = sqs_client
        self.queue_url = queue_url

    def send_batch(self, requests: list[tuple[SyncRequest, int]]) -> int:
        """Send up to 10 (request, delay seconds) pairs in one SendMessageBatch call; return how many failed."""
        if not requests:
            return 0
        answer = self._sqs.send_message_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {
                    "Id": str(index),
                    "MessageBody": json.dumps(
                        {
                            "tenant_id": request.tenant_id,
                            "integration_id": str(request.integration_id),
                            "correlation_id": request.correlation_id,
                        }
                    ),
                    "DelaySeconds": max(0, min(delay, _MAX_DELAY_SECONDS)),
                }
                for index, (request, delay) in enumerate(requests)
            ],
        )
        return len(answer.get("Failed", []))

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay_seconds
        )


def parse_sync_request(body: str) -> SyncRequest:
    data = json.loads(body)
    return SyncRequest(str(data["tenant_id"]), UUID(str(data["integration_id"])), str(data.get("correlation_id") or ""))
