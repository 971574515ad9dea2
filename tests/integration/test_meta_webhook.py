"""The Meta webhook function as Lambda runs it, against PostgreSQL, moto (KMS, SQS) and real signatures: the
handshake, what proves a post, what is queued, and what is refused before anything is queued."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import boto3
import pytest

from local import graph_simulator as sim
from local.gateway import LambdaContext, http_api_event
from tests.integration.conftest import load_function
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.services import Services, default_services
from whatsapp_integrations.settings import Settings
from whatsapp_integrations.usecases.create_integration import create_integration

VERIFY_TOKEN = "the-verify-token-of-the-last-connect"
PHONE, WABA = sim.DEMO_PHONE_NUMBER_IDS[0], sim.DEMO_WABA_ID


@pytest.fixture
def relay_queue() -> str:
    return str(boto3.client("sqs").create_queue(QueueName=f"relay-{uuid4().hex[:10]}")["QueueUrl"])


@pytest.fixture
def meta_function(
    services: Services, migrated: Settings, lambda_environment: Callable[[dict[str, str]], None], relay_queue: str
) -> ModuleType:
    lambda_environment(
        {
            "DATABASE_URL": migrated.database_url or "",
            "KMS_KEY_ID": migrated.kms_key_id,
            "RELAY_QUEUE_URL": relay_queue,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return load_function("meta_webhook", f"integration_meta_{uuid4().hex}")


def integration(services: Services, caller: Caller, status: str = "connected") -> UUID:
    """An integration with its app secret, in `status`, wired as a connect leaves it (the verify token's hash)."""
    created = create_integration(
        caller, "Main", MetaCredentials(PHONE, WABA, sim.VALID_TOKEN, sim.DEMO_APP_ID, sim.DEMO_APP_SECRET), services
    )
    services.database.autocommit(
        lambda session: session.execute(
            "UPDATE integrations SET status = :status, meta_verify_token_hash = :hash WHERE id = :id",
            status=status,
            hash=hashlib.sha256(VERIFY_TOKEN.encode()).hexdigest(),
            id=created.id,
        )
    )
    return created.id


@pytest.fixture
def connected(services: Services, caller: Caller) -> UUID:
    return integration(services, caller)


def handshake(function: ModuleType, integration_id: object, query: str) -> tuple[int, str, str]:
    path = f"/webhooks/meta/{integration_id}"
    event = http_api_event(
        "GET /webhooks/meta/{integration_id}",
        "GET",
        path,
        raw_query=query,
        path_parameters={"integration_id": str(integration_id)},
    )
    result = function.lambda_handler(event, LambdaContext("meta", "r"))
    return result["statusCode"], result["headers"].get("Content-Type", ""), result["body"]


def post(
    function: ModuleType, integration_id: object, raw: bytes, signature: str | None, *, base64_body: bool = False
) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    event = http_api_event(
        "POST /webhooks/meta/{integration_id}",
        "POST",
        f"/webhooks/meta/{integration_id}",
        headers=headers,
        body=raw,
        path_parameters={"integration_id": str(integration_id)},
    )
    if base64_body:  # API Gateway may hand the body over base64-encoded
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    result = function.lambda_handler(event, LambdaContext("meta", "r"))
    return result["statusCode"], json.loads(result["body"])


def sign(raw: bytes, secret: str = sim.DEMO_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def payload(*statuses: dict[str, Any], phone: str = PHONE, waba: str = WABA) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100001", "phone_number_id": phone},
        "statuses": list(statuses),
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": [{"field": "messages", "value": value}]}],
    }
    # Meta's own serialisation: escaped slashes, so parsing and re-serialising gives other bytes
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


STATUS = {"id": "wamid.A/1", "status": "delivered", "timestamp": "1795921700", "recipient_id": "5511999990000"}


def queued(relay_queue: str) -> list[dict[str, Any]]:
    sqs, bodies = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=relay_queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=relay_queue, ReceiptHandle=message["ReceiptHandle"])
    return bodies


# ------------------------------------------------------------------------------------------------------ handshake


def test_the_handshake_echoes_the_challenge_for_the_right_token(meta_function: ModuleType, connected: UUID) -> None:
    query = f"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}"
    assert handshake(meta_function, connected, query) == (200, "text/plain", "1158201444")


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong",
        "hub.mode=subscribe&hub.challenge=1158201444",
        f"hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}",
        f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}",
        f"hub.mode=subscribe&hub.challenge={'9' * 600}&hub.verify_token={VERIFY_TOKEN}",
    ],
    ids=["wrong token", "no token", "not subscribe", "no challenge", "oversized challenge"],
)
def test_the_handshake_refuses_anything_else(meta_function: ModuleType, connected: UUID, query: str) -> None:
    assert handshake(meta_function, connected, query)[0] == 403


def test_an_unknown_or_deleted_integration_is_404(
    meta_function: ModuleType, services: Services, caller: Caller
) -> None:
    deleted = integration(services, caller)
    services.database.autocommit(
        lambda session: session.execute("UPDATE integrations SET deleted_at = now() WHERE id = :id", id=deleted)
    )
    query = f"hub.mode=subscribe&hub.challenge=1&hub.verify_token={VERIFY_TOKEN}"
    for unknown in (deleted, uuid4(), "not-an-id"):
        assert handshake(meta_function, unknown, query)[0] == 404
        assert post(meta_function, unknown, payload(STATUS), sign(payload(STATUS)))[0] == 404


# ------------------------------------------------------------------------------------------------------ posts


def test_a_signed_post_is_split_and_queued(meta_function: ModuleType, connected: UUID, relay_queue: str) -> None:
    # Given a post Meta signed, with two statuses in one change (sent base64-encoded, as API Gateway may)
    raw = payload(STATUS, {**STATUS, "id": "wamid.B", "status": "read"})
    # When it arrives
    status, answer = post(meta_function, connected, raw, sign(raw), base64_body=True)
    # Then each status is queued as a post of its own for Evolution
    assert (status, answer) == (200, {"queued": 2, "dropped": 0})
    items = queued(relay_queue)
    assert [item["post"]["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] for item in items] == [
        "wamid.A/1",
        "wamid.B",
    ]
    assert {item["integration_id"] for item in items} == {str(connected)}


@pytest.mark.parametrize(
    ("case", "tamper"),
    [
        ("another app's secret", lambda raw: (raw, sign(raw, "another-app-secret-0123456789abcd"))),
        ("no signature", lambda raw: (raw, None)),
        ("one byte changed", lambda raw: (raw.replace(b"delivered", b"delivereD"), sign(raw))),
        ("the JSON re-serialised", lambda raw: (json.dumps(json.loads(raw)).encode(), sign(raw))),
        ("sha1 instead of sha256", lambda raw: (raw, "sha1=" + hmac.new(b"x", raw, "sha1").hexdigest())),
        ("a signature that is not ASCII", lambda raw: (raw, "sha256=\u00e9")),
    ],
)
def test_a_post_that_proves_nothing_is_401_and_nothing_is_queued(
    meta_function: ModuleType,
    connected: UUID,
    relay_queue: str,
    case: str,
    tamper: Callable[[bytes], tuple[bytes, str | None]],
) -> None:
    raw, signature = tamper(payload(STATUS))
    status, problem = post(meta_function, connected, raw, signature)
    assert (status, problem["code"]) == (401, "webhook_unauthenticated"), case
    assert queued(relay_queue) == []


def test_text_postgresql_refuses_is_recorded_replaced_and_the_post_still_relayed(
    meta_function: ModuleType, connected: UUID, relay_queue: str
) -> None:
    # Given a signed post whose failed status has a NUL and a lone surrogate in Meta's texts, beside a good status
    failed = {**STATUS, "id": "wamid.nul", "status": "failed", "errors": [{"code": 131026, "title": "a\u0000b"}]}
    failed["errors"][0]["message"] = "c\ud800d"
    raw = payload(failed, {**STATUS, "id": "wamid.good"})
    # When it arrives
    status, answer = post(meta_function, connected, raw, sign(raw))
    # Then it is not a 500 that Meta would retry for days: both are queued for Evolution
    assert (status, answer) == (200, {"queued": 2, "dropped": 0})
    assert len(queued(relay_queue)) == 2


def test_changes_for_another_number_are_answered_200_and_dropped(
    meta_function: ModuleType, connected: UUID, relay_queue: str
) -> None:
    raw = payload(STATUS, phone="100000000000002")
    assert post(meta_function, connected, raw, sign(raw)) == (200, {"queued": 0, "dropped": 1})
    assert queued(relay_queue) == []


def test_a_disconnected_integration_queues_nothing(
    meta_function: ModuleType, services: Services, caller: Caller, relay_queue: str
) -> None:
    disconnected = integration(services, caller, status="disconnected")
    raw = payload(STATUS)
    assert post(meta_function, disconnected, raw, sign(raw)) == (200, {"queued": 0, "dropped": 1})
    assert queued(relay_queue) == []


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"not json", 400, "malformed_webhook"),
        (b'{"object":"page","entry":[]}', 400, "malformed_webhook"),
        (b'{"object":"whatsapp_business_account","entry":{}}', 400, "malformed_webhook"),
        (b"[" * 5000 + b"]" * 5000, 400, "malformed_webhook"),
        (b'{"object":"whatsapp_business_account","entry":[],"x":NaN}', 400, "malformed_webhook"),
    ],
    ids=["not JSON", "another object", "entry not a list", "nested 5,000 deep", "NaN, which JSON has not"],
)
def test_a_signed_body_that_is_not_a_whatsapp_webhook_is_a_4xx(
    meta_function: ModuleType, connected: UUID, relay_queue: str, raw: bytes, status: int, code: str
) -> None:
    assert post(meta_function, connected, raw, sign(raw))[0:1] == (status,)
    assert post(meta_function, connected, raw, sign(raw))[1]["code"] == code
    assert queued(relay_queue) == []


def test_an_oversized_post_is_413(meta_function: ModuleType, connected: UUID, relay_queue: str) -> None:
    raw = payload({**STATUS, "padding": "x" * 3_200_000})
    status, problem = post(meta_function, connected, raw, sign(raw))
    assert (status, problem["code"]) == (413, "body_too_large")
    assert queued(relay_queue) == []


def test_the_app_secret_is_decrypted_once_for_a_stream_of_posts(
    meta_function: ModuleType, connected: UUID, relay_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a warm function whose KMS calls are counted
    cipher = default_services().cipher
    decrypt, calls = cipher.decrypt, []
    monkeypatch.setattr(cipher, "decrypt", lambda *args, **kwargs: calls.append(1) or decrypt(*args, **kwargs))
    raw = payload(STATUS)
    # When ten posts arrive
    answers = [post(meta_function, connected, raw, sign(raw))[0] for _ in range(10)]
    # Then all are accepted with one decryption
    assert answers == [200] * 10 and len(calls) == 1
