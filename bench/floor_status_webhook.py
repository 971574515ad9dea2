"""The cold-start floor of the Evolution webhook under the project's fixed choices: context for its goal, not a goal.

The floor of a read (bench/floor_read.py: Powertools with its validating resolver, pydantic, pg8000), with the
webhook's route and its secret header declared, plus the least a new status asks of a function that uses the
database and one AWS client: the JSON body parsed, one statement (the integration the instance names, where the real
function also records the status), and the status published with one PutEvents from an EventBridge client built with
botocore alone (as the project builds its clients: adapters/aws_session.py). Nothing of the project is imported, so
what evolution_webhook pays beyond this is the project's own.
"""

import json
import os
from typing import Annotated

import botocore.session
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from bench.floor_read import app, lambda_handler
from bench.seed import connect

__all__ = ["lambda_handler"]


@app.post("/webhooks/evolution")
def receive(x_webhook_secret: Annotated[str | None, Header(alias="x-webhook-secret")] = None) -> Response[str]:
    webhook = app.current_event.json_body
    integration_id = webhook["instance"].removeprefix("wa-")
    rows = connect(os.environ["DATABASE_URL"]).run(
        "SELECT tenant_id FROM integrations WHERE id = CAST(:id AS uuid) AND deleted_at IS NULL", id=integration_id
    )
    if not x_webhook_secret or not rows:
        return Response(status_code=401, content_type="application/json", body='{"result":"refused"}')
    events = botocore.session.get_session().create_client("events", region_name=os.environ.get("AWS_REGION"))
    detail = {"integration_id": integration_id, "tenant_id": rows[0][0], **webhook["data"]}
    published = events.put_events(
        Entries=[
            {
                "Source": "bench",
                "DetailType": "MessageStatusChanged",
                "Detail": json.dumps(detail),
                "EventBusName": os.environ["EVENT_BUS_NAME"],
            }
        ]
    )
    if published.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused {published['Entries']}")
    return Response(status_code=200, content_type="application/json", body='{"result":"recorded"}')
