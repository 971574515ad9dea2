"""Connect, disconnect and delete through the local stack: the API, the provisioning queue, the provisioner and the
Evolution API and Graph API simulators, each step checked against the simulator's state."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import httpx
import pytest

from local import graph_simulator as sim
from local.stack import LocalStack
from tests.e2e.conftest import DEMO, Api
from whatsapp_integrations.domain.evolution_instance import WEBHOOK_EVENTS, WEBHOOK_SECRET_HEADER

SETTLED = {"connected", "disconnected", "error", "reauth_required", "validated"}


def create(api: Api, phone: str = DEMO["phone_number_id"]) -> dict[str, Any]:
    answer = api.post("/integrations/whatsapp", json={"name": "Main", **DEMO, "phone_number_id": phone})
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_for(api: Api, integration_id: str, wanted: set[str], timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = api.get(f"/integrations/whatsapp/{integration_id}/status").json()
        if status["status"] in wanted:
            return status
        assert time.monotonic() < deadline, f"still {status['status']}: {status}"
        time.sleep(0.1)


def instance_of(stack: LocalStack, integration_id: str) -> dict[str, Any] | None:
    assert stack.evolution_simulator is not None
    return stack.evolution_simulator.instances.get(f"wa-{integration_id}")


def creates(stack: LocalStack) -> int:
    assert stack.evolution_simulator is not None
    return sum(1 for method, path in stack.evolution_simulator.calls if (method, path) == ("POST", "/instance/create"))


def test_connect_disconnect_connect_again_and_delete(tenant_a: Api, stack: LocalStack) -> None:
    # Given a validated integration
    integration = create(tenant_a)
    path = f"/integrations/whatsapp/{integration['id']}"
    # When the tenant clicks Connect, the API answers at once and the work happens in the background
    accepted = tenant_a.post(f"{path}/connect")
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "connecting"
    connected = wait_for(tenant_a, integration["id"], SETTLED)
    # Then it is connected, and Evolution holds exactly what we set
    assert connected["status"] == "connected", connected
    assert connected["evolution"] == {"instance_name": f"wa-{integration['id']}", "state": "open"}
    assert connected["last_checked_at"] and connected["last_error"] is None
    instance = instance_of(stack, integration["id"])
    assert instance is not None
    assert instance["number"] == DEMO["phone_number_id"] and instance["businessId"] == DEMO["waba_id"]
    assert instance["integration"] == "WHATSAPP-BUSINESS"
    webhook = instance["webhook"]
    assert webhook["url"] == f"{stack.api_url}/webhooks/evolution"
    assert set(webhook["events"]) == set(WEBHOOK_EVENTS) and webhook["webhookByEvents"] is False
    assert len(webhook["headers"][WEBHOOK_SECRET_HEADER]) >= 32
    assert ("POST", f"/v25.0/{DEMO['waba_id']}/subscribed_apps") in stack.graph_simulator.calls
    # And the history tells the story, each step carrying the connect's request ID as its correlation ID
    assert [change["to_status"] for change in connected["history"]] == ["connected", "connecting"]
    assert {change["correlation_id"] for change in connected["history"]} == {accepted.headers["apigw-requestid"]}

    # Connect on a connected integration is a no-op that answers its status
    again = tenant_a.post(f"{path}/connect")
    assert again.status_code == 200 and again.json()["status"] == "connected"

    # Disconnect removes the instance and keeps the integration
    assert tenant_a.post(f"{path}/disconnect").status_code == 202
    assert wait_for(tenant_a, integration["id"], SETTLED)["status"] == "disconnected"
    assert instance_of(stack, integration["id"]) is None
    assert tenant_a.get(path).status_code == 200

    # Connect again works
    assert tenant_a.post(f"{path}/connect").status_code == 202
    assert wait_for(tenant_a, integration["id"], SETTLED)["status"] == "connected"
    assert instance_of(stack, integration["id"]) is not None

    # Delete deprovisions first (202), then the integration is gone
    assert tenant_a.delete(path).status_code == 202
    deadline = time.monotonic() + 30
    while tenant_a.get(path).status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert instance_of(stack, integration["id"]) is None


def test_fifty_concurrent_connects_create_one_instance(tenant_a: Api, stack: LocalStack) -> None:
    # Given a validated integration and fifty clicks at once
    integration = create(tenant_a)
    before = creates(stack)
    answers: list[int] = []

    def click() -> None:
        with httpx.Client(base_url=stack.api_url, headers=tenant_a.http.headers, timeout=30) as http:
            answers.append(http.post(f"/integrations/whatsapp/{integration['id']}/connect").status_code)

    threads = [threading.Thread(target=click) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every click is answered without an error, and exactly one instance is created
    assert set(answers) <= {200, 202} and len(answers) == 50
    assert wait_for(tenant_a, integration["id"], SETTLED)["status"] == "connected"
    assert creates(stack) - before == 1


@pytest.mark.parametrize(
    ("fault", "expected_status", "expected_error"),
    [
        ({"fail_next": ("/instance/create", 500, 2)}, "connected", None),
        ({"fail_next": ("/instance/create", 503, 1), "fail_next_2": ("/webhook/find", 502, 1)}, "connected", None),
        ({"lose_next_response": ("/instance/create", 1)}, "connected", None),
        ({"delay_next": ("/instance/create", 3.0, 1)}, "connected", None),
        ({"fail_next": ("/instance/create", 401, 1)}, "error", "evolution_unauthorized"),
    ],
    ids=["5xx-twice", "5xx-then-readback-5xx", "lost-response-then-403-adopt", "timeout", "401"],
)
def test_faults_end_connected_or_error_never_stuck_never_duplicated(
    tenant_a: Api,
    stack: LocalStack,
    fault: dict[str, tuple[Any, ...]],
    expected_status: str,
    expected_error: str | None,
) -> None:
    # Given a fault injected into the Evolution simulator
    evolution = stack.evolution_simulator
    assert evolution is not None
    for kind, arguments in fault.items():
        getattr(evolution, kind.removesuffix("_2"))(*arguments)
    integration = create(tenant_a)
    # When the tenant connects
    assert tenant_a.post(f"/integrations/whatsapp/{integration['id']}/connect").status_code == 202
    # Then it settles, with a reason when it failed, and never with two instances
    settled = wait_for(tenant_a, integration["id"], SETTLED)
    assert settled["status"] == expected_status, settled
    if expected_error:
        assert settled["last_error"]["code"] == expected_error and settled["last_error"]["fix"]
    numbers = [instance["number"] for instance in evolution.instances.values()]
    assert numbers.count(DEMO["phone_number_id"]) == (1 if expected_status == "connected" else 0)


def test_an_expired_token_at_subscription_asks_for_reauthorisation(tenant_a: Api, stack: LocalStack) -> None:
    # Given Meta starts refusing the token after it was validated
    integration = create(tenant_a)
    stack.graph_simulator.fail_next(401, 190, error_subcode=463)
    # When the tenant connects
    tenant_a.post(f"/integrations/whatsapp/{integration['id']}/connect")
    # Then the integration needs a new token, and says how to get one
    settled = wait_for(tenant_a, integration["id"], SETTLED)
    assert settled["status"] == "reauth_required", settled
    assert settled["last_error"]["code"] == "token_expired" and settled["last_error"]["meta_code"] == 190


def test_another_tenant_cannot_connect_disconnect_or_read_status(tenant_a: Api, tenant_b: Api) -> None:
    integration = create(tenant_a)
    for method, suffix in (("POST", "connect"), ("POST", "disconnect"), ("GET", "status")):
        answer = tenant_b.request(method, f"/integrations/whatsapp/{integration['id']}/{suffix}")
        assert answer.status_code == 404 and answer.json()["code"] == "integration_not_found"
    assert tenant_a.get(f"/integrations/whatsapp/{integration['id']}/status").json()["status"] == "validated"


def test_after_the_retry_budget_it_is_error_and_the_message_is_dead_lettered(tenant_a: Api, stack: LocalStack) -> None:
    # Given Evolution keeps failing with 5xx for longer than the retry budget (8 attempts by default)
    evolution = stack.evolution_simulator
    assert evolution is not None
    evolution.fail_next("/instance/create", 503, count=1000)
    integration = create(tenant_a)
    # When the tenant connects
    tenant_a.post(f"/integrations/whatsapp/{integration['id']}/connect")
    # Then it ends in error saying the retries ran out, and the message waits in the dead-letter queue
    settled = wait_for(tenant_a, integration["id"], SETTLED, timeout=60)
    assert settled["status"] == "error", settled
    assert settled["last_error"]["code"] == "provisioning_retries_exhausted"
    assert "HTTP 503" in settled["last_error"]["message"]  # the last underlying error is named
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + 15
    while True:
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.queue_urls["ProvisioningDeadLetterQueue"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        if int(attributes["ApproximateNumberOfMessages"]) >= 1:
            break
        assert time.monotonic() < deadline, "the message did not reach the dead-letter queue"
        time.sleep(0.2)
    evolution.reset()
    # And once the cause is gone, connecting again works
    assert tenant_a.post(f"/integrations/whatsapp/{integration['id']}/connect").status_code == 202
    assert wait_for(tenant_a, integration["id"], SETTLED)["status"] == "connected"


def test_new_credentials_on_a_connected_integration_re_provision_the_instance(tenant_a: Api, stack: LocalStack) -> None:
    # Given a connected integration
    integration = create(tenant_a)
    tenant_a.post(f"/integrations/whatsapp/{integration['id']}/connect")
    connected = wait_for(tenant_a, integration["id"], SETTLED)
    first = instance_of(stack, integration["id"])
    assert first is not None and first["token"] == sim.VALID_TOKEN
    # When the tenant puts a new token
    new_token = sim.VALID_TOKEN[:-4] + "NEW1"
    answer = tenant_a.put(
        f"/integrations/whatsapp/{integration['id']}",
        json={"access_token": new_token},
        headers={"If-Match": f'"{connected["version"]}"'},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "connecting"
    # Then the instance is re-created with the new token, and the history says why
    settled = wait_for(tenant_a, integration["id"], SETTLED)
    assert settled["status"] == "connected", settled
    second = instance_of(stack, integration["id"])
    assert second is not None and second["token"] == new_token and second["id"] != first["id"]
    assert "credentials changed" in settled["history"][1]["reason"]
