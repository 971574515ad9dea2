from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Path as PathParameter
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller, message_id
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.schemas import MessageStatusResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.get_message_status import get_message_status

settings = get_settings()
app = build_api(settings)


@app.get(
    f"{INTEGRATIONS_PATH}/<integration_id>/messages/<wamid>",
    summary="A sent message's current status and the history of its statuses",
    tags=["messages"],
    operation_id="getMessageStatus",
    responses=responses(success(200, "The message's statuses so far", model=MessageStatusResponse), problems=(404,)),
)
def get_message(
    integration_id: UUID,
    wamid: Annotated[
        str,
        PathParameter(
            description="Meta's message id, e.g. wamid.HBgL... (URL-encoded)",
            json_schema_extra={"minLength": 1, "maxLength": 256, "pattern": "^[^\\u0000]+$"},
        ),
    ],
) -> MessageStatusResponse:
    record = get_message_status(caller(app, settings), integration_id, message_id(wamid), default_services())
    return MessageStatusResponse.of(record)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
