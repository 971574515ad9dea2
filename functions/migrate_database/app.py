"""Applies schema migrations on deploy (CloudFormation custom resource) or when invoked directly."""

import json
import urllib.request
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.adapters.migrations import apply_migrations
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings

settings = get_settings()


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "RequestType" not in event:
        return {"applied": apply_migrations(default_services().database)}
    status, reason, applied = "SUCCESS", "", []
    try:
        # Forward-only migrations: a stack delete or rollback leaves the data alone.
        if event["RequestType"] in ("Create", "Update"):
            applied = apply_migrations(default_services().database)
    except Exception as error:
        logger.exception("migration failed")
        status, reason = "FAILED", f"{type(error).__name__}: see log stream {context.log_stream_name}"
    _answer_cloudformation(event, context, status, reason, {"Applied": ",".join(applied) or "none"})
    return {"status": status, "applied": applied}


def _answer_cloudformation(
    event: dict[str, Any], context: LambdaContext, status: str, reason: str, data: dict[str, str]
) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or "ok",
            "PhysicalResourceId": "schema-migrations",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        logger.info("answered CloudFormation", extra={"status": status, "http_status": response.status})
