from typing import Any, cast
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller, if_match_version
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.routes import OptionalIfMatch, status_response
from whatsapp_integrations.http.schemas import ConnectionStatusResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.delete_integration import delete_integration

settings = get_settings()
settings.require("provisioning_queue_url")
app = build_api(settings)


@app.delete(
    f"{INTEGRATIONS_PATH}/<integration_id>",
    summary="Remove an integration (If-Match optional): 204 at once, or 202 while its Evolution instance is removed",
    tags=["integrations"],
    operation_id="deleteIntegration",
    responses=responses(
        success(
            202,
            "Deprovisioning first; the integration disappears when it is done",
            model=ConnectionStatusResponse,
            headers=("ETag", "Location"),
        ),
        success(204, "Deleted"),
        problems=(404, 409, 412, 429),
    ),
)
def delete(integration_id: UUID, if_match: OptionalIfMatch = None) -> Response[ConnectionStatusResponse | None]:
    requested = delete_integration(
        caller(app, settings), integration_id, if_match_version(if_match, required=False), default_services()
    )
    if requested is None:
        return Response(status_code=204)
    # Response is invariant in its body type; the 202 body is one of the two documented shapes.
    return cast(
        Response[ConnectionStatusResponse | None],
        status_response(requested.integration, [], accepted=True, activity=requested.activity),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
