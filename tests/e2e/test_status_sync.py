"""Status sync end to end: break things in the simulators and watch the next check find each one, repair what can
be repaired and report what cannot; with a side down, nothing changes to a wrong value."""

from __future__ import annotations

import time
from typing import Any

import httpx

from local.stack import LocalStack
from tests.e2e.conftest import Api
from tests.e2e.test_connection import DEMO, SETTLED, create, wait_for
from whatsapp_integrations.domain.evolution_instance import WEBHOOK_EVENTS


def connected(api: Api) -> str:
    integration = create(api)
    api.post(f"/integrations/whatsapp/{integration['id']}/connect")
    assert wait_for(api, integration["id"], SETTLED)["status"] == "connected"
    return str(integration["id"])


def check_now(api: Api, integration_id: str) -> httpx.Response:
    return api.post(f"/integrations/whatsapp/{integration_id}/status/refresh")


def audit_actions(api: Api, integration_id: str) -> list[str]:
    return [event["action"] for event in api.get(f"/integrations/whatsapp/{integration_id}/audit").json()["items"]]


def test_the_scheduled_run_checks_every_connected_integration(tenant_a: Api, stack: LocalStack) -> None:
    # Given a connected integration whose last check is known
    integration_id = connected(tenant_a)
    before = tenant_a.get(f"/integrations/whatsapp/{integration_id}/status").json()["last_checked_at"]
    # When the schedule fires (by hand here; on its interval in make dev)
    answer = httpx.post(f"{stack.api_url}/__local__/schedules/StatusSchedulerFunction", timeout=30)
    assert answer.status_code == 200 and answer.json()["queued"] >= 1
    # Then the worker checks it
    deadline = time.monotonic() + 20
    while tenant_a.get(f"/integrations/whatsapp/{integration_id}/status").json()["last_checked_at"] == before:
        assert time.monotonic() < deadline, "the scheduled check never ran"
        time.sleep(0.2)


def test_a_drifted_webhook_is_repaired_and_audited(tenant_a: Api, stack: LocalStack) -> None:
    evolution = stack.evolution_simulator
    assert evolution is not None
    integration_id = connected(tenant_a)
    name = f"wa-{integration_id}"
    evolution.set_webhook_behind_our_back(
        name, {"enabled": True, "url": "https://elsewhere.example/hook", "events": ["MESSAGES_UPSERT"]}
    )
    assert check_now(tenant_a, integration_id).status_code == 200
    webhook = evolution.instances[name]["webhook"]
    assert webhook["url"] == f"{stack.api_url}/webhooks/evolution" and set(webhook["events"]) == set(WEBHOOK_EVENTS)
    assert "status_sync.webhook_repaired" in audit_actions(tenant_a, integration_id)


def test_an_instance_deleted_behind_our_back_is_re_created(tenant_a: Api, stack: LocalStack) -> None:
    evolution = stack.evolution_simulator
    assert evolution is not None
    integration_id = connected(tenant_a)
    evolution.delete_behind_our_back(f"wa-{integration_id}")
    evolution.wait_for_deliveries(timeout=10)
    check_now(tenant_a, integration_id)
    repaired = wait_for(tenant_a, integration_id, {"connected"}, timeout=30)
    assert f"wa-{integration_id}" in evolution.instances
    assert any("instance_removed_outside" in change["reason"] for change in repaired["history"])


def test_an_expired_token_asks_for_reauthorisation(tenant_a: Api, stack: LocalStack) -> None:
    integration_id = connected(tenant_a)
    stack.graph_simulator.fail_next(401, 190, error_subcode=463)
    body = check_now(tenant_a, integration_id).json()
    assert body["status"] == "reauth_required", body
    assert body["last_error"]["code"] == "token_expired" and "Generate new token" in body["last_error"]["fix"]


def test_a_quality_drop_is_reported_and_published(tenant_a: Api, stack: LocalStack) -> None:
    integration_id = connected(tenant_a)
    stack.graph_simulator.set_phone_field(DEMO["phone_number_id"], "quality_rating", "RED")
    assert check_now(tenant_a, integration_id).status_code == 200
    profile = tenant_a.get(f"/integrations/whatsapp/{integration_id}").json()["phone_profile"]
    assert profile["quality_rating"] == "RED"
    deadline = time.monotonic() + 10

    def drops() -> list[dict[str, Any]]:
        return [
            event["detail"]
            for event in stack.domain_events.received
            if event["detail-type"] == "PhoneQualityChanged" and event["detail"]["integration_id"] == integration_id
        ]

    while not drops() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert drops()[0]["from"] == "GREEN" and drops()[0]["to"] == "RED"
    assert "status_sync.phone_changed" in audit_actions(tenant_a, integration_id)


def test_with_evolution_or_meta_down_nothing_changes(tenant_a: Api, stack: LocalStack) -> None:
    evolution = stack.evolution_simulator
    assert evolution is not None
    integration_id = connected(tenant_a)
    before = tenant_a.get(f"/integrations/whatsapp/{integration_id}/status").json()
    evolution.fail_next("/instance/fetchInstances", 503)
    down = check_now(tenant_a, integration_id)
    assert down.status_code == 503 and int(down.headers["retry-after"]) > 0
    stack.graph_simulator.fail_next(500, 2)
    assert check_now(tenant_a, integration_id).status_code == 503
    after = tenant_a.get(f"/integrations/whatsapp/{integration_id}/status").json()
    assert (after["status"], after["last_error"], after["last_checked_at"]) == (
        before["status"],
        before["last_error"],
        before["last_checked_at"],
    )
