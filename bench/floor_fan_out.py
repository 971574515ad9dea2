"""The cold-start floor of the status scheduler under the project's fixed choices: context for its goal, not a goal.

Powertools' Logger, Metrics and Tracer as in the baseline (bench/baseline_handler.py); its two settings typed and
validated at cold start with pydantic, as the fixed choices ask of every function; and the least the scheduler's
first invocation must do: read the integrations due a check with one SELECT over a new pg8000 connection, and queue
them with one SendMessageBatch, from an SQS client built with botocore alone (as the project builds its clients:
adapters/aws_session.py). Nothing of the project is imported, so what status_scheduler pays beyond this is the
project's own (its full settings, the repository, the queue adapter and the parallel senders).
"""

import json
import os
from typing import Any

import botocore.session
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from bench.seed import connect

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Bench")


class Settings(BaseModel):
    database_url: str
    status_sync_queue_url: str


settings = Settings.model_validate(
    {"database_url": os.environ["DATABASE_URL"], "status_sync_queue_url": os.environ["STATUS_SYNC_QUEUE_URL"]}
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    due = connect(settings.database_url).run(
        "SELECT id::text, tenant_id FROM integrations WHERE status = 'connected' AND deleted_at IS NULL "
        "ORDER BY id LIMIT 10"
    )
    entries = [
        {"Id": str(index), "MessageBody": json.dumps({"tenant_id": tenant_id, "integration_id": integration_id})}
        for index, (integration_id, tenant_id) in enumerate(due)
    ]
    sqs = botocore.session.get_session().create_client("sqs", region_name=os.environ.get("AWS_REGION"))
    answer = sqs.send_message_batch(QueueUrl=settings.status_sync_queue_url, Entries=entries)
    if answer.get("Failed"):
        raise RuntimeError(f"SQS refused {answer['Failed']}")
    return {"queued": len(entries)}
