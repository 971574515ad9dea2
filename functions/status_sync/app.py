"""SQS worker: checks one integration per message against Evolution and Meta (partial batch failures)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.adapters.status_sync_queue import parse_sync_request
from whatsapp_integrations.domain.provisioning import TransientFailure, retry_delay_seconds
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.sync_integration_status import sync_integration_status

settings = get_settings()
settings.require(
    "status_sync_queue_url",
    "provisioning_queue_url",
    "evolution_base_url",
    "evolution_api_key_secret_arn",
    "evolution_webhook_url",
)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> None:
    try:
        request = parse_sync_request(record.body)
    except (ValueError, KeyError, TypeError):
        logger.error("dropping a message that is not a status check", extra={"message_id": record.message_id})
        return
    logger.set_correlation_id(request.correlation_id)
    logger.append_keys(integration_id=str(request.integration_id))
    try:
        report = sync_integration_status(
            request.tenant_id, request.integration_id, default_services(), correlation_id=request.correlation_id
        )
        logger.info("status checked", extra={"changes": report.changes, "repaired": report.repaired})
    except TransientFailure as failure:
        attempt = int(record.attributes.approximate_receive_count or 1)
        delay = retry_delay_seconds(attempt, base=30, cap=900, retry_after=failure.retry_after_seconds)
        logger.warning("check will be retried", extra={"delay_seconds": delay, "error_code": failure.error.code})
        queue = default_services().status_sync_queue
        assert queue is not None
        queue.retry_later(record.receipt_handle, delay)
        raise
    finally:
        logger.remove_keys(["integration_id"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
