"""The one skeleton of every SQS worker: parse each record, run its use case, and on a transient failure hide
the record for the worker's retry policy's delay and report it failed (partial batch failures). SQS then
delivers it again, until the policy's `max_attempts`, which is also the queue's `maxReceiveCount`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from whatsapp_integrations.domain.provisioning import TransientFailure
from whatsapp_integrations.observability import logger, tracer
from whatsapp_integrations.settings import RetryPolicy

M = TypeVar("M")


class QueueWorker(Generic[M]):
    def __init__(
        self,
        *,
        parse: Callable[[str], M],
        handle: Callable[[M, int], None],
        retry: RetryPolicy,
        retry_later: Callable[[str, int], None],
        log_keys: Callable[[M], Mapping[str, str]],
    ) -> None:
        """`handle(message, attempt)` raises TransientFailure when a later attempt may succeed; `log_keys` names
        the message on every log line (`correlation_id` becomes the logger's correlation id)."""
        self._parse = parse
        self._handle = handle
        self._retry = retry
        self._retry_later = retry_later
        self._log_keys = log_keys
        # A batch whose records all failed is still a partial-failure answer: the retries are already scheduled.
        self._processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def handle_batch(self, event: dict[str, Any]) -> dict[str, Any]:
        # No Lambda context for the processor: handle_record takes none, and given one, Powertools inspects the
        # handler's signature on every batch to find out (a tenth of the relay's own time per post).
        return dict(process_partial_response(event=event, record_handler=self.handle_record, processor=self._processor))

    @tracer.capture_method(capture_response=False)
    def handle_record(self, record: SQSRecord) -> None:
        try:
            message = self._parse(record.body)
        except (ValueError, KeyError, TypeError):
            logger.error("dropping a message that is not ours", extra={"message_id": record.message_id})
            return
        keys = dict(self._log_keys(message))
        logger.set_correlation_id(keys.pop("correlation_id", None) or record.message_id)
        logger.append_keys(**keys)
        attempt = int(record.attributes.approximate_receive_count or 1)
        try:
            self._handle(message, attempt)
        except TransientFailure as failure:
            delay = self._retry.delay_seconds(attempt, failure.retry_after_seconds)
            logger.warning(
                "will retry", extra={"attempt": attempt, "delay_seconds": delay, "error_code": failure.error.code}
            )
            self._retry_later(record.receipt_handle, delay)
            raise
        except Exception as error:  # a bug or a message no attempt can carry out: SQS retries it, then dead-letters
            logger.exception("message failed", extra={"attempt": attempt, "error_type": type(error).__name__})
            raise
        finally:
            logger.remove_keys(list(keys))
