from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.routes import status_response
from whatsapp_integrations.http.schemas import ConnectionStatusResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.connection_requests import request_disconnect

settings = get_settings()
settings.require("provisioning_queue_url")
app = build_api(settings)


@app.post(
    f"{INTEGRATIONS_PATH}/<integration_id>/disconnect",
    summary="Deprovision in the background (202), keeping the integration and its history; nothing to do: 200",
    tags=["connection"],
    operation_id="disconnectIntegration",
    responses=responses(
        success(202, "Accepted; watch GET .../status", model=ConnectionStatusResponse, headers=("ETag", "Location")),
        success(
            200, "Nothing to do: the status as it is", model=ConnectionStatusResponse, headers=("ETag", "Location")
        ),
        problems=(404, 409, 429),
    ),
)
def disconnect(integration_id: UUID) -> Response[ConnectionStatusResponse]:
    requested = request_disconnect(caller(app, settings), integration_id, default_services())
    return status_response(requested.integration, [], accepted=requested.accepted, activity=requested.activity)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
