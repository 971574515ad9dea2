"""The one SQS worker skeleton: partial batch failures, and a failure that is not transient is logged, not silent."""

from __future__ import annotations

import io
import json
from typing import Any

from whatsapp_integrations.queue_worker import QueueWorker
from whatsapp_integrations.settings import RetryPolicy


def record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }


def failing_on(bad: str) -> QueueWorker[str]:
    def handle(message: str, attempt: int) -> None:
        if message == bad:
            raise RuntimeError("no attempt can carry this out")

    return QueueWorker(
        parse=lambda body: str(json.loads(body)["name"]),
        handle=handle,
        retry=RetryPolicy(base_seconds=1, cap_seconds=10, max_attempts=3),
        retry_later=lambda receipt_handle, delay: None,
        log_keys=lambda message: {"name": message},
    )


def test_a_message_that_fails_for_good_is_reported_and_logged(log_lines: io.StringIO) -> None:
    # Given a batch of two messages, one of which fails with an error that is not transient
    worker = failing_on("bad")
    event = {"Records": [record("1", '{"name": "good"}'), record("2", '{"name": "bad"}')]}
    # When the batch is handled
    answer = worker.handle_batch(event)
    # Then only that one goes back to the queue, and a log line says why (SQS alone would retry it in silence)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    logged = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert [(line["message"], line["error_type"]) for line in logged if line["level"] == "ERROR"] == [
        ("message failed", "RuntimeError")
    ]
