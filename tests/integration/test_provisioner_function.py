"""The provisioner function as Lambda runs it: an SQS batch in, partial batch failures out, and the request's
correlation id on every log line of the flow."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from uuid import uuid4

import boto3
import pytest

from local import graph_simulator as sim
from local.evolution_simulator import EvolutionSimulator
from local.gateway import LambdaContext
from tests.integration.conftest import HandshakeEndpoint, load_function
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.services import Services, build_services
from whatsapp_integrations.settings import Settings
from whatsapp_integrations.usecases.connection_requests import request_connect
from whatsapp_integrations.usecases.create_integration import create_integration
from whatsapp_integrations.usecases.get_connection_status import get_connection_status

API_KEY = "integration-evolution-key"


@pytest.fixture
def evolution(graph: sim.GraphSimulator) -> Iterator[EvolutionSimulator]:
    simulator = EvolutionSimulator(api_key=API_KEY, graph_url=graph.base_url).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def wired(
    services: Services,
    migrated: Settings,
    evolution: EvolutionSimulator,
    lambda_environment: Callable[[dict[str, str]], None],
    handshake_endpoint: HandshakeEndpoint,
) -> tuple[Services, str]:
    """Settings for the provisioner: a moto queue, the Evolution key in Secrets Manager, the simulator's URL."""
    sqs, secrets = boto3.client("sqs"), boto3.client("secretsmanager")
    queue_url = sqs.create_queue(QueueName=f"provisioning-{os.getpid()}-{id(evolution)}")["QueueUrl"]
    arn = secrets.create_secret(Name=f"evolution-key-{id(evolution)}", SecretString=API_KEY)["ARN"]
    lambda_environment(
        {
            "DATABASE_URL": migrated.database_url or "",
            "KMS_KEY_ID": migrated.kms_key_id,
            "GRAPH_API_BASE_URL": str(migrated.graph_api_base_url),
            "PROVISIONING_QUEUE_URL": queue_url,
            "EVOLUTION_BASE_URL": evolution.base_url,
            "EVOLUTION_API_KEY_SECRET_ARN": arn,
            "EVOLUTION_WEBHOOK_URL": "http://127.0.0.1:9/webhooks/evolution",
            "PUBLIC_API_URL": handshake_endpoint.url,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "META_CALLS_PER_MINUTE": "1000",
        }
    )
    handshake_endpoint.services = services
    return build_services(Settings.from_environment()), queue_url


def load_provisioner() -> ModuleType:
    return load_function("provisioner", f"integration_provisioner_{uuid4().hex}")


def sqs_event(queue_url: str) -> dict[str, Any]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
        WaitTimeSeconds=1,
    )["Messages"]
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:provisioning",
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


def test_a_connect_message_is_provisioned_with_its_correlation_id_on_every_log_line(
    wired: tuple[Services, str], caller: Caller, evolution: EvolutionSimulator, log_lines: io.StringIO
) -> None:
    # Given a connect request queued by the API with the request's id as correlation id
    services, queue_url = wired
    credentials = MetaCredentials(
        sim.DEMO_PHONE_NUMBER_IDS[0], sim.DEMO_WABA_ID, sim.VALID_TOKEN, sim.DEMO_APP_ID, sim.DEMO_APP_SECRET
    )
    integration = create_integration(caller, "Main", credentials, services)
    request_connect(caller, integration.id, services)
    provisioner = load_provisioner()
    log_lines.truncate(0)
    # When the provisioner handles the batch
    result = provisioner.lambda_handler(sqs_event(queue_url), LambdaContext("provisioner", "invocation-1"))
    # Then the record succeeded and the integration is connected
    assert result == {"batchItemFailures": []}
    status = get_connection_status(caller, integration.id, services, history=5)
    assert status.integration.status == "connected"
    assert evolution.instances[f"wa-{integration.id}"]["number"] == sim.DEMO_PHONE_NUMBER_IDS[0]
    # And every log line of the flow carries the API request's id
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.strip()]
    assert lines, "the provisioner logged nothing"
    assert {line.get("correlation_id") for line in lines} == {caller.request_id}
    assert status.history[0].correlation_id == caller.request_id
    # And no log line carries the token
    assert all(sim.VALID_TOKEN not in json.dumps(line) for line in lines)


def test_a_transient_failure_is_reported_and_hidden_for_the_backoff(
    wired: tuple[Services, str], caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given Evolution answers 503 once
    services, queue_url = wired
    credentials = MetaCredentials(
        sim.DEMO_PHONE_NUMBER_IDS[1], sim.DEMO_WABA_ID, sim.VALID_TOKEN, sim.DEMO_APP_ID, sim.DEMO_APP_SECRET
    )
    integration = create_integration(caller, "Main", credentials, services)
    request_connect(caller, integration.id, services)
    evolution.fail_next("/instance/create", 503)
    event = sqs_event(queue_url)
    # When the provisioner handles the batch
    result = load_provisioner().lambda_handler(event, LambdaContext("provisioner", "invocation-2"))
    # Then the record is reported failed (SQS redelivers it), the integration is still connecting, and the message
    # is invisible for the backoff delay
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert get_connection_status(caller, integration.id, services, history=1).integration.status == "connecting"
    visible = boto3.client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", [])
    assert visible == []


def test_a_message_that_is_not_ours_is_dropped_not_retried_forever(wired: tuple[Services, str]) -> None:
    event = {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r",
                "body": "{not json",
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:provisioning",
                "awsRegion": "us-east-1",
            }
        ]
    }
    assert load_provisioner().lambda_handler(event, LambdaContext("provisioner", "i-3")) == {"batchItemFailures": []}
