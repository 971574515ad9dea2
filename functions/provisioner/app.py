"""SQS worker: carries out connect, disconnect, delete and re-provision requests (partial batch failures)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.adapters.provisioning_queue import parse_message
from whatsapp_integrations.domain.provisioning import ProvisioningMessage
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.queue_worker import QueueWorker
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.provision_integration import provision

settings = get_settings()
settings.require(
    "provisioning_queue_url", "evolution_base_url", "evolution_api_key_secret_arn", "evolution_webhook_url"
)


def log_keys(message: ProvisioningMessage) -> dict[str, str]:
    return {
        "correlation_id": message.correlation_id,
        "integration_id": str(message.integration_id),
        "operation": message.operation.value,
    }


worker = QueueWorker(
    parse=parse_message,
    handle=lambda message, attempt: provision(message, default_services(), attempt=attempt),
    retry=settings.provisioning_retry,
    retry_later=lambda receipt_handle, delay: default_services().queue.retry_later(receipt_handle, delay),
    log_keys=log_keys,
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return worker.handle_batch(event)
