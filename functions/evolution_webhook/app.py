"""Evolution's webhooks for every integration (no JWT: each request proves its integration itself)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.domain.evolution_webhook import parse_webhook
from whatsapp_integrations.http.api import build_api, request_origin
from whatsapp_integrations.http.problems import openapi_problem_responses
from whatsapp_integrations.http.schemas import WebhookAnswer
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.ingest_evolution_webhook import ingest_evolution_webhook

settings = get_settings()
settings.require("webhook_hmac_key_secret_arn", "evolution_base_url", "evolution_api_key_secret_arn")
app = build_api(settings, max_body_bytes=settings.max_webhook_body_bytes)
WEBHOOK_PATH = "/webhooks/evolution"


def receive(event_from_path: str | None) -> Response[WebhookAnswer]:
    webhook = parse_webhook(app.current_event.decoded_body or "", event_from_path)
    outcome = ingest_evolution_webhook(
        webhook, app.current_event.headers.get("x-webhook-secret"), default_services(), origin=request_origin(app)
    )
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
    responses=openapi_problem_responses(400, 401, 413, 503),
)
def receive_webhook() -> Response[WebhookAnswer]:
    return receive(None)


@app.post(
    f"{WEBHOOK_PATH}/<event>",
    summary="The same, in Evolution's byEvents form (/webhooks/evolution/messages-update)",
    tags=["webhooks"],
    responses=openapi_problem_responses(400, 401, 413, 503),
)
def receive_webhook_by_event(event: str) -> Response[WebhookAnswer]:
    return receive(event)


# The event is never logged: its `apikey` field is the tenant's Meta token.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
