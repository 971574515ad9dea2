"""SQS worker: forwards each queued Meta post to Evolution's /webhook/meta."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.adapters.relay_queue import parse_relay_item
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.queue_worker import QueueWorker
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.relay_meta_webhook import relay_meta_webhook

settings = get_settings()
settings.require("relay_queue_url", "evolution_base_url")

worker = QueueWorker(
    parse=parse_relay_item,
    handle=lambda item, attempt: relay_meta_webhook(item, default_services()),
    retry=settings.relay_retry,
    retry_later=lambda receipt_handle, delay: default_services().relay_queue.retry_later(receipt_handle, delay),
    log_keys=lambda item: {"correlation_id": item.correlation_id, "integration_id": str(item.integration_id)},
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return worker.handle_batch(event)
