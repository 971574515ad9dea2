from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.credential_schemas import ValidateCredentialsRequest, ValidationResultResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.validate_credentials import validate_credentials

settings = get_settings()
app = build_api(settings)


@app.post(
    f"{INTEGRATIONS_PATH}/validate",
    summary="Dry run for the form: the same live validation as create, storing nothing",
    tags=["integrations"],
    operation_id="validateCredentials",
    responses=responses(
        success(200, "Meta accepted the credentials; what it told about them", model=ValidationResultResponse),
        problems=(413, 415, 422, 429),
    ),
)
def validate(request: Annotated[ValidateCredentialsRequest, Body()]) -> ValidationResultResponse:
    validated = validate_credentials(caller(app, settings), request.credentials(), default_services())
    return ValidationResultResponse.of(validated)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
