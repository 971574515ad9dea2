"""POST /integrations/whatsapp/{id}/diagnostics/repair: fix what is ours to fix, then the checklist as it is."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.api import INTEGRATIONS_PATH, build_api, caller
from whatsapp_integrations.http.api_description import responses, success
from whatsapp_integrations.http.schemas import DiagnosisResponse
from whatsapp_integrations.observability import logger, metrics, tracer
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings
from whatsapp_integrations.usecases.diagnose_integration import repair_integration

settings = get_settings()
settings.require(
    "provisioning_queue_url", "evolution_base_url", "evolution_api_key_secret_arn", "evolution_webhook_url"
)
app = build_api(settings)


@app.post(
    f"{INTEGRATIONS_PATH}/<integration_id>/diagnostics/repair",
    summary="Repair the failed checks that are ours to fix (webhook configs, subscriptions, the instance)",
    tags=["diagnostics"],
    operation_id="repairIntegration",
    responses=responses(
        success(200, "The diagnosis after repairing; `repaired` says what each repair did", model=DiagnosisResponse),
        problems=(404, 409, 429),
    ),
)
def repair(integration_id: UUID) -> DiagnosisResponse:
    return DiagnosisResponse.of(repair_integration(caller(app, settings), integration_id, default_services()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
