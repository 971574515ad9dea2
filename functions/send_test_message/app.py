"""POST /integrations/whatsapp/{id}/test-message: prove the number works with one message through its instance."""

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.schemas import TestMessageRequest, TestMessageResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.send_test_message import TestMessage, send_test_message

settings = get_settings()
settings.require("evolution_base_url", "evolution_api_key_secret_arn")
app = build_api(settings)


@app.post(
    f"{INTEGRATIONS_PATH}/<integration_id>/test-message",
    summary="Send a test message through the integration; its statuses then show at status_url",
    tags=["messages"],
    operation_id="sendTestMessage",
    responses=responses(
        success(
            202,
            "Sent to Meta; watch status_url for sent, delivered, read or failed",
            model=TestMessageResponse,
            headers=("Location",),
        ),
        problems=(404, 409, 413, 415, 422, 429),
        described={
            409: "The integration is not connected",
            422: "Meta refused the message: `errors[0]` names the field (to, template, access_token) and the fix",
            429: "Too many test messages this hour, the tenant's request quota, or API Gateway throttling",
        },
    ),
)
def test_message(integration_id: UUID, request: Annotated[TestMessageRequest, Body()]) -> Response[TestMessageResponse]:
    template = request.template
    sent = send_test_message(
        caller(app, settings),
        integration_id,
        TestMessage(
            to=request.to,
            text=request.text,
            template=template.name if template else None,
            language=template.language if template else None,
        ),
        default_services(),
    )
    metrics.add_metric(name="TestMessageSent", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=202,
        content_type="application/json",
        body=TestMessageResponse(wamid=sent.wamid, to_masked=sent.to_masked, status_url=sent.status_url),
        headers={"Location": sent.status_url},
    )


# The event holds the recipient's number: never logged.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
