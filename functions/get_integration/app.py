from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.routes import (
    IfNoneMatch,
    conditional,
    integration_response,
)
from whatsapp_integrations.http.schemas import IntegrationResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.get_integration import get_integration

settings = get_settings()
app = build_api(settings)


@app.get(
    f"{INTEGRATIONS_PATH}/<integration_id>",
    summary="One integration; the ETag header carries its version (send it in If-None-Match for a 304)",
    tags=["integrations"],
    operation_id="getIntegration",
    responses=responses(
        success(200, "The integration", model=IntegrationResponse, headers=("ETag",)),
        success(304, "Not modified: the ETag sent in If-None-Match is still current", headers=("ETag",)),
        problems=(404,),
    ),
)
def get_one(integration_id: UUID, if_none_match: IfNoneMatch = None) -> Response[str | None]:
    integration = get_integration(caller(app, settings), integration_id, default_services())
    return conditional(if_none_match, integration_response(integration))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
