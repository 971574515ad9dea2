from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.cursors import decode_integration_cursor, encode_integration_cursor
from whatsapp_integrations.http.routes import CursorQuery, PageSize
from whatsapp_integrations.http.schemas import IntegrationListResponse, IntegrationResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.list_integrations import list_integrations

settings = get_settings()
app = build_api(settings)


@app.get(
    INTEGRATIONS_PATH,
    summary="List the caller's integrations, newest first",
    tags=["integrations"],
    operation_id="listIntegrations",
    responses=responses(
        success(200, "A page of the tenant's integrations, newest first", model=IntegrationListResponse)
    ),
)
def list_all(
    limit: PageSize = 20,
    cursor: CursorQuery = None,
    status: Annotated[IntegrationStatus | None, Query(description="Only integrations in this status")] = None,
) -> IntegrationListResponse:
    after = decode_integration_cursor(cursor) if cursor is not None else None
    page = list_integrations(caller(app, settings), default_services(), status=status, after=after, limit=limit)
    return IntegrationListResponse(
        items=[IntegrationResponse.of(item) for item in page.items],
        next_cursor=encode_integration_cursor(page.next_key) if page.next_key else None,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
