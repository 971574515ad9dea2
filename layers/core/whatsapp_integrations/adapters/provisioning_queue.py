"""The provisioning queue: one message per operation on one integration."""

from __future__ import annotations

import json
from typing import Any

from whatsapp_integrations.domain.provisioning import ProvisioningMessage


class ProvisioningQueue:
    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = sqs_client
        self.queue_url = queue_url

    def send(self, message: ProvisioningMessage) -> None:
        self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(message.to_payload()),
            MessageAttributes={
                "correlation_id": {"DataType": "String", "StringValue": message.correlation_id or "-"},
                "integration_id": {"DataType": "String", "StringValue": str(message.integration_id)},
            },
        )

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        """Hide the message for `delay_seconds`; SQS then delivers it again (the retry backoff)."""
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay_seconds
        )


def parse_message(body: str) -> ProvisioningMessage:
    """Raises ValueError (or KeyError, TypeError) for a body that is not ours: such a message can never succeed."""
    return ProvisioningMessage.from_payload(json.loads(body))
