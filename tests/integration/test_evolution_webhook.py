"""The Evolution webhook function against PostgreSQL: authentication, idempotence, ordering, and secret hygiene."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import boto3
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local import graph_simulator as sim
from local.evolution_simulator import EvolutionSimulator
from local.gateway import LambdaContext, http_api_event
from tests.integration.conftest import EVOLUTION_KEY, load_function
from tests.integration.round_trips import RoundTrips, count_round_trips
from whatsapp_integrations.adapters import webhook_store
from whatsapp_integrations.adapters.webhook_targets import WebhookTargets
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials, token_hmac
from whatsapp_integrations.domain.message_status import MessageStatus
from whatsapp_integrations.observability import logger as app_logger
from whatsapp_integrations.services import Services, default_services
from whatsapp_integrations.usecases.create_integration import create_integration

SECRET = "per-integration-webhook-secret-0123456789abcdef"
HMAC_KEY = "server-side-hmac-key-for-tests"


@pytest.fixture
def webhook_function(
    services: Services,
    migrated: Any,
    lambda_environment: Callable[[dict[str, str]], None],
    evolution: EvolutionSimulator,
    evolution_key_secret_arn: str,
) -> ModuleType:
    secret_arn = boto3.client("secretsmanager").create_secret(Name=f"hmac-{uuid4()}", SecretString=HMAC_KEY)["ARN"]
    bus = f"bus-{uuid4().hex[:8]}"
    boto3.client("events").create_event_bus(Name=bus)
    lambda_environment(
        {
            "DATABASE_URL": migrated.database_url,
            "KMS_KEY_ID": migrated.kms_key_id,
            "GRAPH_API_BASE_URL": str(migrated.graph_api_base_url),
            "WEBHOOK_HMAC_KEY_SECRET_ARN": secret_arn,
            "EVENT_BUS_NAME": bus,
            "EVOLUTION_BASE_URL": evolution.base_url,
            "EVOLUTION_API_KEY_SECRET_ARN": evolution_key_secret_arn,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return load_function("evolution_webhook", f"integration_webhook_{uuid4().hex}")


@pytest.fixture
def connected(services: Services, caller: Caller, evolution: EvolutionSimulator) -> UUID:
    """A connected integration whose Evolution instance we own (as the provisioner leaves it)."""
    integration = create_integration(
        caller, "Main", MetaCredentials(sim.DEMO_PHONE_NUMBER_IDS[0], sim.DEMO_WABA_ID, sim.VALID_TOKEN), services
    )
    evolution.reset()
    created = httpx.post(
        f"{evolution.base_url}/instance/create",
        headers={"apikey": EVOLUTION_KEY},
        json={
            "instanceName": f"wa-{integration.id}",
            "integration": "WHATSAPP-BUSINESS",
            "token": sim.VALID_TOKEN,
            "number": sim.DEMO_PHONE_NUMBER_IDS[0],
            "businessId": sim.DEMO_WABA_ID,
        },
    )
    assert created.status_code == 201, created.text
    services.database.in_transaction(
        lambda session: session.execute(
            "UPDATE integrations SET status = 'connected', evolution_instance_name = :name, "
            "webhook_secret_hash = :hash, token_hmac = :token_hmac WHERE id = :id",
            name=f"wa-{integration.id}",
            hash=hashlib.sha256(SECRET.encode()).hexdigest(),
            token_hmac=token_hmac(HMAC_KEY.encode(), sim.VALID_TOKEN),
            id=integration.id,
        )
    )
    return integration.id


def post(
    function: ModuleType,
    envelope: Any,
    *,
    secret: str | None = SECRET,
    raw: bytes | None = None,
    path: str = "/webhooks/evolution",
    source_ip: str = "127.0.0.1",
) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-webhook-secret"] = secret
    body = raw if raw is not None else json.dumps(envelope).encode()
    route = "POST /webhooks/evolution/{event}" if path.count("/") > 2 else "POST /webhooks/evolution"
    event = http_api_event(route, "POST", path, headers=headers, body=body, source_ip=source_ip)
    result = function.lambda_handler(event, LambdaContext("webhook", event["requestContext"]["requestId"]))
    return result["statusCode"], json.loads(result["body"])


def envelope(integration_id: UUID, event: str, data: Any, apikey: str | None = sim.VALID_TOKEN) -> dict[str, Any]:
    return {
        "event": event,
        "instance": f"wa-{integration_id}",
        "data": data,
        "destination": "http://x",
        "date_time": "2026-11-29T03:07:49.361Z",
        "server_url": "http://evolution",
        "apikey": apikey,
    }


def status(integration_id: UUID, wamid: str, value: str) -> dict[str, Any]:
    return envelope(
        integration_id,
        "messages.update",
        {
            "messageId": "cm1",
            "keyId": wamid,
            "status": value,
            "remoteJid": "5511999990000@s.whatsapp.net",
            "fromMe": False,
        },
    )


def database_text(services: Services) -> str:
    """Every row of every table, as text."""
    tables = services.database.in_transaction(
        lambda session: session.fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    )
    rows = []
    for table in (row["table_name"] for row in tables):
        rows += services.database.in_transaction(
            lambda session, t=table: session.fetch(f'SELECT t::text AS r FROM "{t}" t')
        )
    return " ".join(row["r"] for row in rows)


def message(services: Services, caller: Caller, integration_id: UUID, wamid: str) -> webhook_store.MessageRecord:
    found = services.database.in_transaction(
        lambda session: webhook_store.find_message(session, caller.tenant_id, integration_id, wamid)
    )
    assert found is not None
    return found


def test_out_of_order_and_duplicated_statuses_end_in_the_right_state(
    webhook_function: ModuleType, connected: UUID, services: Services, caller: Caller
) -> None:
    # Given a sent message, then its statuses out of order and duplicated, in both vocabularies
    assert (
        post(
            webhook_function,
            envelope(
                connected,
                "send.message",
                {
                    "key": {"fromMe": True, "id": "wamid.A", "remoteJid": "5511999990000@s.whatsapp.net"},
                    "messageTimestamp": 1795921652,
                    "status": "PENDING",
                },
            ),
        )[0]
        == 200
    )
    answers = [
        post(webhook_function, status(connected, "wamid.A", value))[1]["result"]
        for value in ("READ", "SERVER_ACK", "SENT", "DELIVERY_ACK", "READ", "DELIVERED")
    ]
    # Then duplicates change nothing, progress never moves back, and every status seen is in the history
    assert answers == ["recorded", "recorded", "duplicate", "recorded", "duplicate", "duplicate"]
    record = message(services, caller, connected, "wamid.A")
    assert record.progress == "READ" and record.failed_at is None
    assert record.recipient == "5511999990000" and record.sent_at is not None
    assert sorted(seen.status for seen in record.history) == ["DELIVERED", "READ", "SENT"]


def test_a_failure_is_kept_when_a_delivery_report_follows(
    webhook_function: ModuleType, connected: UUID, services: Services, caller: Caller
) -> None:
    for value in ("SENT", "DELIVERED", "FAILED", "READ"):
        post(webhook_function, status(connected, "wamid.F", value))
    record = message(services, caller, connected, "wamid.F")
    assert record.failed_at is not None and record.progress == "READ"
    assert [seen.status for seen in record.history].count("FAILED") == 1


def test_a_status_before_its_send_message_still_joins(
    webhook_function: ModuleType, connected: UUID, services: Services, caller: Caller
) -> None:
    post(webhook_function, status(connected, "wamid.B", "DELIVERED"))
    post(
        webhook_function,
        envelope(
            connected,
            "send.message",
            {"key": {"id": "wamid.B", "remoteJid": "5511988887777@s.whatsapp.net"}, "messageTimestamp": 1795921600},
        ),
    )
    record = message(services, caller, connected, "wamid.B")
    assert (record.progress, record.recipient) == ("DELIVERED", "5511988887777")


def test_an_inbound_message_records_when_the_contact_wrote_and_no_body(
    webhook_function: ModuleType, connected: UUID, services: Services
) -> None:
    post(
        webhook_function,
        envelope(
            connected,
            "messages.upsert",
            {
                "key": {"id": "wamid.IN", "remoteJid": "5511977776666@s.whatsapp.net", "fromMe": False},
                "message": {"conversation": "a private text"},
                "messageTimestamp": 1795921800,
            },
        ),
    )
    rows = services.database.in_transaction(
        lambda session: session.fetch(
            "SELECT contact, last_inbound_at FROM contact_activity WHERE integration_id = :id", id=connected
        )
    )
    assert [row["contact"] for row in rows] == ["5511977776666"]
    assert "a private text" not in database_text(services)


@pytest.mark.parametrize(
    ("secret", "apikey", "expected"),
    [
        (SECRET, None, 200),  # instance webhook: the header
        (None, sim.VALID_TOKEN, 200),  # global webhook: no headers, the token in apikey
        ("wrong-secret", None, 401),
        (None, None, 401),
        (None, "EAADEMOVALIDTOKEN0000000000000000000000000001", 401),
        (None, "…0000 (sha256:706c4b0c)", 401),  # the display fingerprint proves nothing
    ],
)
def test_authentication(
    webhook_function: ModuleType, connected: UUID, secret: str | None, apikey: str | None, expected: int
) -> None:
    code, body = post(
        webhook_function,
        envelope(connected, "messages.update", {"keyId": "wamid.Z", "status": "SENT"}, apikey),
        secret=secret,
    )
    assert code == expected, body
    if expected == 401:
        assert body["code"] == "webhook_unauthenticated"


def test_unknown_deleted_or_foreign_instances_get_200_and_are_dropped(
    webhook_function: ModuleType, connected: UUID, services: Services
) -> None:
    for instance in (f"wa-{uuid4()}", "someone-else", "wa-not-a-uuid"):
        code, body = post(webhook_function, {**status(connected, "wamid.U", "SENT"), "instance": instance})
        assert (code, body["result"]) == (200, "ignored")
    count = services.database.in_transaction(
        lambda session: session.fetch_one("SELECT count(*) AS n FROM whatsapp_message_statuses WHERE wamid = 'wamid.U'")
    )
    assert count["n"] == 0


def test_unknown_events_get_200(webhook_function: ModuleType, connected: UUID) -> None:
    code, body = post(webhook_function, envelope(connected, "contacts.update", {"pushName": "Ana"}))
    assert (code, body["result"]) == (200, "ignored")


def test_the_by_events_path_form_is_accepted(
    webhook_function: ModuleType, connected: UUID, services: Services, caller: Caller
) -> None:
    body = status(connected, "wamid.P", "SENT")
    del body["event"]
    assert post(webhook_function, body, path="/webhooks/evolution/messages-update")[0] == 200
    assert message(services, caller, connected, "wamid.P").progress == "SENT"


def test_a_removal_claim_changes_nothing_while_the_instance_exists(
    webhook_function: ModuleType, connected: UUID, services: Services
) -> None:
    # Given a connected integration whose instance Evolution still has
    # When a correctly signed (or replayed) instance.delete and remove.instance arrive
    answers = [
        post(webhook_function, envelope(connected, event, {"instanceName": f"wa-{connected}"}))
        for event in ("instance.delete", "remove.instance")
    ]
    # Then both are ignored after asking Evolution, and the integration stays connected with no audit row
    assert [(code, body["result"], body["reason"]) for code, body in answers] == [
        (200, "ignored", "the instance still exists")
    ] * 2
    row = services.database.in_transaction(
        lambda session: session.fetch_one(
            "SELECT status, (SELECT count(*) FROM audit_events a WHERE a.integration_id = i.id "
            "AND action = 'integration.instance_removed_outside') AS audited FROM integrations i WHERE id = :id",
            id=connected,
        )
    )
    assert (row["status"], row["audited"]) == ("connected", 0)


def test_a_removal_claim_waits_when_evolution_cannot_confirm_it(
    webhook_function: ModuleType, connected: UUID, services: Services, evolution: EvolutionSimulator
) -> None:
    # Given Evolution answering 503 to the question
    evolution.fail_next("/instance/fetchInstances", 503)
    # When the claim arrives
    code, body = post(webhook_function, envelope(connected, "instance.delete", {"instanceName": f"wa-{connected}"}))
    # Then it answers 503 (Evolution delivers it again) and nothing changed
    assert (code, body["code"]) == (503, "evolution_unconfirmed")
    row = services.database.in_transaction(
        lambda session: session.fetch_one("SELECT status FROM integrations WHERE id = :id", id=connected)
    )
    assert row["status"] == "connected"


def test_an_instance_deleted_behind_our_back_marks_the_integration(
    webhook_function: ModuleType, connected: UUID, services: Services, caller: Caller, evolution: EvolutionSimulator
) -> None:
    # Given the instance really was deleted in Evolution
    evolution.delete_behind_our_back(f"wa-{connected}")
    # When its instance.delete arrives (from source 198.51.100.7), then its remove.instance
    code, body = post(
        webhook_function, envelope(connected, "instance.delete", {"instanceName": "x"}), source_ip="198.51.100.7"
    )
    assert (code, body["result"]) == (200, "recorded")
    assert post(webhook_function, envelope(connected, "remove.instance", None))[1]["result"] == "ignored"
    row = services.database.in_transaction(
        lambda session: session.fetch_one(
            "SELECT status, last_error->>'code' AS code FROM integrations WHERE id = :id", id=connected
        )
    )
    assert (row["status"], row["code"]) == ("error", "instance_removed_outside")
    actions = services.database.in_transaction(
        lambda session: session.fetch(
            "SELECT action FROM audit_events WHERE integration_id = :id ORDER BY id", id=connected
        )
    )
    assert actions[-1]["action"] == "integration.instance_removed_outside"
    # And the transition's audit row says where the claim came from
    audited = services.database.in_transaction(
        lambda session: session.fetch_one(
            "SELECT actor, request_id, source_ip FROM audit_events WHERE integration_id = :id ORDER BY id DESC LIMIT 1",
            id=connected,
        )
    )
    assert audited["actor"] == "system:evolution-webhook" and audited["request_id"]
    assert audited["source_ip"] == "198.51.100.7"


def test_the_token_in_apikey_reaches_no_table_and_no_log_line(
    webhook_function: ModuleType, connected: UUID, services: Services
) -> None:
    # Given webhooks that all carry the token in apikey, including refused and malformed ones
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(app_logger.registered_formatter)
    app_logger.addHandler(handler)
    try:
        post(webhook_function, status(connected, "wamid.T", "SENT"))
        post(webhook_function, status(connected, "wamid.T", "SENT"), secret="wrong")
        post(webhook_function, None, raw=b'{"apikey": "' + sim.VALID_TOKEN.encode() + b'", "event": ')
        post(webhook_function, envelope(connected, "instance.delete", {}))
    finally:
        app_logger.removeHandler(handler)
    # Then no table holds it, in any form, and no log line shows it
    text = database_text(services)
    for form in (sim.VALID_TOKEN, sim.VALID_TOKEN.encode().hex(), base64.b64encode(sim.VALID_TOKEN.encode()).decode()):
        assert form not in text
    assert stream.getvalue() and sim.VALID_TOKEN not in stream.getvalue()


def test_status_changes_are_published_once(webhook_function: ModuleType, connected: UUID) -> None:
    published: list[dict[str, Any]] = []
    services = default_services()
    assert services.domain_events is not None
    original = services.domain_events.publish_many

    def publish_many(batch: list[tuple[str, dict[str, Any]]]) -> list[str | None]:
        published.extend({"type": detail_type, **detail} for detail_type, detail in batch)
        return original(batch)

    services.domain_events.publish_many = publish_many  # type: ignore[method-assign]
    for value in ("SENT", "SENT", "DELIVERED", "SENT"):
        post(webhook_function, status(connected, "wamid.E", value))
    assert [(event["type"], event["reported"]) for event in published] == [
        ("MessageStatusChanged", "SENT"),
        ("MessageStatusChanged", "DELIVERED"),
    ]


hostile = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "event",
                    "instance",
                    "data",
                    "apikey",
                    "key",
                    "id",
                    "keyId",
                    "status",
                    "remoteJid",
                    "messageTimestamp",
                    "fromMe",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=15,
)


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=hostile,
    event=st.sampled_from(
        ["messages.update", "send.message", "messages.upsert", "instance.delete", "remove.instance", "x.y", ""]
    ),
    raw=st.binary(max_size=300),
)
def test_hostile_payloads_never_get_a_500(
    webhook_function: ModuleType, connected: UUID, data: Any, event: str, raw: bytes
) -> None:
    for body in (envelope(connected, event, data), data):
        code, answer = post(webhook_function, body)
        assert code in (200, 400, 401), answer
    assert post(webhook_function, None, raw=raw)[0] in (200, 400, 401)


@pytest.mark.parametrize(
    "data",
    [
        {"keyId": "w" * 257, "status": "DELIVERED"},
        {"keyId": "wamid.\x00x", "status": "DELIVERED"},
        {"keyId": ["wamid.A"], "status": "DELIVERED"},
        {"keyId": {"id": "wamid.A"}, "status": "DELIVERED"},
        {"keyId": 12345, "status": "DELIVERED"},
        {"keyId": "wamid.A", "status": ["READ"]},
        {"key": {"id": "x" * 300}, "status": "READ"},
    ],
    ids=[
        "wamid too long",
        "wamid with NUL",
        "keyId list",
        "keyId object",
        "keyId number",
        "status list",
        "key.id long",
    ],
)
def test_a_malformed_field_of_one_event_ignores_that_event_with_200(
    webhook_function: ModuleType, connected: UUID, services: Services, data: dict[str, Any]
) -> None:
    # Given a status event whose message id or status is unusable
    # When it arrives, then it is answered 200 (Evolution must not retry it for 25 minutes) and nothing is stored
    code, body = post(webhook_function, envelope(connected, "messages.update", data))
    assert (code, body["result"]) == (200, "ignored")
    stored = services.database.autocommit(
        lambda session: session.fetch_one(
            "SELECT count(*) AS n FROM whatsapp_message_statuses WHERE integration_id = :id", id=connected
        )
    )
    assert stored is not None and stored["n"] == 0


# ---------------------------------------------------------------- the hot path: round trips and the kept target


def warm(function: ModuleType, connected: UUID) -> RoundTrips:
    """Count the function's round trips from its first request on, and send that request (it prepares the
    statements and keeps the target)."""
    round_trips = count_round_trips(default_services())
    assert post(function, status(connected, "wamid.WARM", "SENT"))[1]["result"] == "recorded"
    return round_trips


def test_a_status_takes_one_round_trip_and_two_when_it_publishes(webhook_function: ModuleType, connected: UUID) -> None:
    # Given a warm function (the event bus is configured, so a visible change is published)
    round_trips = warm(webhook_function, connected)
    # When a new status arrives, then the same again
    (_, fresh), new_trips = round_trips.of(lambda: post(webhook_function, status(connected, "wamid.WARM", "READ")))
    (_, again), duplicate_trips = round_trips.of(
        lambda: post(webhook_function, status(connected, "wamid.WARM", "READ"))
    )
    # Then the new one is one statement plus the outbox delete after publishing, the duplicate one statement
    assert (fresh["result"], new_trips) == ("recorded", 2)
    assert (again["result"], duplicate_trips) == ("duplicate", 1)


def test_a_wrong_secret_is_refused_while_the_target_is_kept(webhook_function: ModuleType, connected: UUID) -> None:
    # Given a warm function that keeps the integration's target
    round_trips = warm(webhook_function, connected)
    # When a webhook carries a wrong secret and no apikey
    (code, body), trips = round_trips.of(
        lambda: post(
            webhook_function,
            envelope(connected, "messages.update", {"keyId": "wamid.X", "status": "SENT"}, apikey=None),
            secret="not-the-secret",
        )
    )
    # Then it is refused, after checking once more against the database
    assert (code, body["code"], trips) == (401, "webhook_unauthenticated", 1)
    # And the right secret still gets through
    assert post(webhook_function, status(connected, "wamid.X", "SENT"))[1]["result"] == "recorded"


def test_a_new_secret_is_accepted_at_once_while_the_old_target_is_kept(
    webhook_function: ModuleType, connected: UUID, services: Services
) -> None:
    # Given a warm function that keeps the target with the current secret
    warm(webhook_function, connected)
    # When a reconnect rotates the secret
    services.database.autocommit(
        lambda session: session.execute(
            "UPDATE integrations SET webhook_secret_hash = :hash WHERE id = :id",
            hash=hashlib.sha256(b"rotated-secret").hexdigest(),
            id=connected,
        )
    )
    without_apikey = envelope(connected, "messages.update", {"keyId": "wamid.R", "status": "SENT"}, apikey=None)
    # Then the new secret is accepted right away and the old one is refused
    assert post(webhook_function, without_apikey, secret="rotated-secret")[0] == 200
    assert post(webhook_function, without_apikey, secret=SECRET)[0] == 401


def test_a_kept_target_is_read_again_once_it_expires(connected: UUID, services: Services) -> None:
    # Given targets kept for 15 s on a clock the test moves, and the integration's target kept
    now = [1000.0]
    targets = WebhookTargets(services.database, ttl_seconds=15, clock=lambda: now[0])
    assert targets.find(connected) is not None
    # When the integration is deleted
    services.database.autocommit(
        lambda session: session.execute("UPDATE integrations SET deleted_at = now() WHERE id = :id", id=connected)
    )
    # Then the kept target serves until it expires, and a fresh read after that finds nothing
    now[0] += 14.9
    assert targets.find(connected) is not None
    now[0] += 0.2
    assert targets.find(connected) is None


def test_an_array_of_statuses_is_written_in_one_statement(
    webhook_function: ModuleType, connected: UUID, services: Services, caller: Caller
) -> None:
    # Given a warm function that has already written an array (its statement is prepared)
    round_trips = warm(webhook_function, connected)
    warm_array = [{"keyId": "wamid.WARM", "status": "DELIVERED"}, {"keyId": "wamid.WARM", "status": "READ"}]
    assert post(webhook_function, envelope(connected, "messages.update", warm_array))[1]["result"] == "recorded"
    # When one webhook carries several statuses, one of them malformed and one a repeat
    updates = [
        {"keyId": "wamid.B", "status": "SENT"},
        {"keyId": "wamid.B", "status": "DELIVERED"},
        {"key": {"id": "wamid.C"}, "status": "READ"},
        {"status": "READ"},
        {"keyId": "wamid.B", "status": "SENT"},
    ]
    (code, body), trips = round_trips.of(
        lambda: post(webhook_function, envelope(connected, "messages.update", updates))
    )
    # Then they are recorded with one statement (and one outbox delete after publishing their events)
    assert (code, body["result"], trips) == (200, "recorded", 2)
    first, second = message(services, caller, connected, "wamid.B"), message(services, caller, connected, "wamid.C")
    assert first.progress == "DELIVERED" and sorted(seen.status for seen in first.history) == ["DELIVERED", "SENT"]
    assert second.progress == "READ"


def test_an_array_of_nothing_usable_is_ignored(webhook_function: ModuleType, connected: UUID) -> None:
    code, body = post(webhook_function, envelope(connected, "messages.update", [{"status": "READ"}, 7, None]))
    assert (code, body["result"]) == (200, "ignored")


def new_integration(services: Services, tenant_id: str) -> UUID:
    integration_id = uuid4()
    services.database.autocommit(
        lambda session: session.execute(
            """INSERT INTO integrations (id, tenant_id, name, phone_number_id, waba_id, access_token_ciphertext,
                   kms_key_id, token_fingerprint, status)
               VALUES (:id, :tenant_id, 'Array', :phone, '200000000000001', '\\x00', 'k', 'f', 'connected')""",
            id=integration_id,
            tenant_id=tenant_id,
            phone=str(800_000_000_000_000 + uuid4().int % 10**12),
        )
    )
    return integration_id


def outcome(services: Services, integration_id: UUID) -> tuple[Any, ...]:
    """Everything recording statuses leaves behind for one integration."""
    return services.database.autocommit(
        lambda session: (
            session.fetch(
                "SELECT wamid, progress, progress_rank, failed_at IS NOT NULL AS failed FROM whatsapp_messages "
                "WHERE integration_id = :id ORDER BY wamid",
                id=integration_id,
            ),
            session.fetch(
                "SELECT wamid, status FROM whatsapp_message_statuses WHERE integration_id = :id ORDER BY wamid, status",
                id=integration_id,
            ),
            [
                row["detail"]
                for row in session.fetch(
                    "SELECT payload->'detail' AS detail FROM outbox WHERE integration_id = :id ORDER BY id",
                    id=integration_id,
                )
            ],
        )
    )


a_report = st.tuples(st.sampled_from(["wamid.1", "wamid.2"]), st.sampled_from(list(MessageStatus)))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(earlier=st.lists(a_report, max_size=3), batch=st.lists(a_report, min_size=1, max_size=6))
def test_an_array_ends_exactly_as_its_statuses_one_by_one(
    services: Services, caller: Caller, earlier: list[tuple[str, MessageStatus]], batch: list[tuple[str, MessageStatus]]
) -> None:
    # Given two integrations with the same statuses already recorded
    one_statement, one_by_one = new_integration(services, caller.tenant_id), new_integration(services, caller.tenant_id)

    def record(integration_id: UUID, pairs: list[tuple[str, MessageStatus]]) -> webhook_store.RecordedStatuses:
        return services.database.autocommit(
            lambda session: webhook_store.record_statuses(
                session,
                integration_id,
                caller.tenant_id,
                [webhook_store.StatusReport(w, s, event={"wamid": w, "reported": s.value}) for w, s in pairs],
                source="evolution",
            )
        )

    for pair in earlier:
        record(one_statement, [pair])
        record(one_by_one, [pair])
    # When the same statuses arrive as one array for the first and one at a time for the second
    together = record(one_statement, batch)
    apart = [record(one_by_one, [pair]) for pair in batch]
    # Then messages, history, events and counts are the same
    assert outcome(services, one_statement) == outcome(services, one_by_one)
    assert (together.new, together.visible) == (sum(r.new for r in apart), sum(r.visible for r in apart))
    assert [entry.message.payload for entry in together.events] == [
        entry.message.payload for result in apart for entry in result.events
    ]
    # (the events stay unsent: take them out of the outbox that later tests count)
    services.database.autocommit(
        lambda session: session.execute(
            "DELETE FROM outbox WHERE integration_id = ANY(CAST(:ids AS uuid[]))",
            ids=[str(one_statement), str(one_by_one)],
        )
    )
