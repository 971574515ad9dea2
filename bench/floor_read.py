"""The cold-start floor of an HTTP read under the project's fixed choices: context for the cold-start goals, not a goal.

Powertools' Logger, Metrics and Tracer as in the baseline (bench/baseline_handler.py), without its boto3 client (a
read builds none), plus what any read must have: Powertools' API Gateway resolver with request validation, a pydantic
answer, and one SELECT over a new pg8000 connection. Nothing of the project is imported, so what a read function pays
beyond this is the project's own.
"""

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from bench.seed import connect

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Bench")
app = APIGatewayHttpResolver(enable_validation=True)


class Integration(BaseModel):
    id: str
    name: str
    status: str


@app.get("/integrations/whatsapp/<integration_id>")
def get_one(integration_id: str) -> Integration:
    tenant_id = app.current_event.request_context.authorizer.jwt_claim["tenant_id"]
    rows = connect(os.environ["DATABASE_URL"]).run(
        "SELECT id::text, name, status FROM integrations WHERE tenant_id = :tenant_id AND id = CAST(:id AS uuid)",
        tenant_id=tenant_id,
        id=integration_id,
    )
    identifier, name, status = rows[0]
    return Integration(id=identifier, name=name, status=status)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
