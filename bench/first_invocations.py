"""What each function's first invocation does in the cold-start bench: the event Lambda would hand it for its usual
work, the answer that proves the work was done, and what puts the state back afterwards (untimed).

Every invocation runs against real local services (bench/backends.py): PostgreSQL, moto for SQS, KMS, Secrets
Manager and EventBridge, and the Graph and Evolution simulators, on the integrations of bench/integrations.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.events import RECIPIENT, Event, api, meta_post, scheduled_event, signed_meta_webhook, sqs_event
from bench.integrations import (
    APP_SECRET,
    CONNECTED_PHONE,
    CREATED_PHONE,
    PROVISIONED_PHONE,
    READ_WAMID,
    TENANT,
    WEBHOOK_SECRET,
    State,
)
from local.gateway import http_api_event
from local.graph_simulator import DEMO_WABA_ID, VALID_TOKEN
from whatsapp_integrations.domain.provisioning import Operation, ProvisioningMessage

Kind = Literal["http", "queue", "scheduled", "deploy"]

PATH = "/integrations/whatsapp"


@dataclass(frozen=True)
class FirstInvocation:
    function: str
    kind: Kind
    does: str  # what the invocation does, for the report
    event: Callable[[], Event]  # built before each run, untimed
    done: Callable[[Any], bool]  # the answer of a run that did the work
    after: Callable[[], None] = lambda: None  # state put back after each run, untimed
    environment: dict[str, str] = field(default_factory=dict)  # beyond the template's


def answered(*codes: int) -> Callable[[Any], bool]:
    return lambda answer: isinstance(answer, dict) and bool(answer.get("statusCode") in codes)


def no_batch_failures(answer: Any) -> bool:
    return bool(answer == {"batchItemFailures": []})


def first_invocations(state: State) -> list[FirstInvocation]:
    validated, connected = str(state.validated), str(state.connected)
    one, status = f"{PATH}/{{integration_id}}", f"{PATH}/{{integration_id}}/status"
    credentials = {"phone_number_id": CREATED_PHONE, "waba_id": DEMO_WABA_ID, "access_token": VALID_TOKEN}

    def provisioning_event() -> Event:
        message = ProvisioningMessage(TENANT, state.connecting(), Operation.CONNECT, "bench")
        return sqs_event(message.to_payload())

    def evolution_status() -> Event:
        body = {
            "event": "messages.update",
            "instance": f"wa-{connected}",
            "data": {"keyId": next(state.wamids), "status": "SENT"},
        }
        headers = {"content-type": "application/json", "x-webhook-secret": WEBHOOK_SECRET}
        return http_api_event(
            "POST /webhooks/evolution", "POST", "/webhooks/evolution", headers=headers, body=json.dumps(body).encode()
        )

    def meta_webhook() -> Event:
        raw = meta_post(CONNECTED_PHONE, next(state.wamids))
        return signed_meta_webhook(connected, raw, APP_SECRET)

    def relayed() -> Event:
        post = json.loads(meta_post(CONNECTED_PHONE, next(state.wamids)))
        return sqs_event({"integration_id": connected, "tenant_id": TENANT, "post": post, "correlation_id": "bench"})

    return [
        FirstInvocation(
            "get_integration",
            "http",
            "GET one integration",
            lambda: api("GET", one, f"{PATH}/{validated}", integration_id=validated),
            answered(200),
        ),
        FirstInvocation(
            "list_integrations", "http", "GET a page of integrations", lambda: api("GET", PATH, PATH), answered(200)
        ),
        FirstInvocation(
            "get_integration_status",
            "http",
            "GET the connection status with its history",
            lambda: api("GET", status, f"{PATH}/{validated}/status", integration_id=validated),
            answered(200),
        ),
        FirstInvocation(
            "get_message_status",
            "http",
            "GET one message's status",
            lambda: api(
                "GET",
                f"{one}/messages/{{wamid}}",
                f"{PATH}/{validated}/messages/{READ_WAMID}",
                integration_id=validated,
                wamid=READ_WAMID,
            ),
            answered(200),
        ),
        FirstInvocation(
            "list_audit_events",
            "http",
            "GET an integration's audit trail",
            lambda: api("GET", f"{one}/audit", f"{PATH}/{validated}/audit", integration_id=validated),
            answered(200),
        ),
        FirstInvocation(
            "create_integration",
            "http",
            "POST create: Graph checks, KMS encrypt, outbox event to EventBridge",
            lambda: api("POST", PATH, PATH, {"name": "Created", **credentials}),
            answered(201),
            after=lambda: state.forget_phone(CREATED_PHONE),
        ),
        FirstInvocation(
            "validate_credentials",
            "http",
            "POST validate: Graph checks",
            lambda: api("POST", f"{PATH}/validate", f"{PATH}/validate", credentials),
            answered(200),
        ),
        FirstInvocation(
            "update_integration",
            "http",
            "PUT rename with If-Match",
            lambda: api(
                "PUT",
                one,
                f"{PATH}/{validated}",
                {"name": "Renamed"},
                {"if-match": f'"{state.version(state.validated)}"'},
                integration_id=validated,
            ),
            answered(200),
        ),
        FirstInvocation(
            "delete_integration",
            "http",
            "DELETE a validated integration",
            lambda: api("DELETE", one, f"{PATH}/{validated}", integration_id=validated),
            answered(204),
            after=lambda: state.set_status(state.validated, "validated"),
        ),
        FirstInvocation(
            "connect_integration",
            "http",
            "POST connect: transition, outbox to SQS and EventBridge",
            lambda: api("POST", f"{one}/connect", f"{PATH}/{validated}/connect", integration_id=validated),
            answered(202),
            after=lambda: state.set_status(state.validated, "validated"),
        ),
        FirstInvocation(
            "disconnect_integration",
            "http",
            "POST disconnect: transition, outbox to SQS and EventBridge",
            lambda: api("POST", f"{one}/disconnect", f"{PATH}/{connected}/disconnect", integration_id=connected),
            answered(202),
            after=lambda: state.set_status(state.connected, "connected"),
        ),
        FirstInvocation(
            "refresh_integration_status",
            "http",
            "POST status refresh: KMS decrypt, Evolution and Graph checks",
            lambda: api("POST", f"{status}/refresh", f"{PATH}/{connected}/status/refresh", integration_id=connected),
            answered(200),
        ),
        FirstInvocation(
            "send_test_message",
            "http",
            "POST a template test message through Evolution",
            lambda: api(
                "POST",
                f"{one}/test-message",
                f"{PATH}/{connected}/test-message",
                {"to": RECIPIENT, "template": {"name": "hello_world", "language": "en_US"}},
                integration_id=connected,
            ),
            answered(202),
            environment={"TEST_MESSAGES_PER_HOUR": "1000"},
        ),
        FirstInvocation(
            "diagnose_integration",
            "http",
            "GET diagnostics: every check, dead-letter queues included",
            lambda: api("GET", f"{one}/diagnostics", f"{PATH}/{connected}/diagnostics", integration_id=connected),
            answered(200),
        ),
        FirstInvocation(
            "repair_integration",
            "http",
            "POST diagnostics repair (nothing broken)",
            lambda: api(
                "POST", f"{one}/diagnostics/repair", f"{PATH}/{connected}/diagnostics/repair", integration_id=connected
            ),
            answered(200),
        ),
        FirstInvocation(
            "evolution_webhook",
            "http",
            "POST an Evolution status (new), published to EventBridge",
            evolution_status,
            lambda answer: answered(200)(answer) and '"recorded"' in answer["body"],
        ),
        FirstInvocation(
            "meta_webhook",
            "http",
            "POST a signed Meta status: KMS decrypt of the app secret, SQS send",
            meta_webhook,
            lambda answer: answered(200)(answer) and json.loads(answer["body"])["queued"] == 1,
        ),
        FirstInvocation(
            "provisioner",
            "queue",
            "a connect: Secrets Manager, KMS, Evolution and Graph calls",
            provisioning_event,
            no_batch_failures,
            after=lambda: state.forget_phone(PROVISIONED_PHONE),
        ),
        FirstInvocation(
            "status_sync",
            "queue",
            "one status check: KMS decrypt, Evolution and Graph calls",
            lambda: sqs_event({"tenant_id": TENANT, "integration_id": connected, "correlation_id": "bench"}),
            no_batch_failures,
        ),
        FirstInvocation(
            "meta_relay",
            "queue",
            "one relayed Meta post: status recorded, forwarded to Evolution",
            relayed,
            no_batch_failures,
        ),
        FirstInvocation(
            "status_scheduler",
            "scheduled",
            "the fan-out: one SendMessageBatch",
            scheduled_event,
            lambda answer: isinstance(answer, dict) and answer.get("queued", 0) >= 1,
        ),
        FirstInvocation(
            "outbox_sweeper",
            "scheduled",
            "a sweep that finds nothing due",
            scheduled_event,
            lambda answer: isinstance(answer, dict) and answer.get("swept") is True,
        ),
        FirstInvocation(
            "migrate_database",
            "deploy",
            "migrations, all applied already",
            lambda: {},
            lambda answer: answer == {"applied": []},
            environment={"DATABASE_URL": state.backends.owner_url},
        ),
    ]
