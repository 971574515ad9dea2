"""The cold-start floor of POST connect under the project's fixed choices: context for its goal, not a goal.

The floor of a read (bench/floor_read.py: Powertools with its validating resolver, pydantic, pg8000), with the route
of connect, plus the least connect must do beyond a read: one UPDATE that moves the integration, an SQS client
sending the provisioning message and an EventBridge client publishing the change, both from one botocore session (as
the project builds its clients: adapters/aws_session.py). Nothing of the project is imported, so what
connect_integration pays beyond this is the project's own.
"""

import json
import os

import botocore.session
from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from bench.floor_read import app, lambda_handler
from bench.seed import connect

__all__ = ["lambda_handler"]


class Accepted(BaseModel):
    id: str
    status: str


@app.post("/integrations/whatsapp/<integration_id>/connect")
def connect_one(integration_id: str) -> Response[Accepted]:
    tenant_id = app.current_event.request_context.authorizer.jwt_claim["tenant_id"]
    rows = connect(os.environ["DATABASE_URL"]).run(
        "UPDATE integrations SET status = 'connecting' WHERE tenant_id = :tenant_id AND id = CAST(:id AS uuid) "
        "AND status = 'validated' RETURNING id::text, status",
        tenant_id=tenant_id,
        id=integration_id,
    )
    identifier, status = rows[0]
    message = json.dumps({"tenant_id": tenant_id, "integration_id": identifier, "operation": "connect"})
    session, region = botocore.session.get_session(), os.environ.get("AWS_REGION")
    sqs, events = session.create_client("sqs", region_name=region), session.create_client("events", region_name=region)
    sqs.send_message(QueueUrl=os.environ["PROVISIONING_QUEUE_URL"], MessageBody=message)
    published = events.put_events(
        Entries=[
            {
                "Source": "bench",
                "DetailType": "IntegrationStatusChanged",
                "Detail": message,
                "EventBusName": os.environ["EVENT_BUS_NAME"],
            }
        ]
    )
    if published.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused {published['Entries']}")
    return Response(status_code=202, content_type="application/json", body=Accepted(id=identifier, status=status))
