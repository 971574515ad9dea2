"""Message statuses end to end: a message sent through an integration's Evolution instance, then its statuses
posted by Evolution out of order and duplicated; the status API shows the right state and the full history."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx

from local import graph_simulator as sim
from local.stack import LOCAL_EVOLUTION_KEY, LocalStack
from tests.e2e.conftest import Api
from tests.e2e.test_connection import SETTLED, create, wait_for


def connected_integration(api: Api) -> str:
    integration = create(api)
    api.post(f"/integrations/whatsapp/{integration['id']}/connect")
    assert wait_for(api, integration["id"], SETTLED)["status"] == "connected"
    return str(integration["id"])


def test_statuses_out_of_order_and_duplicated(tenant_a: Api, tenant_b: Api, stack: LocalStack) -> None:
    evolution = stack.evolution_simulator
    assert evolution is not None
    integration_id = connected_integration(tenant_a)
    instance = f"wa-{integration_id}"
    # Given a message sent through the integration's instance (Evolution relays it to the Graph API)
    sent = httpx.post(
        f"{stack.evolution_url}/message/sendText/{instance}",
        headers={"apikey": LOCAL_EVOLUTION_KEY},
        json={"number": "5511999990000", "text": "Your order shipped"},
        timeout=10,
    )
    assert sent.status_code == 201, sent.text
    wamid = sent.json()["key"]["id"]
    assert any(message["wamid"] == wamid for message in stack.graph_simulator.sent_messages)
    # When Evolution posts its statuses out of order, with duplicates and a late delivery after a read
    for status in ("READ", "SENT", "SENT", "DELIVERED", "READ"):
        assert evolution.emit_status(instance, wamid, status)
    assert evolution.wait_for_deliveries(timeout=10)
    # Then the status API shows the furthest status and every status once, in the order received
    path = f"/integrations/whatsapp/{integration_id}/messages/{quote(wamid, safe='')}"
    answer = tenant_a.get(path)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["progress"], body["failed"]) == ("READ", "READ", False)
    assert body["recipient"] == "5511999990000" and body["sent_at"]
    assert sorted(seen["status"] for seen in body["history"]) == ["DELIVERED", "READ", "SENT"]
    # And every delivery was accepted: none refused, none answered 5xx
    ours = [d for d in evolution.deliveries if d.get("instance") == instance]
    assert ours and all(d.get("status") == 200 for d in ours), ours
    # And the status changes were published as domain events, one per change
    deadline = time.monotonic() + 10

    def changes() -> list[str]:
        return [
            event["detail"]["reported"]
            for event in stack.domain_events.received
            if event["detail-type"] == "MessageStatusChanged" and event["detail"]["wamid"] == wamid
        ]

    while "READ" not in changes() and time.monotonic() < deadline:
        time.sleep(0.1)
    # (Which earlier statuses were visible changes depends on the order Evolution's concurrent posts arrived in;
    # a status that arrives after READ only adds history and publishes nothing.)
    published = changes()
    assert "READ" in published and len(published) == len(set(published)) <= 3
    assert set(published) <= {"SENT", "DELIVERED", "READ"}
    # And another tenant cannot read it
    assert tenant_b.get(path).status_code == 404


def test_a_failure_is_shown_and_kept(tenant_a: Api, stack: LocalStack) -> None:
    evolution = stack.evolution_simulator
    assert evolution is not None
    integration_id = connected_integration(tenant_a)
    instance = f"wa-{integration_id}"
    wamid = httpx.post(
        f"{stack.evolution_url}/message/sendText/{instance}",
        headers={"apikey": LOCAL_EVOLUTION_KEY},
        json={"number": "5511988887777", "text": "hi"},
        timeout=10,
    ).json()["key"]["id"]
    for status in ("SENT", "FAILED", "DELIVERED"):
        evolution.emit_status(instance, wamid, status)
        assert evolution.wait_for_deliveries(timeout=10)
    body = tenant_a.get(f"/integrations/whatsapp/{integration_id}/messages/{quote(wamid, safe='')}").json()
    assert (body["status"], body["progress"], body["failed"]) == ("FAILED", "DELIVERED", True)


def test_an_instance_deleted_behind_our_back_is_reported(tenant_a: Api, stack: LocalStack) -> None:
    evolution = stack.evolution_simulator
    assert evolution is not None
    integration_id = connected_integration(tenant_a)
    evolution.delete_behind_our_back(f"wa-{integration_id}")
    assert evolution.wait_for_deliveries(timeout=10)
    status = wait_for(tenant_a, integration_id, {"error"}, timeout=10)
    assert status["last_error"]["code"] == "instance_removed_outside"
    # and Evolution's last word on the instance no longer reads "open": the name stays, for the repair
    assert status["evolution"] == {"instance_name": f"wa-{integration_id}", "state": "removed"}
    assert sim.VALID_TOKEN not in str(status)
