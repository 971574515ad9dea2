"""Meta's webhooks end to end on the local stack: connect wires Meta (the Graph simulator) to our relay, Meta's
signed posts go relay -> queue -> Evolution (the simulator's 2.3.7 /webhook/meta) -> /webhooks/evolution -> store,
and every way it can go wrong loses nothing or changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import boto3

from local import graph_simulator as sim
from local.redrive import redrive
from local.stack import LocalStack
from tests.e2e.conftest import DEMO, Api
from tests.e2e.test_connection import SETTLED, create, wait_for

PHONE = DEMO["phone_number_id"]


def connected(api: Api) -> dict[str, Any]:
    integration = create(api)
    assert api.post(f"/integrations/whatsapp/{integration['id']}/connect").status_code == 202
    status = wait_for(api, integration["id"], SETTLED)
    assert status["status"] == "connected", status
    return integration


def send_text(stack: LocalStack, integration_id: str, to: str = "5511999990000") -> str:
    """A message sent through the integration's Evolution instance (so Evolution knows its wamid)."""
    import httpx

    answer = httpx.post(
        f"{stack.evolution_url}/message/sendText/wa-{integration_id}",
        headers={"apikey": "local-evolution-key"},
        json={"number": to, "text": "hi"},
    )
    assert answer.status_code == 201 and "key" in answer.json(), answer.text
    return str(answer.json()["key"]["id"])


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def message(api: Api, integration_id: str, wamid: str) -> dict[str, Any]:
    answer = api.get(f"/integrations/whatsapp/{integration_id}/messages/{quote(wamid, safe='')}")
    return answer.json() if answer.status_code == 200 else {}


def graph(stack: LocalStack) -> sim.GraphSimulator:
    assert stack.graph_simulator is not None
    return stack.graph_simulator


def test_connect_wires_meta_to_the_relay_and_disconnect_takes_it_back(tenant_a: Api, stack: LocalStack) -> None:
    # Given a tenant whose app has no webhook yet
    integration = connected(tenant_a)
    ours = f"{stack.api_url}/webhooks/meta/{integration['id']}"
    # Then Meta delivers this number's webhooks to the integration's own relay URL, verified by its handshake
    assert graph(stack).effective_callback(PHONE) == {"url": ours, "level": "phone_number", "reason": None}
    handshakes = graph(stack).handshakes
    assert handshakes and all(entry["ok"] for entry in handshakes if entry["url"].startswith(ours))
    status = tenant_a.get(f"/integrations/whatsapp/{integration['id']}/status").json()
    assert status["webhooks"]["meta_callback_url"] == ours
    # When the tenant disconnects, then the number's override is removed (the app subscription stays)
    tenant_a.post(f"/integrations/whatsapp/{integration['id']}/disconnect")
    assert wait_for(tenant_a, integration["id"], SETTLED)["status"] == "disconnected"
    assert graph(stack).effective_callback(PHONE)["level"] != "phone_number"
    assert (
        tenant_a.get(f"/integrations/whatsapp/{integration['id']}/status").json()["webhooks"]["meta_callback_url"]
        is None
    )


def test_a_failed_status_from_meta_reaches_the_message_api_with_its_fix(tenant_a: Api, stack: LocalStack) -> None:
    # Given a connected number, and a text to a customer outside the 24 h window (Meta accepts, then fails it)
    integration = connected(tenant_a)
    wamid = send_text(stack, integration["id"], sim.OUTSIDE_WINDOW_RECIPIENT)
    # When Meta posts the failed status (the simulator's auto status) through the relay, queue and Evolution
    failed = eventually(
        lambda: (
            message(tenant_a, integration["id"], wamid).get("failure") and message(tenant_a, integration["id"], wamid)
        )
    )
    # Then the message API shows the failure with Meta's code and our fix, once
    assert failed["status"] == "FAILED" and [entry["status"] for entry in failed["history"]] == ["FAILED"]
    assert failed["failure"]["code"] == "outside_customer_service_window" and failed["failure"]["meta_code"] == 131047
    assert "template" in failed["failure"]["fix"]
    status = tenant_a.get(f"/integrations/whatsapp/{integration['id']}/status").json()
    assert status["webhooks"]["last_meta_event_at"] and status["webhooks"]["last_evolution_event_at"]
    # And the answer to Disconnect shows the same webhooks, not "never"
    disconnecting = tenant_a.post(f"/integrations/whatsapp/{integration['id']}/disconnect").json()
    assert disconnecting["webhooks"]["last_meta_event_at"] == status["webhooks"]["last_meta_event_at"]
    assert disconnecting["webhooks"]["last_evolution_event_at"] == status["webhooks"]["last_evolution_event_at"]


def test_a_forged_post_is_refused_and_changes_nothing(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    graph(stack).set_auto_statuses(False)
    wamid = send_text(stack, integration["id"])
    # When "Meta" posts a READ signed with another secret, and one not signed at all
    for forged in ({"signing_secret": "a-forger-does-not-know-the-secret"}, {"sign": False}):
        delivery = graph(stack).post_webhook(PHONE, statuses=[{"id": wamid, "status": "read"}], **forged)
        # Then our relay refuses it
        assert delivery["status"] == 401
    # And then a genuine DELIVERED arrives, and it is the only status the message ever got
    graph(stack).post_webhook(PHONE, statuses=[{"id": wamid, "status": "delivered"}])
    delivered = eventually(lambda: message(tenant_a, integration["id"], wamid).get("status") == "DELIVERED")
    assert delivered
    assert [entry["status"] for entry in message(tenant_a, integration["id"], wamid)["history"]] == ["DELIVERED"]


def test_a_batch_arrives_as_separate_posts_and_a_profileless_contact_is_repaired(
    tenant_a: Api, stack: LocalStack
) -> None:
    # Given three messages sent, and Meta reporting all three in one change, with a contact lacking its profile
    # (Evolution 2.3.7 would read only the first status, and crash on the contact)
    integration = connected(tenant_a)
    graph(stack).set_auto_statuses(False)
    wamids = [send_text(stack, integration["id"]) for _ in range(3)]
    delivery = graph(stack).post_webhook(
        PHONE, statuses=[{"id": wamid, "status": "read"} for wamid in wamids], contacts=[{"wa_id": "5511999990000"}]
    )
    assert delivery["status"] == 200
    # Then every message reaches READ
    for wamid in wamids:
        eventually(lambda wamid=wamid: message(tenant_a, integration["id"], wamid).get("status") == "READ")


def test_evolution_down_loses_nothing_and_records_each_status_once(tenant_a: Api, stack: LocalStack) -> None:
    # Given Evolution's /webhook/meta failing for a while (the relay retries with its backoff)
    integration = connected(tenant_a)
    graph(stack).set_auto_statuses(False)
    wamids = [send_text(stack, integration["id"]) for _ in range(3)]
    assert stack.evolution_simulator is not None
    stack.evolution_simulator.fail_next("/webhook/meta", 503, count=6)
    # When Meta reports them
    graph(stack).post_webhook(PHONE, statuses=[{"id": wamid, "status": "delivered"} for wamid in wamids])
    # Then each one arrives, and each status is recorded once
    for wamid in wamids:
        seen = eventually(lambda wamid=wamid: message(tenant_a, integration["id"], wamid).get("status") == "DELIVERED")
        assert seen
        assert [entry["status"] for entry in message(tenant_a, integration["id"], wamid)["history"]] == ["DELIVERED"]


def test_a_post_whose_retries_ran_out_waits_in_the_dead_letter_queue_and_redrive_delivers_it(
    tenant_a: Api, stack: LocalStack
) -> None:
    # Given Evolution failing every forward (the e2e stack allows 4 attempts)
    integration = connected(tenant_a)
    graph(stack).set_auto_statuses(False)
    wamid = send_text(stack, integration["id"])
    assert stack.evolution_simulator is not None
    stack.evolution_simulator.fail_next("/webhook/meta", 503, count=50)
    graph(stack).post_webhook(PHONE, statuses=[{"id": wamid, "status": "read"}])
    sqs = boto3.client("sqs")
    dead = stack.queue_urls["RelayDeadLetterQueue"]

    def dead_letters() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    # Then it ends in the dead-letter queue, and Evolution never had it
    eventually(lambda: dead_letters() == 1, timeout=30)
    # When Evolution is back and the operator redrives
    stack.evolution_simulator.clear_faults()
    moved = redrive(dead, stack.queue_urls["RelayQueue"], limit=10)
    # Then it is delivered
    assert moved == 1
    eventually(lambda: message(tenant_a, integration["id"], wamid).get("status") == "READ")


def test_status_sync_sets_a_removed_override_again_and_reports_one_taken(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    path = f"/integrations/whatsapp/{integration['id']}"
    ours = f"{stack.api_url}/webhooks/meta/{integration['id']}"
    # Given the override removed at Meta (drift), when the status is checked, then it is set again and audited
    graph(stack).set_override(PHONE, None)
    assert tenant_a.post(f"{path}/status/refresh").status_code == 200
    assert graph(stack).effective_callback(PHONE)["url"] == ours
    actions = [entry["action"] for entry in tenant_a.get(f"{path}/audit").json()["items"]]
    assert "status_sync.webhook_repaired" in actions
    # Given another platform took it, when checked, then the integration says so (and we do not fight over it)
    graph(stack).set_override(PHONE, "https://other-platform.example/hooks/whatsapp")
    status = tenant_a.post(f"{path}/status/refresh").json()
    assert status["status"] == "error" and status["last_error"]["code"] == "webhook_override_taken"
    assert "other-platform.example" in status["last_error"]["message"]
    assert graph(stack).effective_callback(PHONE)["url"] == "https://other-platform.example/hooks/whatsapp"


def test_a_handshake_that_keeps_failing_ends_in_callback_verification_failed(tenant_a: Api, stack: LocalStack) -> None:
    # Given Meta's handshake against our endpoint timing out (as behind a slow proxy)
    integration = create(tenant_a)
    graph(stack).handshake_timeout_seconds = 0.000001
    try:
        tenant_a.post(f"/integrations/whatsapp/{integration['id']}/connect")
        status = wait_for(tenant_a, integration["id"], SETTLED, timeout=60)
    finally:
        graph(stack).handshake_timeout_seconds = sim.HANDSHAKE_TIMEOUT_SECONDS
    # Then, retried like a transient failure, it ends with Meta's reason and the fix
    assert status["status"] == "error"
    assert status["last_error"]["code"] == "callback_verification_failed"
    assert status["last_error"]["meta_code"] == 2200 and "PUBLIC_API_URL" in status["last_error"]["fix"]


def test_connecting_without_the_app_secret_is_refused_with_the_fix(tenant_a: Api) -> None:
    # Given an integration saved without the app ID and secret (allowed, with a warning)
    without = {key: value for key, value in DEMO.items() if key not in ("app_id", "app_secret")}
    created = tenant_a.post("/integrations/whatsapp", json={"name": "Main", **without})
    assert created.status_code == 201 and "app_secret_missing" in [w["code"] for w in created.json()["warnings"]]
    # When the tenant connects it, then it is refused with the code and a fix, and nothing changed
    refused = tenant_a.post(f"/integrations/whatsapp/{created.json()['id']}/connect")
    assert refused.status_code == 409 and refused.json()["code"] == "app_secret_required"
    assert "app secret" in refused.json()["detail"]
    assert tenant_a.get(f"/integrations/whatsapp/{created.json()['id']}").json()["status"] == "validated"
