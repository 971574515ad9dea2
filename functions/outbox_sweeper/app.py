"""EventBridge schedule (every minute): send whatever state changes wrote to the outbox and could not send."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.outbox_dispatch import sweep_outbox

settings = get_settings()
settings.require("provisioning_queue_url")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = sweep_outbox(default_services())
    metrics.add_metric(name="OutboxSent", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="OutboxStillFailing", unit=MetricUnit.Count, value=report.failed)
    return {"swept": report.swept, "sent": report.sent, "failed": report.failed}
