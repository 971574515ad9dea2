"""SQS worker: carries out connect, disconnect, delete and re-provision requests (partial batch failures)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.adapters.provisioning_queue import parse_message
from whatsapp_integrations.domain.provisioning import TransientFailure, retry_delay_seconds
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.provision_integration import provision

settings = get_settings()
settings.require(
    "provisioning_queue_url", "evolution_base_url", "evolution_api_key_secret_arn", "evolution_webhook_url"
)
# A batch whose records all failed is still a partial-failure answer: the retries are already scheduled.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> None:
    try:
        message = parse_message(record.body)
    except (ValueError, KeyError, TypeError):
        logger.error("dropping a message that is not a provisioning request", extra={"message_id": record.message_id})
        return
    logger.set_correlation_id(message.correlation_id)
    logger.append_keys(integration_id=str(message.integration_id), operation=message.operation.value)
    attempt = int(record.attributes.approximate_receive_count or 1)
    try:
        provision(message, default_services(), attempt=attempt)
    except TransientFailure as failure:
        delay = retry_delay_seconds(
            attempt,
            base=settings.provisioning_retry_base_seconds,
            cap=settings.provisioning_retry_max_seconds,
            retry_after=failure.retry_after_seconds,
        )
        logger.warning(
            "will retry", extra={"attempt": attempt, "delay_seconds": delay, "error_code": failure.error.code}
        )
        default_services().queue.retry_later(record.receipt_handle, delay)
        raise
    finally:
        logger.remove_keys(["integration_id", "operation"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
