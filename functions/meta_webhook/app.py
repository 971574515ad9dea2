"""Meta's webhooks for one integration (no JWT): the verification handshake, and signed posts queued for the relay."""

import base64
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.domain.errors import IntegrationNotFound
from whatsapp_integrations.http.api import build_api
from whatsapp_integrations.http.api_description import META_WEBHOOK_BODY, responses, success
from whatsapp_integrations.http.routes import MetaSignature
from whatsapp_integrations.http.schemas import MetaWebhookAnswer
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.receive_meta_webhook import answer_handshake, receive_meta_webhook

settings = get_settings()
settings.require("relay_queue_url")
app = build_api(settings, max_body_bytes=settings.max_meta_webhook_body_bytes)
META_WEBHOOK_PATH = "/webhooks/meta/<integration_id>"


def integration_of(integration_id: str) -> UUID:
    """The path's opaque id; one that is not an id is an unknown integration."""
    try:
        return UUID(integration_id)
    except ValueError:
        raise IntegrationNotFound() from None


@app.get(
    META_WEBHOOK_PATH,
    summary="Meta's verification handshake: the challenge, when Meta presents this integration's verify token",
    tags=["webhooks"],
    operation_id="answerMetaHandshake",
    responses=responses(
        {
            200: {
                "description": "The challenge, as plain text",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
        problems=(403, 404),
        authorized=False,
        described={
            403: "hub.mode is not subscribe, or hub.verify_token is not this integration's",
            404: "No such integration",
        },
    ),
)
def handshake(
    integration_id: str,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> Response[str]:
    echoed = answer_handshake(integration_of(integration_id), mode, verify_token, challenge, default_services())
    return Response(status_code=200, content_type="text/plain", body=echoed)


@app.post(
    META_WEBHOOK_PATH,
    summary="Meta's webhook for this integration: checked with X-Hub-Signature-256, split, queued for Evolution",
    tags=["webhooks"],
    operation_id="receiveMetaWebhook",
    openapi_extensions=META_WEBHOOK_BODY,
    responses=responses(
        success(
            200, "Verified; how many changes were queued for Evolution and how many dropped", model=MetaWebhookAnswer
        ),
        problems=(401, 404, 413, 415),
        authorized=False,
        described={
            401: "X-Hub-Signature-256 is missing, or not the signature of this body with the integration's app secret",
            404: "No such integration",
        },
    ),
)
def receive(integration_id: str, x_hub_signature_256: MetaSignature = None) -> MetaWebhookAnswer:
    event = app.current_event
    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    relayed = receive_meta_webhook(
        integration_of(integration_id),
        raw,
        x_hub_signature_256,
        default_services(),
        correlation_id=event.request_context.request_id,
    )
    metrics.add_metric(name="MetaWebhookQueued", unit=MetricUnit.Count, value=relayed.queued)
    return MetaWebhookAnswer(queued=relayed.queued, dropped=relayed.dropped)


# Never log the event: its body is a tenant's customer messages.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
