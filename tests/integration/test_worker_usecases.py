"""The three worker use cases called directly (provision, sync_integration_status, ingest_evolution_webhook) against
PostgreSQL, moto and the simulators, and the outbox that carries what their state changes send."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import boto3
import pytest

from local import graph_simulator as sim
from local.evolution_simulator import EvolutionSimulator
from tests.integration.conftest import EVOLUTION_KEY, HandshakeEndpoint, limited_services
from whatsapp_integrations.adapters import outbox, webhook_store
from whatsapp_integrations.adapters.evolution_client import EvolutionClient
from whatsapp_integrations.adapters.relay_queue import RelayItem, parse_relay_item
from whatsapp_integrations.domain.caller import Caller, Origin
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.domain.errors import RateLimited
from whatsapp_integrations.domain.evolution_instance import WebhookConfig, instance_name_for
from whatsapp_integrations.domain.evolution_webhook import parse_webhook
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.provisioning import Operation, ProvisioningMessage, TransientFailure
from whatsapp_integrations.services import Services, build_services
from whatsapp_integrations.settings import Settings
from whatsapp_integrations.usecases.connection_requests import request_connect, request_delete, request_disconnect
from whatsapp_integrations.usecases.create_integration import create_integration
from whatsapp_integrations.usecases.diagnose_integration import repair_integration
from whatsapp_integrations.usecases.get_connection_status import refresh_connection_status
from whatsapp_integrations.usecases.ingest_evolution_webhook import ingest_evolution_webhook
from whatsapp_integrations.usecases.outbox_dispatch import DISPATCH_LIMIT, sweep_outbox
from whatsapp_integrations.usecases.provision_integration import provision
from whatsapp_integrations.usecases.receive_meta_webhook import receive_meta_webhook
from whatsapp_integrations.usecases.relay_meta_webhook import relay_meta_webhook
from whatsapp_integrations.usecases.sync_integration_status import sync_integration_status
from whatsapp_integrations.usecases.validate_credentials import validate_credentials

HMAC_KEY = "worker-tests-hmac-key"


@dataclass
class Published:
    """What reached EventBridge through the domain-events adapter, and a switch to make EventBridge fail."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    calls: int = 0  # PutEvents calls made
    down: bool = False


@dataclass
class Worker:
    services: Services
    queue_url: str
    published: Published
    graph: sim.GraphSimulator

    def queued(self) -> list[dict[str, Any]]:
        """Drain the provisioning queue: what the outbox sent to it."""
        sqs, bodies = boto3.client("sqs"), []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def row(self, integration_id: UUID, columns: str = "status, last_error->>'code' AS code") -> dict[str, Any]:
        found = self.services.database.autocommit(
            lambda session: session.fetch_one(f"SELECT {columns} FROM integrations WHERE id = :id", id=integration_id)
        )
        assert found is not None
        return found

    def execute(self, sql: str, **params: Any) -> None:
        self.services.database.autocommit(lambda session: session.execute(sql, **params))

    def audit_actions(self, integration_id: UUID) -> list[str]:
        rows = self.services.database.autocommit(
            lambda session: session.fetch(
                "SELECT action FROM audit_events WHERE integration_id = :id ORDER BY id", id=integration_id
            )
        )
        return [row["action"] for row in rows]

    def pending_outbox(self) -> int:
        return self.services.database.autocommit(outbox.pending_count)


@pytest.fixture
def worker(
    services: Services,
    migrated: Settings,
    evolution: EvolutionSimulator,
    evolution_key_secret_arn: str,
    graph: sim.GraphSimulator,
    handshake_endpoint: HandshakeEndpoint,
) -> Iterator[Worker]:
    """Services as the provisioner, the status-sync worker and the webhook have them, on the simulators."""
    evolution.reset()
    sqs, secrets = boto3.client("sqs"), boto3.client("secretsmanager")
    queue_url = sqs.create_queue(QueueName=f"provisioning-{uuid4().hex[:12]}")["QueueUrl"]
    relay_url = sqs.create_queue(QueueName=f"relay-{uuid4().hex[:12]}")["QueueUrl"]
    bus = f"bus-{uuid4().hex[:8]}"
    boto3.client("events").create_event_bus(Name=bus)
    hmac_arn = secrets.create_secret(Name=f"hmac-{uuid4()}", SecretString=HMAC_KEY)["ARN"]
    built = build_services(
        migrated.model_copy(
            update={
                "provisioning_queue_url": queue_url,
                "relay_queue_url": relay_url,
                "evolution_base_url": evolution.base_url,
                "evolution_api_key_secret_arn": evolution_key_secret_arn,
                "evolution_webhook_url": "http://127.0.0.1:9/webhooks/evolution",
                "webhook_hmac_key_secret_arn": hmac_arn,
                "event_bus_name": bus,
                "provisioning_max_attempts": 3,
                "outbox_sweep_after_seconds": 1,
                "public_api_url": handshake_endpoint.url,
            }
        )
    )
    handshake_endpoint.services = built
    published = Published()
    events = built.domain_events
    assert events is not None
    original = events.publish_many

    def publish_many(batch: Sequence[tuple[str, dict[str, Any]]]) -> list[str | None]:
        if published.down:
            raise ConnectionError("EventBridge is down (test)")
        outcomes = original(batch)
        published.calls += 1
        published.events.extend(event for event, refused in zip(batch, outcomes, strict=True) if refused is None)
        return outcomes

    events.publish_many = publish_many  # type: ignore[method-assign]
    yield Worker(built, queue_url, published, graph)
    built.database.close()


def integration_in(worker: Worker, caller: Caller, status: str = "validated", phone: int = 0) -> Integration:
    created = create_integration(
        caller,
        "Main",
        MetaCredentials(
            sim.DEMO_PHONE_NUMBER_IDS[phone], sim.DEMO_WABA_ID, sim.VALID_TOKEN, sim.DEMO_APP_ID, sim.DEMO_APP_SECRET
        ),
        worker.services,
    )
    if status != "validated":
        worker.execute("UPDATE integrations SET status = :status WHERE id = :id", status=status, id=created.id)
    return created


def message(integration: Integration, operation: Operation, correlation_id: str = "request-1") -> ProvisioningMessage:
    return ProvisioningMessage(integration.tenant_id, integration.id, operation, correlation_id)


def create_instance(evolution: EvolutionSimulator, integration_id: UUID, number: str) -> None:
    import httpx

    answer = httpx.post(
        f"{evolution.base_url}/instance/create",
        headers={"apikey": EVOLUTION_KEY},
        json={
            "instanceName": instance_name_for(integration_id),
            "integration": "WHATSAPP-BUSINESS",
            "token": sim.VALID_TOKEN,
            "number": number,
            "businessId": sim.DEMO_WABA_ID,
        },
    )
    assert answer.status_code == 201, answer.text


# ---------------------------------------------------------------------------------------------------- provision


def test_connect_provisions_the_instance_and_publishes_the_transition(worker: Worker, caller: Caller) -> None:
    # Given a connect request (the API moved the integration to connecting and queued the message)
    integration = integration_in(worker, caller)
    request_connect(caller, integration.id, worker.services)
    [queued] = worker.queued()
    # When the provisioner carries it out
    provision(ProvisioningMessage.from_payload(queued), worker.services, attempt=1)
    # Then the integration is connected, the lease is released, and every transition went out once as an event
    assert worker.row(integration.id, "status, lease_owner") == {"status": "connected", "lease_owner": None}
    transitions = [
        (detail["from"], detail["to"]) for kind, detail in worker.published.events if kind == "IntegrationStatusChanged"
    ]
    assert transitions == [("validated", "connecting"), ("connecting", "connected")]
    assert worker.pending_outbox() == 0


ProvisionCase = tuple[str, Callable[[Worker, EvolutionSimulator, Integration], None], str, str | None]

PROVISION_CASES: list[ProvisionCase] = [
    (
        "an instance left by a lost answer is adopted",
        lambda worker, evolution, integration: create_instance(evolution, integration.id, integration.phone_number_id),
        "connected",
        None,
    ),
    (
        "an instance of our name serving another number is a conflict",
        lambda worker, evolution, integration: create_instance(evolution, integration.id, "100000000000055"),
        "error",
        "evolution_instance_conflict",
    ),
    (
        "an expired token at the WABA subscription asks for a new token",
        lambda worker, evolution, integration: worker.graph.fail_next(401, 190, error_subcode=463),
        "reauth_required",
        "token_expired",
    ),
    (
        "Evolution refusing our key is permanent",
        lambda worker, evolution, integration: evolution.fail_next("/instance/create", 401),
        "error",
        "evolution_unauthorized",
    ),
]


@pytest.mark.parametrize(("case", "arrange", "status", "code"), PROVISION_CASES, ids=[c[0] for c in PROVISION_CASES])
def test_connect_outcomes(
    worker: Worker,
    caller: Caller,
    evolution: EvolutionSimulator,
    case: str,
    arrange: Callable[[Worker, EvolutionSimulator, Integration], None],
    status: str,
    code: str | None,
) -> None:
    # Given a connecting integration and the situation of the case
    integration = integration_in(worker, caller, "connecting")
    arrange(worker, evolution, integration)
    # When the connect message is carried out
    provision(message(integration, Operation.CONNECT), worker.services, attempt=1)
    # Then the integration settles as the case says, with the failure's code
    assert worker.row(integration.id) == {"status": status, "code": code}


def test_a_webhook_config_that_does_not_stick_is_retried(
    worker: Worker, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an Evolution whose webhook config reads back different from what was set, every time
    integration = integration_in(worker, caller, "connecting")
    drifted = WebhookConfig(url="https://elsewhere.example/hook", headers={}, events=("SEND_MESSAGE",))
    monkeypatch.setattr(EvolutionClient, "find_webhook", lambda self, name: drifted)
    # When the connect message is carried out, then it is a transient failure and the integration keeps connecting
    with pytest.raises(TransientFailure) as raised:
        provision(message(integration, Operation.CONNECT), worker.services, attempt=1)
    assert raised.value.error.code == "webhook_mismatch"
    assert worker.row(integration.id)["status"] == "connecting"


def test_the_last_attempt_gives_up_with_the_reason(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given Evolution unavailable on the last of three attempts
    integration = integration_in(worker, caller, "connecting")
    evolution.fail_next("/instance/create", 503)
    # When the message is carried out for the last time
    with pytest.raises(TransientFailure):
        provision(message(integration, Operation.CONNECT), worker.services, attempt=3)
    # Then nothing waits in connecting: the integration shows the give-up and the last error
    row = worker.row(integration.id, "status, last_error->>'code' AS code, last_error->>'message' AS message")
    assert (row["status"], row["code"]) == ("error", "provisioning_retries_exhausted")
    assert "gateway" in row["message"]


def test_a_stale_message_changes_nothing(worker: Worker, caller: Caller, evolution: EvolutionSimulator) -> None:
    # Given a connected integration and a late duplicate of its disconnect message (already carried out)
    integration = integration_in(worker, caller, "connected")
    # When it is carried out
    provision(message(integration, Operation.DISCONNECT), worker.services, attempt=1)
    # Then nothing was called and nothing changed
    assert evolution.calls == [] and worker.row(integration.id)["status"] == "connected"


def test_a_delete_during_a_disconnect_removes_the_integration(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given a connected integration being disconnected, and a DELETE arriving meanwhile
    integration = integration_in(worker, caller, "connected")
    request_disconnect(caller, integration.id, worker.services)
    request_delete(caller, integration.id, worker.services)
    # When the disconnect message is carried out
    provision(message(integration, Operation.DISCONNECT), worker.services, attempt=1)
    # Then the integration is gone, and the DELETE has its own audit row besides the removal
    assert worker.row(integration.id, "deleted_at IS NOT NULL AS deleted") == {"deleted": True}
    actions = worker.audit_actions(integration.id)
    assert "integration.delete_requested" in actions and actions[-1] == "integration.deleted"


def test_another_worker_holding_the_lease_makes_it_wait(worker: Worker, caller: Caller) -> None:
    # Given another provisioner holds the integration's lease
    integration = integration_in(worker, caller, "connecting")
    worker.execute(
        "UPDATE integrations SET lease_owner = 'other', lease_expires_at = now() + interval '1 minute' WHERE id = :id",
        id=integration.id,
    )
    # When the message is carried out, then it is retried later and nothing changed
    with pytest.raises(TransientFailure):
        provision(message(integration, Operation.CONNECT), worker.services, attempt=1)
    assert worker.row(integration.id, "status, lease_owner") == {"status": "connecting", "lease_owner": "other"}


def test_a_worker_that_lost_its_lease_mid_run_changes_nothing(
    worker: Worker, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker whose lease is taken over by another worker while it talks to Evolution (it ran out)
    integration = integration_in(worker, caller, "connecting")
    create = EvolutionClient.create_instance

    def slow_create(self: EvolutionClient, **kwargs: Any) -> Any:
        worker.execute("UPDATE integrations SET lease_owner = 'successor' WHERE id = :id", id=integration.id)
        return create(self, **kwargs)

    monkeypatch.setattr(EvolutionClient, "create_instance", slow_create)
    # When it finishes its run
    provision(message(integration, Operation.CONNECT), worker.services, attempt=1)
    # Then it did not record its result: the successor's lease stands and the status is untouched
    assert worker.row(integration.id, "status, lease_owner") == {"status": "connecting", "lease_owner": "successor"}


def test_each_connect_rotates_the_webhook_secret_and_a_retry_keeps_it(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given an integration connected once
    integration = integration_in(worker, caller, "connecting")
    provision(message(integration, Operation.CONNECT, "connect-1"), worker.services, attempt=1)
    first = worker.row(integration.id, "webhook_secret_hash")["webhook_secret_hash"]
    # When the same request is delivered again, then the secret stays
    worker.execute("UPDATE integrations SET status = 'connecting' WHERE id = :id", id=integration.id)
    provision(message(integration, Operation.CONNECT, "connect-1"), worker.services, attempt=2)
    assert worker.row(integration.id, "webhook_secret_hash")["webhook_secret_hash"] == first
    # When a new connect request is carried out, then the secret is a new one, and Evolution holds it
    worker.execute("UPDATE integrations SET status = 'connecting' WHERE id = :id", id=integration.id)
    provision(message(integration, Operation.CONNECT, "connect-2"), worker.services, attempt=1)
    second = worker.row(integration.id, "webhook_secret_hash")["webhook_secret_hash"]
    assert second != first
    header = evolution.instances[instance_name_for(integration.id)]["webhook"]["headers"]["X-Webhook-Secret"]
    assert hashlib.sha256(header.encode()).hexdigest() == second


# ---------------------------------------------------------------------------------------------------- status sync


def connected_integration(worker: Worker, caller: Caller) -> Integration:
    integration = integration_in(worker, caller, "connecting")
    provision(message(integration, Operation.CONNECT), worker.services, attempt=1)
    return integration


def test_a_healthy_integration_is_only_stamped(worker: Worker, caller: Caller) -> None:
    # Given a connected integration checked once (the first check learns the number's health)
    integration = connected_integration(worker, caller)
    sync_integration_status(integration.tenant_id, integration.id, worker.services, correlation_id="sync-0")
    before = worker.row(integration.id, "version, last_checked_at")
    # When nothing changed on either side and it is checked again
    report = sync_integration_status(integration.tenant_id, integration.id, worker.services, correlation_id="sync-1")
    # Then only the time of the check moved: no change, no new version (the ETag GET shows stays)
    after = worker.row(integration.id, "version, last_checked_at, status")
    assert report.changes == [] and after["status"] == "connected"
    assert after["version"] == before["version"] and after["last_checked_at"] > before["last_checked_at"]


SYNC_CASES: list[tuple[str, Callable[[Worker, EvolutionSimulator, Integration], None], str, str | None, str]] = [
    (
        "a deleted instance is re-created",
        lambda worker, evolution, integration: evolution.delete_behind_our_back(instance_name_for(integration.id)),
        "connecting",
        "instance_removed_outside",
        "instance re-created",
    ),
    (
        "a drifted webhook config is repaired",
        lambda worker, evolution, integration: evolution.set_webhook_behind_our_back(
            instance_name_for(integration.id), {"enabled": True, "url": "https://x.example", "events": ["CALL"]}
        ),
        "connected",
        None,
        "webhook configuration",
    ),
    (
        "an expired token asks for a new one",
        lambda worker, evolution, integration: worker.graph.fail_next(401, 190, error_subcode=463),
        "reauth_required",
        "token_expired",
        "",
    ),
]


@pytest.mark.parametrize(("case", "arrange", "status", "code", "repaired"), SYNC_CASES, ids=[c[0] for c in SYNC_CASES])
def test_status_sync_outcomes(
    worker: Worker,
    caller: Caller,
    evolution: EvolutionSimulator,
    case: str,
    arrange: Callable[[Worker, EvolutionSimulator, Integration], None],
    status: str,
    code: str | None,
    repaired: str,
) -> None:
    # Given a connected integration and the drift of the case
    integration = connected_integration(worker, caller)
    worker.queued()
    arrange(worker, evolution, integration)
    # When it is checked
    report = sync_integration_status(integration.tenant_id, integration.id, worker.services, correlation_id="sync-2")
    # Then it settles as the case says, and says what it repaired
    assert worker.row(integration.id) == {"status": status, "code": code}
    assert report.repaired == ([repaired] if repaired else [])
    if status == "connecting":
        assert [body["operation"] for body in worker.queued()] == ["connect"]


def test_a_side_that_cannot_be_reached_changes_nothing(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator
) -> None:
    integration = connected_integration(worker, caller)
    before = worker.row(integration.id, "status, version")
    evolution.fail_next("/instance/fetchInstances", 503)
    with pytest.raises(TransientFailure):
        sync_integration_status(integration.tenant_id, integration.id, worker.services, correlation_id="sync-3")
    assert worker.row(integration.id, "status, version") == before


def test_a_check_whose_integration_changed_meanwhile_records_nothing(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a connected integration whose instance is gone, and a tenant who disconnects it during the check
    integration = connected_integration(worker, caller)
    evolution.delete_behind_our_back(instance_name_for(integration.id))
    fetch = EvolutionClient.fetch_instance

    def fetch_while_the_tenant_acts(self: EvolutionClient, name: str) -> Any:
        request_disconnect(caller, integration.id, worker.services)
        return fetch(self, name)

    monkeypatch.setattr(EvolutionClient, "fetch_instance", fetch_while_the_tenant_acts)
    # When the check ends
    sync_integration_status(integration.tenant_id, integration.id, worker.services, correlation_id="sync-4")
    # Then the tenant's disconnect stands: the check did not re-create the instance over it
    assert worker.row(integration.id)["status"] == "disconnecting"


# ---------------------------------------------------------------------------------------------------- webhook


def test_a_status_webhook_is_recorded_once_and_announced_once(worker: Worker, caller: Caller) -> None:
    integration = connected_integration(worker, caller)
    secret_hash = worker.row(integration.id, "webhook_secret_hash")["webhook_secret_hash"]
    assert secret_hash
    envelope = {"event": "messages.update", "instance": instance_name_for(integration.id)}
    webhook = parse_webhook(json.dumps({**envelope, "data": {"keyId": "wamid.D1", "status": "DELIVERED"}}))
    worker.execute("UPDATE integrations SET webhook_secret_hash = :h WHERE id = :id", h=_hash("s"), id=integration.id)
    origin = Origin("evolution", "request-9", "203.0.113.5")
    outcomes = [ingest_evolution_webhook(webhook, "s", worker.services, origin=origin).result for _ in range(2)]
    assert outcomes == ["recorded", "duplicate"]
    statuses = [detail for kind, detail in worker.published.events if kind == "MessageStatusChanged"]
    assert [(event["wamid"], event["status"], event["correlation_id"]) for event in statuses] == [
        ("wamid.D1", "DELIVERED", "request-9")
    ]
    assert worker.pending_outbox() == 0


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------- outbox


def test_a_crash_after_commit_loses_nothing_the_sweeper_sends_it(
    worker: Worker, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a connect whose dispatch after commit fails (as if the function died right after the commit)
    integration = integration_in(worker, caller)
    monkeypatch.setattr(worker.services.queue, "send", lambda message: (_ for _ in ()).throw(OSError("crash")))
    requested = request_connect(caller, integration.id, worker.services)
    assert requested.integration.status == "connecting" and worker.queued() == []
    monkeypatch.undo()
    # When the sweeper runs past the grace period
    worker.execute("UPDATE outbox SET created_at = now() - interval '1 minute'")
    report = sweep_outbox(worker.services)
    # Then the provisioning request is delivered, and nothing is left
    assert [body["operation"] for body in worker.queued()] == ["connect"]
    assert report.sent >= 1 and worker.pending_outbox() == 0


def test_events_wait_while_eventbridge_is_down_then_go_out_once_each(worker: Worker, caller: Caller) -> None:
    # Given EventBridge down during a connect request and its provisioning
    integration = integration_in(worker, caller)
    worker.published.down = True
    request_connect(caller, integration.id, worker.services)
    provision(ProvisioningMessage.from_payload(worker.queued()[0]), worker.services, attempt=1)
    assert worker.published.events == [] and worker.pending_outbox() == 2
    # When EventBridge is back and the sweeper runs (twice: the second finds nothing)
    worker.published.down = False
    worker.execute("UPDATE outbox SET created_at = now() - interval '1 minute'")
    sweep_outbox(worker.services)
    sweep_outbox(worker.services)
    # Then each event went out exactly once, in the order the changes happened
    assert [(detail["from"], detail["to"]) for _, detail in worker.published.events] == [
        ("validated", "connecting"),
        ("connecting", "connected"),
    ]


def test_a_failed_message_holds_back_the_later_ones_of_its_integration(worker: Worker, caller: Caller) -> None:
    # Given two messages of one integration waiting, the first of which cannot be sent now
    integration = integration_in(worker, caller)
    worker.published.down = True
    request_connect(caller, integration.id, worker.services)  # event 1 waits, the provisioning request went out
    request_disconnect(caller, integration.id, worker.services)  # behind it: its request and event 2 wait too
    assert [body["operation"] for body in worker.queued()] == ["connect"]
    # When the sweeper runs while EventBridge is still down
    worker.execute("UPDATE outbox SET created_at = now() - interval '1 minute'")
    sweep_outbox(worker.services)
    # Then nothing behind the stuck event overtook it
    assert worker.queued() == [] and worker.pending_outbox() == 3
    # And once EventBridge is back, all go out in order
    worker.published.down = False
    sweep_outbox(worker.services)
    assert [body["operation"] for body in worker.queued()] == ["disconnect"]
    assert [detail["to"] for _, detail in worker.published.events] == ["connecting", "disconnecting"]


def test_a_provisioning_message_delivered_twice_is_carried_out_once(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given a connect request whose message was delivered twice (the outbox is at least once)
    integration = integration_in(worker, caller)
    request_connect(caller, integration.id, worker.services)
    body = worker.queued()[0]
    # When both deliveries are carried out
    provision(ProvisioningMessage.from_payload(body), worker.services, attempt=1)
    provision(ProvisioningMessage.from_payload(body), worker.services, attempt=1)
    # Then one instance was created and the integration was connected once
    creates = [call for call in evolution.calls if call == ("POST", "/instance/create")]
    transitions = [detail["to"] for kind, detail in worker.published.events if kind == "IntegrationStatusChanged"]
    assert len(creates) == 1 and transitions == ["connecting", "connected"]


# ---------------------------------------------------------------------------------------------------- Meta relay


def meta_post(integration: Integration, wamid: str, status: str, **extra: Any) -> bytes:
    """A post of Meta's with one status, as Meta serialises it (the signature covers these very bytes)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100001", "phone_number_id": integration.phone_number_id},
        "contacts": [{"wa_id": "5511999990000", "profile": {"name": ""}}],
        "statuses": [
            {"id": wamid, "status": status, "timestamp": "1795921700", "recipient_id": "5511999990000", **extra}
        ],
    }
    post = {
        "object": "whatsapp_business_account",
        "entry": [{"id": integration.waba_id, "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(post, separators=(",", ":")).encode()


def receive(worker: Worker, integration: Integration, raw: bytes) -> list[RelayItem]:
    """Meta's post through the intake, signed with the integration's app secret; what it queued for the relay."""
    signature = "sha256=" + hmac.new(sim.DEMO_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    receive_meta_webhook(integration.id, raw, signature, worker.services, correlation_id="relay-1")
    sqs, items = boto3.client("sqs"), []
    queue_url = worker.services.settings.relay_queue_url
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for queued in messages:
            items.append(parse_relay_item(queued["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=queued["ReceiptHandle"])
    return items


def test_what_evolution_drops_is_recorded_once_on_arrival_and_the_relay_forwards_each_post(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given a connected integration, and Meta's failed status with its reason and pricing
    integration = connected_integration(worker, caller)
    failed = meta_post(
        integration,
        "wamid.F1",
        "failed",
        pricing={"billable": False, "pricing_model": "PMP", "type": "regular", "category": "utility"},
        errors=[{"code": 131047, "title": "Re-engagement message", "error_data": {"details": "24 hours passed"}}],
    )
    # When Meta delivers it twice (it retries), and the relay forwards what was queued
    items = receive(worker, integration, failed) + receive(worker, integration, failed)
    for item in items:
        relay_meta_webhook(item, worker.services)
    # Then the failure is recorded once, with Meta's details, announced once, and Evolution got each post
    record = worker.services.database.autocommit(
        lambda session: webhook_store.find_message(session, integration.tenant_id, integration.id, "wamid.F1")
    )
    assert record is not None and record.failed_at is not None and len(record.history) == 1
    assert record.failure is not None and (record.failure.code, record.failure.details) == (131047, "24 hours passed")
    assert record.pricing == {"billable": False, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    events = [detail for kind, detail in worker.published.events if kind == "MessageStatusChanged"]
    assert [(event["status"], event["error_code"], event["correlation_id"]) for event in events] == [
        ("FAILED", "outside_customer_service_window", "relay-1")
    ]
    assert len(items) == 2
    assert [call for call in evolution.calls if call[1] == "/webhook/meta"] == [("POST", "/webhook/meta")] * 2


def test_the_relay_retries_while_evolution_is_down(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given a delivered status recorded on arrival and queued
    integration = connected_integration(worker, caller)
    [item] = receive(worker, integration, meta_post(integration, "wamid.D", "delivered"))
    # When Evolution fails the first forward, Then it is a transient failure (SQS brings the post back)
    evolution.fail_next("/webhook/meta", 503)
    with pytest.raises(TransientFailure) as raised:
        relay_meta_webhook(item, worker.services)
    assert raised.value.error.code == "evolution_unavailable"
    # and the retry forwards it, while the status stays recorded once
    relay_meta_webhook(item, worker.services)
    record = worker.services.database.autocommit(
        lambda session: webhook_store.find_message(session, integration.tenant_id, integration.id, "wamid.D")
    )
    assert record is not None and [seen.status for seen in record.history] == ["DELIVERED"]
    assert [call for call in evolution.calls if call[1] == "/webhook/meta"] == [("POST", "/webhook/meta")] * 2


def test_a_post_of_many_statuses_sends_a_bounded_share_ten_to_a_call_and_the_sweeper_the_rest(
    worker: Worker, caller: Caller
) -> None:
    # Given a connected number, and Meta reporting 120 new statuses in one post
    integration = connected_integration(worker, caller)
    post = json.loads(meta_post(integration, "wamid.many.0", "delivered"))
    value = post["entry"][0]["changes"][0]["value"]
    value["statuses"] = [{**value["statuses"][0], "id": f"wamid.many.{n}"} for n in range(120)]
    published_before, calls_before = len(worker.published.events), worker.published.calls
    # When the post arrives
    receive(worker, integration, json.dumps(post, separators=(",", ":")).encode())
    # Then the request itself sent DISPATCH_LIMIT of their events, ten to a PutEvents call, and answered
    assert len(worker.published.events) - published_before == DISPATCH_LIMIT
    assert worker.published.calls - calls_before == DISPATCH_LIMIT // 10
    # And the sweeper sends the other 70, so each of the 120 went out once
    time.sleep(1.1)  # the worker's outbox_sweep_after_seconds
    sweep_outbox(worker.services)
    wamids = [detail.get("wamid", "") for _, detail in worker.published.events]
    wamids = [wamid for wamid in wamids if wamid.startswith("wamid.many.")]
    assert sorted(wamids) == sorted(f"wamid.many.{n}" for n in range(120))


def test_a_post_with_a_lone_surrogate_is_forwarded_escaped_not_retried_forever(
    worker: Worker, caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given a signed status carrying a lone surrogate, which Python's JSON reads and UTF-8 cannot encode
    integration = connected_integration(worker, caller)
    [item] = receive(worker, integration, meta_post(integration, "wamid.S", "delivered", note="\ud800"))
    # When the relay forwards it, Then Evolution takes it at the first attempt (sent as \u escapes)
    relay_meta_webhook(item, worker.services)
    assert [call for call in evolution.calls if call[1] == "/webhook/meta"] == [("POST", "/webhook/meta")]


def test_refresh_counts_only_the_calls_that_reach_meta(worker: Worker, caller: Caller) -> None:
    # Given a tenant allowed two calls to Meta a minute
    limited = limited_services(worker.services.settings)
    busy = integration_in(worker, caller, "connecting")
    validated = integration_in(worker, caller, phone=1)
    worker.execute("DELETE FROM rate_limit_windows WHERE tenant_id = :tenant", tenant=caller.tenant_id)
    # When "check now" is pressed five times on an integration the provisioner is working on (Meta is not asked)
    for _ in range(5):
        refresh_connection_status(caller, busy.id, limited)
    # Then nothing was counted: a validated integration can still be checked twice (Meta asked), not a third time
    refresh_connection_status(caller, validated.id, limited)
    refresh_connection_status(caller, validated.id, limited)
    with pytest.raises(RateLimited):
        refresh_connection_status(caller, validated.id, limited)
    limited.database.close()


def test_checks_never_use_up_the_calls_changes_need(worker: Worker, caller: Caller) -> None:
    # Given a tenant allowed two calls to Meta a minute, and a read-only user checking its number in a loop
    limited = limited_services(worker.services.settings)
    validated = integration_in(worker, caller, phone=1)
    worker.execute("DELETE FROM rate_limit_windows WHERE tenant_id = :tenant", tenant=caller.tenant_id)
    refresh_connection_status(caller, validated.id, limited)
    refresh_connection_status(caller, validated.id, limited)
    with pytest.raises(RateLimited):
        refresh_connection_status(caller, validated.id, limited)
    # When the tenant then changes something that asks Meta
    # Then it has its own two calls: a check of the credentials, then a repair
    credentials = MetaCredentials(sim.DEMO_PHONE_NUMBER_IDS[2], sim.DEMO_WABA_ID, sim.VALID_TOKEN)
    validate_credentials(caller, credentials, limited)
    repair_integration(caller, validated.id, limited)
    with pytest.raises(RateLimited):
        validate_credentials(caller, credentials, limited)
    limited.database.close()
