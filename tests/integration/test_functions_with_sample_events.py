"""Every function's lambda_handler, invoked with the sample events in events/ against PostgreSQL, moto and the
Graph API simulator, exactly as Lambda would invoke it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import ModuleType
from typing import Any
from uuid import uuid4

import boto3
import pytest

from local.gateway import LambdaContext
from tests.conftest import ROOT
from tests.integration.conftest import load_function
from whatsapp_integrations.services import Services
from whatsapp_integrations.settings import Settings


def sample(function: str, case: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / function / f"{case}.json").read_text())


@pytest.fixture
def relay_queue_url(moto_url: str) -> str:
    return str(boto3.client("sqs").create_queue(QueueName=f"relay-samples-{uuid4().hex[:8]}")["QueueUrl"])


@pytest.fixture
def functions(
    services: Services,
    migrated: Settings,
    lambda_environment: Callable[[dict[str, str]], None],
    relay_queue_url: str,
) -> dict[str, ModuleType]:
    """Every function loaded the way Lambda does: settings come from the environment at import time."""
    lambda_environment(
        {
            "DATABASE_URL": migrated.database_url or "",
            "KMS_KEY_ID": migrated.kms_key_id,
            "GRAPH_API_BASE_URL": str(migrated.graph_api_base_url),
            "META_CALLS_PER_MINUTE": "1000",
            "POWERTOOLS_TRACE_DISABLED": "true",
            # Read at import; these samples never reach a queue or Evolution (the e2e tests cover those paths)
            "PROVISIONING_QUEUE_URL": "http://127.0.0.1:1/queue/samples",
            "STATUS_SYNC_QUEUE_URL": "http://127.0.0.1:1/queue/status-samples",
            "EVOLUTION_BASE_URL": "http://127.0.0.1:1",
            "EVOLUTION_API_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:samples",
            "EVOLUTION_WEBHOOK_URL": "http://127.0.0.1:1/webhooks/evolution",
            "WEBHOOK_HMAC_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:samples",
            "RELAY_QUEUE_URL": relay_queue_url,
            "PUBLIC_API_URL": "http://127.0.0.1:1",
        }
    )
    return {
        app_file.parent.name: load_function(app_file.parent.name, f"events_fn_{app_file.parent.name}")
        for app_file in sorted((ROOT / "functions").glob("*/app.py"))
    }


def invoke(functions: dict[str, ModuleType], function: str, event: dict[str, Any]) -> tuple[int, Any]:
    result = functions[function].lambda_handler(event, LambdaContext(function, "req-1"))
    body = result.get("body")
    return result["statusCode"], json.loads(body) if body else None


def for_integration(event: dict[str, Any], integration_id: str) -> dict[str, Any]:
    event = json.loads(json.dumps(event))
    old = event["pathParameters"]["integration_id"]
    event["pathParameters"]["integration_id"] = integration_id
    event["rawPath"] = event["rawPath"].replace(old, integration_id)
    event["requestContext"]["http"]["path"] = event["rawPath"]
    return event


def test_the_sample_events_drive_every_route(functions: dict[str, ModuleType]) -> None:
    # Given the sample create event, the integration is created for tenant-a
    status, created = invoke(functions, "create_integration", sample("create_integration", "valid"))
    assert status == 201, created
    integration_id = created["id"]
    # The other create samples are refused with their documented problems
    assert (
        invoke(functions, "create_integration", sample("create_integration", "expired_token"))[1]["errors"][0]["code"]
        == "token_expired"
    )
    assert invoke(functions, "create_integration", sample("create_integration", "malformed_json"))[1]["code"] == (
        "malformed_json"
    )
    assert invoke(functions, "create_integration", sample("create_integration", "unknown_field"))[0] == 400
    # The dry run validates without storing
    status, validated = invoke(functions, "validate_credentials", sample("validate_credentials", "valid"))
    assert status == 200 and validated["valid"] is True
    # Lists, reads, renames, audits and deletes through the sample events
    status, page = invoke(functions, "list_integrations", sample("list_integrations", "first_page"))
    assert status == 200 and [item["id"] for item in page["items"]] == [integration_id]
    assert invoke(functions, "list_integrations", sample("list_integrations", "bad_cursor"))[1]["code"] == (
        "invalid_cursor"
    )
    assert (
        invoke(
            functions, "get_integration", for_integration(sample("get_integration", "other_tenant"), integration_id)
        )[0]
        == 404
    )
    status, renamed = invoke(
        functions, "update_integration", for_integration(sample("update_integration", "rename"), integration_id)
    )
    assert status == 200 and renamed["name"] == "Renamed" and renamed["version"] == 2
    status, audit = invoke(
        functions, "list_audit_events", for_integration(sample("list_audit_events", "newest_first"), integration_id)
    )
    assert status == 200 and [event["action"] for event in audit["items"]] == [
        "integration.updated",
        "integration.created",
    ]
    assert (
        invoke(
            functions, "delete_integration", for_integration(sample("delete_integration", "delete"), integration_id)
        )[0]
        == 204
    )


def test_the_migration_custom_resource_answers_cloudformation(functions: dict[str, ModuleType]) -> None:
    # Given CloudFormation's pre-signed response URL (a loopback receiver here)
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.handle_request, daemon=True).start()
    event = sample("migrate_database", "cloudformation_create")
    event["ResponseURL"] = f"http://127.0.0.1:{server.server_address[1]}/response"
    # When the Create request is handled
    result = functions["migrate_database"].lambda_handler(event, LambdaContext("migrate", "req-2"))
    server.server_close()
    # Then the schema is current and CloudFormation is told SUCCESS
    assert result["status"] == "SUCCESS"
    assert received[0]["Status"] == "SUCCESS" and received[0]["RequestId"] == event["RequestId"]


def test_the_worker_and_schedule_samples_run(functions: dict[str, ModuleType]) -> None:
    # The sweeper finds nothing to send; the status scheduler finds nothing to check
    swept = functions["outbox_sweeper"].lambda_handler(sample("outbox_sweeper", "scheduled"), LambdaContext("s", "r"))
    assert swept == {"swept": True, "sent": 0, "failed": 0}
    # The status check of an integration that does not exist (anymore) is done, not retried
    checked = functions["status_sync"].lambda_handler(sample("status_sync", "check_batch"), LambdaContext("c", "r"))
    assert checked == {"batchItemFailures": []}


def test_the_meta_webhook_samples_need_a_known_integration(functions: dict[str, ModuleType]) -> None:
    # The sample integration id is no integration of this database: both the handshake and the post are 404
    assert invoke(functions, "meta_webhook", sample("meta_webhook", "handshake"))[0] == 404
    status, problem = invoke(functions, "meta_webhook", sample("meta_webhook", "signed_failed_status"))
    assert (status, problem["code"]) == (404, "integration_not_found")
