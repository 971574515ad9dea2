"""The cold-start floor of the status scheduler under the project's fixed choices: context for its goal, not a goal.

The baseline (bench/baseline_handler.py: Powertools' Logger, Metrics and Tracer, boto3 and one SQS client), plus the
least the scheduler's first invocation must do: read the integrations due a check with one SELECT over a new pg8000
connection, and queue them with SendMessageBatch. Nothing of the project is imported, so what status_scheduler pays
beyond this is the project's own (pydantic, the typed settings, the repository and the queue adapter).
"""

import json
import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bench.baseline_handler import logger, metrics, sqs, tracer
from bench.seed import connect


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    due = connect(os.environ["DATABASE_URL"]).run(
        "SELECT id::text, tenant_id FROM integrations WHERE status = 'connected' AND deleted_at IS NULL "
        "ORDER BY id LIMIT 10"
    )
    entries = [
        {"Id": str(index), "MessageBody": json.dumps({"tenant_id": tenant_id, "integration_id": integration_id})}
        for index, (integration_id, tenant_id) in enumerate(due)
    ]
    sqs.send_message_batch(QueueUrl=os.environ["STATUS_SYNC_QUEUE_URL"], Entries=entries)
    return {"queued": len(entries)}
