from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.credential_schemas import CreateIntegrationRequest
from whatsapp_integrations.http.routes import integration_response
from whatsapp_integrations.http.schemas import IntegrationResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.create_integration import create_integration

settings = get_settings()
app = build_api(settings)


@app.post(
    INTEGRATIONS_PATH,
    summary="Validate credentials live against Meta, then store the integration",
    tags=["integrations"],
    operation_id="createIntegration",
    responses=responses(
        success(201, "Created", model=IntegrationResponse, headers=("ETag", "Location")),
        problems=(409, 413, 415, 422, 429),
    ),
)
def create(request: Annotated[CreateIntegrationRequest, Body()]) -> Response[str]:
    integration = create_integration(caller(app, settings), request.name, request.credentials(), default_services())
    metrics.add_metric(name="IntegrationCreated", unit=MetricUnit.Count, value=1)
    return integration_response(integration, status_code=201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
