from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller, if_match_version
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.credential_schemas import UpdateIntegrationRequest
from whatsapp_integrations.http.routes import IfMatch, integration_response
from whatsapp_integrations.http.schemas import IntegrationResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.update_integration import IntegrationChanges, update_integration

settings = get_settings()
settings.require("provisioning_queue_url")
app = build_api(settings)


@app.put(
    f"{INTEGRATIONS_PATH}/<integration_id>",
    summary="Change the name and/or credentials (send If-Match); changed credentials are validated again",
    tags=["integrations"],
    operation_id="updateIntegration",
    responses=responses(
        success(200, "Updated; the ETag is the new version", model=IntegrationResponse, headers=("ETag",)),
        problems=(404, 409, 412, 413, 415, 422, 428, 429),
    ),
)
def update(
    integration_id: UUID, request: Annotated[UpdateIntegrationRequest, Body()], if_match: IfMatch
) -> Response[str]:
    expected_version = if_match_version(if_match, required=True)
    assert expected_version is not None
    updated = update_integration(
        caller(app, settings),
        integration_id,
        IntegrationChanges(request.changes()),
        expected_version,
        default_services(),
    )
    return integration_response(updated)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
