"""The cold-start baseline: a handler that imports and sets up Powertools (Logger, Tracer, Metrics) and boto3, creates
one boto3 client, and answers.

Every real handler pays at least this much; bench/cold_start.py reports each function as a multiple of it.
"""

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Bench")
sqs = boto3.client("sqs")


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"statusCode": 200, "body": ""}
