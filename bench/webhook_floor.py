"""The floor of an Evolution status webhook, handler only: context for the webhook's goal, not a goal.

Powertools' handler shape as every function of the project has it: the API Gateway resolver with request validation
(the X-Webhook-Secret header declared as a parameter), the Logger, Tracer and Metrics decorators, one metric a
request, a JSON answer. Inside it only the JSON body is parsed and the status statement runs, prepared on a bare
connection. None of the project's code runs, so what functions/evolution_webhook pays beyond this is the project's
own: its resolver's checks, parsing the event, finding and authenticating the integration, building the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def floor_handler(path: str, run_statement: Callable[[], None]) -> Handler:
    """A Lambda handler for POST `path` that runs `run_statement` once per event it is given."""
    logger = Logger(service="bench-webhook-floor")
    tracer = Tracer(service="bench-webhook-floor", auto_patch=False)
    metrics = Metrics(service="bench-webhook-floor", namespace="Bench")
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.post(path)
    def receive(
        x_webhook_secret: Annotated[str | None, Header(alias="x-webhook-secret")] = None,
    ) -> Response[str]:
        body = app.current_event.json_body
        if not x_webhook_secret or not isinstance(body, dict):
            return Response(status_code=401, content_type="application/json", body='{"result":"refused"}')
        run_statement()
        metrics.add_metric(name="Webhook_recorded", unit=MetricUnit.Count, value=1)
        return Response(status_code=200, content_type="application/json", body='{"result":"recorded"}')

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    handler: Handler = lambda_handler
    return handler
