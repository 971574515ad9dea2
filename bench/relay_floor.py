"""The floor of the relay worker, handler only: context for the forwarder's goal, not a goal.

Powertools' SQS worker shape as the project's workers have it: the Logger, Tracer and Metrics decorators, the batch
processor with partial failures, a traced record handler. Inside it the queued body is parsed and its post is handed
to `forward` (the bench's bare httpx POST). None of the project's code runs, so what functions/meta_relay pays beyond
this is the project's own: parsing the relay item, its log keys, the forwarder's JSON and error handling.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def floor_handler(forward: Callable[[dict[str, Any]], None]) -> Handler:
    logger = Logger(service="bench-relay-floor")
    tracer = Tracer(service="bench-relay-floor", auto_patch=False)
    metrics = Metrics(service="bench-relay-floor", namespace="Bench")
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    @tracer.capture_method(capture_response=False)
    def record_handler(record: SQSRecord) -> None:
        forward(json.loads(record.body)["post"])

    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor))

    handler: Handler = lambda_handler
    return handler
