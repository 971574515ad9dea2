"""Proving a number works, on the local stack: a test message and its statuses, Meta's refusals with their fix, the
connection doctor's checklist in every outcome, and its repairs."""

from __future__ import annotations

from typing import Any

import httpx

from local import graph_simulator as sim
from local.stack import LocalStack
from tests.conftest import start_well_inside_a_window
from tests.e2e.conftest import Api
from tests.e2e.test_connection import SETTLED, create, wait_for
from tests.e2e.test_meta_relay import connected, eventually, graph

HELLO = {"template": {"name": "hello_world", "language": "en_US"}}


def checklist(api: Api, integration_id: str, repair: bool = False) -> dict[str, Any]:
    path = f"/integrations/whatsapp/{integration_id}/diagnostics"
    answer = api.post(f"{path}/repair") if repair else api.get(path)
    assert answer.status_code == 200, answer.text
    return answer.json()


def send(api: Api, integration_id: str, body: dict[str, Any]) -> httpx.Response:
    return api.post(f"/integrations/whatsapp/{integration_id}/test-message", json=body)


def statuses(diagnosis: dict[str, Any]) -> dict[str, str]:
    return {item["id"]: item["status"] for item in diagnosis["items"]}


# ------------------------------------------------------------------------------------------------ test message


def test_a_template_test_message_is_sent_and_its_statuses_arrive(tenant_a: Api, stack: LocalStack) -> None:
    # Given a connected number
    integration = connected(tenant_a)
    # When the tenant sends the hello_world template to a customer
    sent = tenant_a.post(
        f"/integrations/whatsapp/{integration['id']}/test-message", json={"to": "5511999990000", **HELLO}
    )
    # Then it is accepted with its wamid, the recipient masked, and where to watch it
    assert sent.status_code == 202, sent.text
    body = sent.json()
    assert body["wamid"].startswith("wamid.") and body["to_masked"] == "55*******0000"
    assert sent.headers["location"] == body["status_url"]
    # And Meta's statuses (the simulator's sent, delivered) reach it through the relay
    delivered = eventually(lambda: (tenant_a.get(body["status_url"]).json() or {}).get("status") == "DELIVERED")
    assert delivered
    # And the audit trail has it, without the number
    audit = tenant_a.get(f"/integrations/whatsapp/{integration['id']}/audit").json()["items"]
    [entry] = [item for item in audit if item["action"] == "integration.test_message_sent"]
    assert entry["details"]["to"] == "55*******0000" and "5511999990000" not in str(audit)


def test_a_text_outside_the_24h_window_fails_later_with_the_fix(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    sent = tenant_a.post(
        f"/integrations/whatsapp/{integration['id']}/test-message",
        json={"to": sim.OUTSIDE_WINDOW_RECIPIENT, "text": "Hello from the test"},
    )
    assert sent.status_code == 202, sent.text
    failed = eventually(lambda: (tenant_a.get(sent.json()["status_url"]).json() or {}).get("failure"))
    assert failed["code"] == "outside_customer_service_window" and "template" in failed["fix"]


def test_metas_refusal_inside_evolutions_201_is_a_422_with_the_fix(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    path = f"/integrations/whatsapp/{integration['id']}/test-message"
    # A recipient outside the test number's allowed list (131030)
    refused = tenant_a.post(path, json={"to": sim.NOT_ALLOWED_RECIPIENT, **HELLO})
    assert refused.status_code == 422 and refused.json()["code"] == "test_message_rejected"
    [item] = refused.json()["errors"]
    assert (item["field"], item["code"], item["meta_code"]) == ("to", "recipient_not_allowed", 131030)
    assert item["fix"] and item["fbtrace_id"]
    # A template that does not exist in that language (132001)
    missing = tenant_a.post(
        path, json={"to": "5511999990000", "template": {"name": "spring_sale", "language": "pt_BR"}}
    )
    [item] = missing.json()["errors"]
    assert (missing.status_code, item["field"], item["meta_code"]) == (422, "template", 132001)
    # The pair rate limit (131056)
    limited = tenant_a.post(path, json={"to": sim.PAIR_RATE_LIMITED_RECIPIENT, **HELLO})
    assert (limited.status_code, limited.json()["errors"][0]["code"]) == (422, "pair_rate_limited")


def test_a_token_meta_refuses_on_send_asks_for_a_new_token(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    graph(stack).fail_next(401, 190, error_subcode=463)
    refused = tenant_a.post(
        f"/integrations/whatsapp/{integration['id']}/test-message", json={"to": "5511999990000", **HELLO}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "access_token"
    status = tenant_a.get(f"/integrations/whatsapp/{integration['id']}/status").json()
    assert status["status"] == "reauth_required" and status["last_error"]["code"] == "token_expired"


def test_test_messages_are_limited_per_integration_per_hour(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    path = f"/integrations/whatsapp/{integration['id']}/test-message"
    graph(stack).set_auto_statuses(False)
    start_well_inside_a_window(3600, needed_seconds=60)
    answers = [tenant_a.post(path, json={"to": "5511999990000", **HELLO}).status_code for _ in range(11)]
    assert answers == [202] * 10 + [429]
    over = tenant_a.post(path, json={"to": "5511999990000", **HELLO})
    assert over.json()["code"] == "rate_limited" and 1 <= int(over.headers["retry-after"]) <= 3601


def test_a_test_message_needs_a_connected_integration_and_a_well_formed_body(tenant_a: Api, tenant_b: Api) -> None:
    integration = create(tenant_a)
    path = f"/integrations/whatsapp/{integration['id']}/test-message"
    assert tenant_a.post(path, json={"to": "5511999990000", **HELLO}).json()["code"] == "invalid_state"
    bad = {
        "to not digits": ({"to": "+55 11 99999-0000", **HELLO}, "to"),
        "to too short": ({"to": "1234567", **HELLO}, "to"),
        "both": ({"to": "5511999990000", "text": "hi", **HELLO}, "text"),
        "neither": ({"to": "5511999990000"}, "text"),
        "text too long": ({"to": "5511999990000", "text": "x" * 4097}, "text"),
        "unknown template field": ({"to": "5511999990000", "template": {"name": "a", "components": []}}, "template"),
    }
    for case, (body, field) in bad.items():
        answer = tenant_a.post(path, json=body)
        assert answer.status_code == 400, case
        assert any(item["field"].startswith(field) for item in answer.json()["errors"]), (case, answer.json())
    # Another tenant's integration does not exist for them
    assert tenant_b.post(path, json={"to": "5511999990000", **HELLO}).status_code == 404


# ------------------------------------------------------------------------------------------------ diagnostics


def test_a_healthy_integration_is_all_ok_after_a_test_message(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    sent = tenant_a.post(
        f"/integrations/whatsapp/{integration['id']}/test-message", json={"to": "5511999990000", **HELLO}
    )
    eventually(lambda: (tenant_a.get(sent.json()["status_url"]).json() or {}).get("status") == "DELIVERED")
    diagnosis = checklist(tenant_a, integration["id"])
    assert diagnosis["summary"] == "ok", [item for item in diagnosis["items"] if item["status"] != "ok"]
    assert len(diagnosis["items"]) == 21
    assert all(item["link"].startswith("docs/troubleshooting.md#check-") for item in diagnosis["items"])


def test_what_breaks_is_found_and_what_is_ours_is_repaired(tenant_a: Api, stack: LocalStack) -> None:
    # Given a connected number whose Evolution webhook config, Meta override and WABA subscription drifted
    integration = connected(tenant_a)
    name = f"wa-{integration['id']}"
    assert stack.evolution_simulator is not None
    stack.evolution_simulator.set_webhook_behind_our_back(
        name, {"enabled": True, "url": "https://elsewhere.example/hook", "events": ["CALL"]}
    )
    graph(stack).set_override(sim.DEMO_PHONE_NUMBER_IDS[0], None)
    httpx.delete(
        f"{graph(stack).base_url}/v25.0/{sim.DEMO_WABA_ID}/subscribed_apps", params={"access_token": sim.VALID_TOKEN}
    )
    # When the tenant runs the diagnosis
    found = statuses(checklist(tenant_a, integration["id"]))
    # Then each broken link fails
    assert found["evolution.webhook"] == found["waba.webhook_override"] == found["waba.app_subscribed"] == "fail"
    # When the tenant clicks Repair
    repaired = checklist(tenant_a, integration["id"], repair=True)
    # Then each is fixed, says what was done, and the repair is audited
    items = {item["id"]: item for item in repaired["items"]}
    for check in ("evolution.webhook", "waba.webhook_override", "waba.app_subscribed"):
        assert items[check]["status"] == "ok" and items[check]["repaired"], items[check]
    audit = tenant_a.get(f"/integrations/whatsapp/{integration['id']}/audit").json()["items"]
    assert any(entry["action"] == "integration.repaired" for entry in audit)


def test_a_missing_instance_is_re_created_by_repair(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    assert stack.evolution_simulator is not None
    stack.evolution_simulator.delete_behind_our_back(f"wa-{integration['id']}")
    assert statuses(checklist(tenant_a, integration["id"]))["evolution.instance"] == "fail"
    repaired = {item["id"]: item for item in checklist(tenant_a, integration["id"], repair=True)["items"]}
    assert "re-creation" in (repaired["evolution.instance"]["repaired"] or "")
    assert wait_for(tenant_a, integration["id"], SETTLED)["status"] == "connected"
    assert statuses(checklist(tenant_a, integration["id"]))["evolution.instance"] == "ok"


def test_a_side_that_cannot_be_reached_is_unknown_and_meta_problems_fail(tenant_a: Api, stack: LocalStack) -> None:
    integration = connected(tenant_a)
    assert stack.evolution_simulator is not None
    stack.evolution_simulator.fail_next("/instance/fetchInstances", 503)
    graph(stack).set_phone_field(sim.DEMO_PHONE_NUMBER_IDS[0], "quality_rating", "RED")
    found = statuses(checklist(tenant_a, integration["id"]))
    assert {found[check] for check in ("evolution.instance", "evolution.number", "evolution.token")} == {"unknown"}
    assert found["phone.quality"] == "fail"


# ------------------------------------------------------------------------------------------------ refresh


def test_refresh_checks_meta_for_a_validated_integration_and_asks_for_a_new_token(
    tenant_a: Api, stack: LocalStack
) -> None:
    # Given an integration that was never connected, whose token Meta has since expired
    integration = create(tenant_a)
    graph(stack).fail_next(401, 190, error_subcode=463)
    # When the tenant clicks "Check now"
    checked = tenant_a.post(f"/integrations/whatsapp/{integration['id']}/status/refresh")
    # Then Meta was asked, and the integration needs a new token
    assert checked.status_code == 200
    assert checked.json()["status"] == "reauth_required" and checked.json()["last_error"]["code"] == "token_expired"
    assert any(path.endswith(sim.DEMO_PHONE_NUMBER_IDS[0]) for _, path in graph(stack).calls[-3:])
