"""SQS worker: checks one integration per message against Evolution and Meta (partial batch failures)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.adapters.status_sync_queue import SyncRequest, parse_sync_request
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.queue_worker import QueueWorker
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


def check(request: SyncRequest, attempt: int) -> None:
    report = sync_integration_status(
        request.tenant_id, request.integration_id, default_services(), correlation_id=request.correlation_id
    )
    logger.info("status checked", extra={"changes": report.changes, "repaired": report.repaired})


worker = QueueWorker(
    parse=parse_sync_request,
    handle=check,
    retry=settings.status_sync_retry,
    retry_later=lambda receipt_handle, delay: default_services().status_sync_queue.retry_later(receipt_handle, delay),
    log_keys=lambda request: {"correlation_id": request.correlation_id, "integration_id": str(request.integration_id)},
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return worker.handle_batch(event)
