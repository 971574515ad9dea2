"""PostgreSQL restarts in the middle of a stream of Evolution webhooks: the function answers 5xx only while the
database is down, Evolution's retry policy delivers those events again, and nothing is lost or doubled."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from uuid import UUID, uuid4

import pytest

from local.evolution_simulator import retry_delay
from local.gateway import LambdaContext, http_api_event
from local.postgres import (
    create_database,
    postgres_binaries_installed,
    restart_private_cluster,
    start_private_cluster,
    stop_private_cluster,
)
from local.stack import free_port
from tests.integration.conftest import load_function
from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.migrations import apply_migrations
from whatsapp_integrations.settings import Settings

SECRET = "restart-test-webhook-secret"
NON_RETRYABLE = {400, 401, 403, 404, 422}  # Evolution's WEBHOOK_RETRY_NON_RETRYABLE_STATUS_CODES
EVENTS = 120

pytestmark = pytest.mark.skipif(not postgres_binaries_installed(), reason="needs the PostgreSQL server binaries")


@pytest.fixture
def restartable_database(kms_key_id: str) -> Iterator[tuple[Path, str]]:
    """A PostgreSQL cluster of this test's own, so restarting it disturbs nobody else."""
    root = Path(tempfile.mkdtemp(prefix="wa-restart-"))
    root.chmod(0o755)
    try:
        admin_url = start_private_cluster(root / "postgres", free_port())
        url = create_database(admin_url, "restart_test")
        database = Database(connection_factory(Settings(database_url=url, kms_key_id=kms_key_id)))
        apply_migrations(database)
        database.close()
        yield root / "postgres", url
    finally:
        stop_private_cluster(root / "postgres")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def webhook_function(
    restartable_database: tuple[Path, str],
    kms_key_id: str,
    lambda_environment: Callable[[dict[str, str]], None],
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    lambda_environment(
        {
            "DATABASE_URL": restartable_database[1],
            "KMS_KEY_ID": kms_key_id,
            "WEBHOOK_HMAC_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:unused",
            # Only status events flow here: Evolution is never asked.
            "EVOLUTION_BASE_URL": "http://127.0.0.1:1",
            "EVOLUTION_API_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:unused",
            "DB_CONNECT_TIMEOUT_SECONDS": "2",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return load_function("evolution_webhook", "restart_webhook")


def add_connected_integration(url: str, kms_key_id: str) -> UUID:
    integration_id = uuid4()
    database = Database(connection_factory(Settings(database_url=url, kms_key_id=kms_key_id)))
    database.in_transaction(
        lambda session: session.execute(
            """INSERT INTO integrations (id, tenant_id, name, phone_number_id, waba_id, access_token_ciphertext,
               kms_key_id, token_fingerprint, status, webhook_secret_hash)
           VALUES (:id, 'tenant-restart', 'Main', '100000000000001', '200000000000001', '\\x00', 'k', 'f',
               'connected', :hash)""",
            id=integration_id,
            hash=hashlib.sha256(SECRET.encode()).hexdigest(),
        )
    )
    database.close()
    return integration_id


def deliver_like_evolution(function: ModuleType, body: bytes) -> list[int]:
    """Evolution's policy: up to 10 attempts, exponential backoff (scaled down here), no retry on 4xx it lists."""
    statuses = []
    for attempt in range(1, 11):
        event = http_api_event(
            "POST /webhooks/evolution",
            "POST",
            "/webhooks/evolution",
            body=body,
            headers={"content-type": "application/json", "x-webhook-secret": SECRET},
        )
        status = function.lambda_handler(event, LambdaContext("webhook", "r"))["statusCode"]
        statuses.append(status)
        if status < 300 or status in NON_RETRYABLE:
            return statuses
        time.sleep(retry_delay(attempt, base=0.2, cap=1.0))
    return statuses


def test_nothing_is_lost_when_postgresql_restarts_mid_stream(
    webhook_function: ModuleType, restartable_database: tuple[Path, str], kms_key_id: str
) -> None:
    data_root, url = restartable_database
    integration_id = add_connected_integration(url, kms_key_id)
    bodies = [
        json.dumps(
            {
                "event": "messages.update",
                "instance": f"wa-{integration_id}",
                "data": {"keyId": f"wamid.{number}", "status": status},
            }
        ).encode()
        for number in range(EVENTS // 2)
        for status in ("SENT", "DELIVERED")
    ]
    # Given a stream of webhooks, and PostgreSQL restarted (fast: connections dropped) while it flows
    restarter = threading.Thread(target=lambda: (time.sleep(0.3), restart_private_cluster(data_root)))
    restarter.start()
    outcomes = []
    for body in bodies:
        outcomes.append(deliver_like_evolution(webhook_function, body))
        time.sleep(0.005)
    restarter.join()
    # Then some deliveries met the outage and were answered 503 (so Evolution retried them) ...
    assert any(503 in attempts for attempts in outcomes), "the restart did not interrupt the stream"
    assert all(attempts[-1] == 200 for attempts in outcomes), [a for a in outcomes if a[-1] != 200]
    assert all(status in (200, 503) for attempts in outcomes for status in attempts)
    # ... and afterwards every status is recorded exactly once
    database = Database(connection_factory(Settings(database_url=url, kms_key_id=kms_key_id)))
    counts = database.in_transaction(
        lambda session: session.fetch_one(
            "SELECT count(*) AS statuses, count(DISTINCT wamid) AS messages FROM whatsapp_message_statuses"
        )
    )
    progress = database.in_transaction(lambda session: session.fetch("SELECT DISTINCT progress FROM whatsapp_messages"))
    database.close()
    assert (counts["statuses"], counts["messages"]) == (EVENTS, EVENTS // 2)
    assert [row["progress"] for row in progress] == ["DELIVERED"]
