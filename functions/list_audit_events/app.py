from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.cursors import decode_audit_cursor, encode_audit_cursor
from whatsapp_integrations.http.routes import CursorQuery, PageSize
from whatsapp_integrations.http.schemas import AuditEventResponse, AuditListResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.list_audit_events import AuditPage, list_audit_events, list_tenant_audit_events

settings = get_settings()
app = build_api(settings)


@app.get(
    f"{INTEGRATIONS_PATH}/<integration_id>/audit",
    summary="The integration's audit trail, newest first",
    tags=["integrations"],
    operation_id="listIntegrationAudit",
    responses=responses(success(200, "A page of the audit trail", model=AuditListResponse), problems=(404,)),
)
def list_audit(
    integration_id: UUID,
    limit: PageSize = 20,
    cursor: CursorQuery = None,
) -> AuditListResponse:
    before_id = decode_audit_cursor(cursor) if cursor is not None else None
    page = list_audit_events(
        caller(app, settings), integration_id, default_services(), before_id=before_id, limit=limit
    )
    return audit_list(page)


@app.get(
    f"{INTEGRATIONS_PATH}/audit",
    summary="The tenant's audit trail, newest first: every integration's, deleted ones included",
    tags=["integrations"],
    operation_id="listTenantAudit",
    responses=responses(success(200, "A page of the audit trail", model=AuditListResponse)),
)
def list_tenant_audit(
    integration_id: Annotated[UUID | None, Query(description="Only this integration's (it may be deleted)")] = None,
    limit: PageSize = 20,
    cursor: CursorQuery = None,
) -> AuditListResponse:
    before_id = decode_audit_cursor(cursor) if cursor is not None else None
    page = list_tenant_audit_events(
        caller(app, settings), default_services(), integration_id=integration_id, before_id=before_id, limit=limit
    )
    return audit_list(page)


def audit_list(page: AuditPage) -> AuditListResponse:
    return AuditListResponse(
        items=[AuditEventResponse.of(event) for event in page.items],
        next_cursor=encode_audit_cursor(page.next_before_id) if page.next_before_id else None,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
