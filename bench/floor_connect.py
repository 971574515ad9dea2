"""The cold-start floor of POST connect under the project's fixed choices: context for its goal, not a goal.

The floor of a read (bench/floor_read.py: Powertools with its validating resolver, pydantic, pg8000), plus the least
connect must do beyond it: one UPDATE that moves the integration, an SQS client sending the provisioning message
and an EventBridge client publishing the change. Nothing of the project is imported, so what connect_integration pays
beyond this is the project's own.
"""

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from bench.floor_database import connect

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Bench")
app = APIGatewayHttpResolver(enable_validation=True)


class Accepted(BaseModel):
    id: str
    status: str


@app.post("/integrations/whatsapp/<integration_id>/connect")
def connect_one(integration_id: str) -> Response[Accepted]:
    tenant_id = app.current_event.request_context.authorizer.jwt_claim["tenant_id"]
    rows = connect().run(
        "UPDATE integrations SET status = 'connecting' WHERE tenant_id = :tenant_id AND id = CAST(:id AS uuid) "
        "AND status = 'validated' RETURNING id::text, status",
        tenant_id=tenant_id,
        id=integration_id,
    )
    identifier, status = rows[0]
    message = json.dumps({"tenant_id": tenant_id, "integration_id": identifier, "operation": "connect"})
    boto3.client("sqs").send_message(QueueUrl=os.environ["PROVISIONING_QUEUE_URL"], MessageBody=message)
    boto3.client("events").put_events(
        Entries=[
            {
                "Source": "bench",
                "DetailType": "IntegrationStatusChanged",
                "Detail": message,
                "EventBusName": os.environ["EVENT_BUS_NAME"],
            }
        ]
    )
    return Response(status_code=202, content_type="application/json", body=Accepted(id=identifier, status=status))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
