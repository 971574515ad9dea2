from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.routes import HistoryQuery, IfNoneMatch, conditional, status_response
from whatsapp_integrations.http.schemas import ConnectionStatusResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.get_connection_status import get_connection_status

settings = get_settings()
app = build_api(settings)


@app.get(
    f"{INTEGRATIONS_PATH}/<integration_id>/status",
    summary=(
        "Connection status: state, when it changed, the last error with its fix, the Evolution instance, when "
        "each side's webhooks last arrived; a weak ETag of the body (send it in If-None-Match for a 304)"
    ),
    tags=["connection"],
    operation_id="getIntegrationStatus",
    responses=responses(
        success(200, "The connection status", model=ConnectionStatusResponse, headers=("ETag", "Location")),
        success(304, "Not modified: the ETag sent in If-None-Match is still current", headers=("ETag",)),
        problems=(404,),
    ),
)
def get_status(
    integration_id: UUID,
    history: HistoryQuery = 10,
    if_none_match: IfNoneMatch = None,
) -> Response[ConnectionStatusResponse | None]:
    status = get_connection_status(caller(app, settings), integration_id, default_services(), history=history)
    answer = status_response(
        status.integration, status.history, accepted=False, body_etag=True, activity=status.activity
    )
    return conditional(if_none_match, answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
