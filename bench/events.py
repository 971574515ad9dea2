"""Events as Lambda hands them to the functions: API Gateway HTTP API requests of the bench tenant, SQS batches,
EventBridge schedules, and Meta's posts."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from bench.integrations import TENANT
from local.gateway import http_api_event
from local.graph_simulator import DEMO_WABA_ID

Event = dict[str, Any]
RECIPIENT = "5511999990000"


def api(
    method: str, route: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **path_params: str
) -> Event:
    """An authorized HTTP API request of the bench tenant."""
    raw = json.dumps(body).encode() if body is not None else b""
    return http_api_event(
        f"{method} {route}",
        method,
        path,
        headers={"content-type": "application/json", **(headers or {})} if raw else dict(headers or {}),
        body=raw,
        path_parameters=path_params or None,
        claims={"tenant_id": TENANT, "sub": "bench"},
    )


def sqs_event(body: dict[str, Any]) -> Event:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench-receipt",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:bench",
                "awsRegion": "us-east-1",
            }
        ]
    }


def scheduled_event() -> Event:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.scheduler"}


def meta_post(phone: str, wamid: str) -> bytes:
    status = {"id": wamid, "status": "delivered", "timestamp": "1795921700", "recipient_id": RECIPIENT}
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": phone}, "statuses": [status]}
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": DEMO_WABA_ID, "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signature(raw: bytes, app_secret: str) -> str:
    """X-Hub-Signature-256, as Meta signs a post."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def signed_meta_webhook(integration_id: str, raw: bytes, app_secret: str) -> Event:
    """Meta's post of `raw` to the integration's relay URL, signed as Meta signs it."""
    return http_api_event(
        "POST /webhooks/meta/{integration_id}",
        "POST",
        f"/webhooks/meta/{integration_id}",
        headers={"content-type": "application/json", "x-hub-signature-256": signature(raw, app_secret)},
        body=raw,
        path_parameters={"integration_id": integration_id},
    )
