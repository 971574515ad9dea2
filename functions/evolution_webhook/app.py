"""Evolution's webhooks for every integration (no JWT: each request proves its integration itself)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.domain.evolution_webhook import parse_webhook
from whatsapp_integrations.http.api import build_api, request_origin
from whatsapp_integrations.http.api_description import evolution_webhook_body, responses, success
from whatsapp_integrations.http.routes import WebhookSecret
from whatsapp_integrations.http.schemas import WebhookAnswer
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.ingest_evolution_webhook import ingest_evolution_webhook

settings = get_settings()
settings.require("webhook_hmac_key_secret_arn", "evolution_base_url", "evolution_api_key_secret_arn")
app = build_api(settings, max_body_bytes=settings.max_webhook_body_bytes)
WEBHOOK_PATH = "/webhooks/evolution"
UNAUTHENTICATED = {
    401: "The webhook secret (X-Webhook-Secret, or `apikey` for a global webhook) is not this integration's"
}


def receive(event_from_path: str | None, secret: str | None) -> Response[WebhookAnswer]:
    webhook = parse_webhook(app.current_event.decoded_body or "", event_from_path)
    outcome = ingest_evolution_webhook(webhook, secret, default_services(), origin=request_origin(app))
    metrics.add_metric(name=f"Webhook_{outcome.result}", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=200,
        content_type="application/json",
        body=WebhookAnswer(result=outcome.result, reason=outcome.reason),
    )


@app.post(
    WEBHOOK_PATH,
    summary="Evolution API webhook (instance-level with the X-Webhook-Secret header, or global with apikey)",
    tags=["webhooks"],
    operation_id="receiveEvolutionWebhook",
    openapi_extensions=evolution_webhook_body(event_in_path=False),
    responses=responses(
        success(200, "Taken, or ignored with the reason (Evolution must not retry)", model=WebhookAnswer),
        problems=(401, 413, 415),
        authorized=False,
        described=UNAUTHENTICATED,
    ),
)
def receive_webhook(x_webhook_secret: WebhookSecret = None) -> Response[WebhookAnswer]:
    return receive(None, x_webhook_secret)


@app.post(
    f"{WEBHOOK_PATH}/<event>",
    summary="The same, in Evolution's byEvents form (/webhooks/evolution/messages-update)",
    tags=["webhooks"],
    operation_id="receiveEvolutionWebhookByEvent",
    openapi_extensions=evolution_webhook_body(event_in_path=True),
    responses=responses(
        success(200, "Taken, or ignored with the reason (Evolution must not retry)", model=WebhookAnswer),
        problems=(401, 413, 415),
        authorized=False,
        described=UNAUTHENTICATED,
    ),
)
def receive_webhook_by_event(event: str, x_webhook_secret: WebhookSecret = None) -> Response[WebhookAnswer]:
    return receive(event, x_webhook_secret)


# The event is never logged: its `apikey` field is the tenant's Meta token.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
