"""EventBridge schedule: queue one status check per integration that needs one, spread over the interval."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.schedule_status_sync import schedule_status_sync

settings = get_settings()
settings.require("status_sync_queue_url")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = default_services()
    queued = schedule_status_sync(services, services.status_sync_queue, correlation_id=str(event.get("id", "")))
    metrics.add_metric(name="StatusChecksQueued", unit=MetricUnit.Count, value=queued)
    logger.info("status checks queued", extra={"queued": queued})
    return {"queued": queued}
