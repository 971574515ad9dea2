"""The "check now" button: the status check run at once for one integration (counted against the Meta-call limit)."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.routes import HistoryQuery, status_response
from whatsapp_integrations.http.schemas import ConnectionStatusResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.get_connection_status import refresh_connection_status

settings = get_settings()
settings.require("provisioning_queue_url", "evolution_base_url", "evolution_api_key_secret_arn")
app = build_api(settings)


@app.post(
    f"{INTEGRATIONS_PATH}/<integration_id>/status/refresh",
    summary="Check Evolution and Meta now, repair what is ours to repair, and answer the status",
    tags=["connection"],
    operation_id="refreshIntegrationStatus",
    responses=responses(
        success(200, "The status after checking", model=ConnectionStatusResponse, headers=("ETag", "Location")),
        problems=(404, 429),
    ),
)
def refresh(integration_id: UUID, history: HistoryQuery = 10) -> Response[ConnectionStatusResponse]:
    status = refresh_connection_status(caller(app, settings), integration_id, default_services(), history=history)
    return status_response(status.integration, status.history, accepted=False, body_etag=True, activity=status.activity)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
