"""The Graph API simulator's sends: Meta's synchronous errors for the special recipients and unknown templates, the
template registry, and the statuses it posts afterwards (auto statuses) with Meta's asynchronous failures."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.graph_simulator import (
    DEMO_PHONE_NUMBER_IDS,
    DEMO_WABA_ID,
    FOREIGN_PHONE_NUMBER_ID,
    FOREIGN_WABA_ID,
    NOT_ALLOWED_RECIPIENT,
    OUTSIDE_WINDOW_RECIPIENT,
    PAIR_RATE_LIMITED_RECIPIENT,
    UNDELIVERABLE_RECIPIENT,
    VALID_TOKEN,
    GraphSimulator,
)
from tests.integration.meta_endpoint import MetaEndpoint

pytestmark = pytest.mark.integration

PHONE = DEMO_PHONE_NUMBER_IDS[0]
CUSTOMER = "5511999990000"
HELLO = {"name": "hello_world", "language": {"code": "en_US"}}


@pytest.fixture(scope="module")
def simulator() -> Iterator[GraphSimulator]:
    with GraphSimulator(status_delay_seconds=0.01) as sim:
        yield sim


@pytest.fixture(autouse=True)
def fresh_state(simulator: GraphSimulator) -> Iterator[None]:
    simulator.reset()
    yield
    simulator.reset()


@pytest.fixture
def client(simulator: GraphSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{simulator.base_url}/v25.0", headers={"Authorization": f"Bearer {VALID_TOKEN}"}
    ) as http:
        yield http


@pytest.fixture
def endpoint(simulator: GraphSimulator) -> Iterator[MetaEndpoint]:
    server = MetaEndpoint("vt")
    simulator.set_app_subscription(server.url)
    simulator.set_override(DEMO_WABA_ID, None)
    yield server
    server.stop()


def text(to: str, phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "Hi"}, **extra}


def template(to: str, **template_fields: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "template", "template": {**HELLO, **template_fields}}


def send(client: httpx.Client, body: dict[str, Any], phone: str = PHONE) -> httpx.Response:
    return client.post(f"/{phone}/messages", json=body)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "OAuthException"
    return error


def statuses_posted(simulator: GraphSimulator, endpoint: MetaEndpoint) -> list[dict[str, Any]]:
    assert simulator.wait_for_webhooks(5.0)
    return [item for hit in endpoint.posts for item in hit.json()["entry"][0]["changes"][0]["value"]["statuses"]]


# ------------------------------------------------------------------------------------ synchronous errors


@pytest.mark.parametrize(
    ("recipient", "code", "transient", "details"),
    [
        (NOT_ALLOWED_RECIPIENT, 131030, False, "Recipient phone number not in allowed list"),
        (f"+{PAIR_RATE_LIMITED_RECIPIENT[0]} {PAIR_RATE_LIMITED_RECIPIENT[1:]}", 131056, True, "too many messages"),
    ],
    ids=["not-in-allowed-list", "pair-rate-limit"],
)
def test_special_recipients_fail_synchronously(
    simulator: GraphSimulator, client: httpx.Client, recipient: str, code: int, transient: bool, details: str
) -> None:
    # When: a text and a template are sent to the recipient (written with or without + and spaces)
    responses = [send(client, text(recipient)), send(client, template(recipient))]

    # Then: both fail with Meta's code, transience and error_data; nothing was accepted
    for response in responses:
        error = error_of(response)
        assert (error["code"], error["is_transient"]) == (code, transient)
        assert error["message"].startswith(f"(#{code}) ")
        assert error["error_data"]["messaging_product"] == "whatsapp"
        assert details in error["error_data"]["details"]
    assert simulator.sent_messages == []


def test_an_ordinary_recipient_is_accepted(simulator: GraphSimulator, client: httpx.Client) -> None:
    # When: a text is sent with a formatted number
    response = send(client, text("+55 11 99999-0000"))

    # Then: accepted with a wamid; the contact's wa_id is the digits
    assert response.status_code == 200
    body = response.json()
    assert body["contacts"] == [{"input": "+55 11 99999-0000", "wa_id": CUSTOMER}]
    assert body["messages"][0]["id"].startswith("wamid.")
    assert simulator.sent_messages[0]["type"] == "text"


@pytest.mark.parametrize(
    ("fields", "phone"),
    [
        ({"name": "order_update"}, PHONE),
        ({"language": {"code": "en"}}, PHONE),
        ({"language": {"code": "pt_BR"}}, PHONE),
        ({}, FOREIGN_PHONE_NUMBER_ID),
    ],
    ids=["other-name", "other-language", "portuguese", "waba-without-templates"],
)
def test_a_template_that_does_not_exist_is_132001(client: httpx.Client, fields: dict[str, Any], phone: str) -> None:
    # When: a template that is not in the number's WABA is sent
    response = send(client, template(CUSTOMER, **fields), phone)

    # Then: 132001 naming the template and language
    error = error_of(response)
    assert (error["code"], error["message"]) == (132001, "(#132001) Template name does not exist in the translation")
    assert "does not exist in" in error["error_data"]["details"]


def test_hello_world_exists_on_the_demo_waba_and_added_templates_can_be_sent(
    simulator: GraphSimulator, client: httpx.Client
) -> None:
    # Given: the registry as Evolution's template/find reads it
    listed = client.get(f"/{DEMO_WABA_ID}/message_templates").json()["data"]
    foreign = client.get(f"/{FOREIGN_WABA_ID}/message_templates").json()

    # When: hello_world is sent, and a Portuguese template is added over HTTP and sent
    hello = send(client, template(CUSTOMER))
    added = httpx.post(
        f"{simulator.base_url}/__simulator__/templates",
        json={"name": "pedido_enviado", "language": "pt_BR", "category": "MARKETING"},
    )
    portuguese = send(client, template(CUSTOMER, name="pedido_enviado", language={"code": "pt_BR"}))

    # Then: only hello_world/en_US, APPROVED UTILITY, at first; both sends are accepted
    assert [(t["name"], t["language"], t["status"], t["category"]) for t in listed] == [
        ("hello_world", "en_US", "APPROVED", "UTILITY")
    ]
    assert foreign == {"data": []}
    assert (hello.status_code, added.status_code, portuguese.status_code) == (200, 200, 200)
    names = [
        t["name"] for t in client.get(f"/{DEMO_WABA_ID}/message_templates", params={"language": "pt_BR"}).json()["data"]
    ]
    assert names == ["pedido_enviado"]


@pytest.mark.parametrize(("state", "code"), [("PAUSED", 132015), ("DISABLED", 132016), ("PENDING", 132001)])
def test_a_template_that_is_not_approved_cannot_be_sent(
    simulator: GraphSimulator, client: httpx.Client, state: str, code: int
) -> None:
    # Given: a template in that state
    simulator.add_template("promo", "en_US", status=state)

    # When: it is sent
    response = send(client, template(CUSTOMER, name="promo"))

    # Then: Meta's code for that state
    assert error_of(response)["code"] == code


# ---------------------------------------------------------------------------------------- auto statuses


def test_an_accepted_text_is_followed_by_sent_then_delivered(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # When: a text is sent with opaque callback data
    wamid = send(client, text(CUSTOMER, biz_opaque_callback_data="conn-42:test-7")).json()["messages"][0]["id"]

    # Then: two signed POSTs, sent then delivered, with Meta's fields and the service-window pricing
    sent, delivered = statuses_posted(simulator, endpoint)
    assert [sent["status"], delivered["status"]] == ["sent", "delivered"]
    for item in (sent, delivered):
        assert (item["id"], item["recipient_id"], item["biz_opaque_callback_data"]) == (
            wamid,
            CUSTOMER,
            "conn-42:test-7",
        )
        assert item["timestamp"].isdigit()
        assert item["pricing"] == {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_customer_service",
            "category": "service",
        }
        assert "errors" not in item
    # And: no conversation object, as in v24.0+ webhooks
    assert "conversation" not in sent
    assert all("x-hub-signature-256" in hit.headers for hit in endpoint.posts)
    assert [record["origin"] for record in simulator.webhook_deliveries] == ["auto", "auto"]


def test_an_older_webhook_version_gets_a_conversation_on_sent(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: an app whose messages field is on v23.0
    simulator.set_app_subscription(endpoint.url, version="v23.0")

    # When: a template is sent
    send(client, template(CUSTOMER))

    # Then: sent carries the conversation, both carry billable utility pricing
    sent, delivered = statuses_posted(simulator, endpoint)
    assert sent["conversation"]["origin"] == {"type": "utility"}
    assert int(sent["conversation"]["expiration_timestamp"]) > int(sent["timestamp"])
    assert "conversation" not in delivered
    assert delivered["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}


@pytest.mark.parametrize(
    ("recipient", "body", "code"),
    [
        (OUTSIDE_WINDOW_RECIPIENT, "text", 131047),
        (UNDELIVERABLE_RECIPIENT, "text", 131026),
        (UNDELIVERABLE_RECIPIENT, "template", 131026),
    ],
)
def test_special_recipients_fail_asynchronously(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint, recipient: str, body: str, code: int
) -> None:
    # When: the send is made
    response = send(client, text(recipient) if body == "text" else template(recipient))

    # Then: it is accepted, and only a failed status with Meta's error follows
    assert response.status_code == 200
    [failed] = statuses_posted(simulator, endpoint)
    assert (failed["id"], failed["status"]) == (response.json()["messages"][0]["id"], "failed")
    [error] = failed["errors"]
    assert error["code"] == code
    assert "pricing" not in failed


def test_a_template_outside_the_window_is_delivered(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # When: a template goes to the recipient whose window is closed
    send(client, template(OUTSIDE_WINDOW_RECIPIENT))

    # Then: templates are not bound to the 24 h window
    assert [item["status"] for item in statuses_posted(simulator, endpoint)] == ["sent", "delivered"]


def test_auto_statuses_follow_the_phone_override(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: another endpoint as the number's override
    override = MetaEndpoint("vt")
    try:
        simulator.set_override(PHONE, override.url)

        # When: a text is sent
        send(client, text(CUSTOMER))

        # Then: the statuses went to the override only
        assert simulator.wait_for_webhooks(5.0)
        assert (len(override.posts), len(endpoint.posts)) == (2, 0)
    finally:
        override.stop()


def test_auto_statuses_can_be_turned_off_and_report_a_missing_callback(
    simulator: GraphSimulator, client: httpx.Client
) -> None:
    # Given: no callback anywhere
    # When: a text is sent
    send(client, text(CUSTOMER))

    # Then: both statuses are recorded as not delivered, with the reason
    assert simulator.wait_for_webhooks(5.0)
    records = simulator.webhook_deliveries
    assert [(r["delivered"], r["url"]) for r in records] == [(False, None), (False, None)]
    assert "no whatsapp_business_account subscription" in records[0]["reason"]

    # When: auto statuses are turned off over HTTP and another text is sent
    control = httpx.post(f"{simulator.base_url}/__simulator__/auto_statuses", json={"enabled": False})
    send(client, text(CUSTOMER))

    # Then: nothing more is recorded
    assert control.json() == {"success": True}
    assert simulator.wait_for_webhooks(5.0)
    assert len(simulator.webhook_deliveries) == 2


def test_reset_drops_pending_auto_statuses(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: slow auto statuses for a sent message
    simulator.set_auto_statuses(True, delay_seconds=0.5)
    send(client, text(CUSTOMER))

    # When: the simulator is reset before they are due
    simulator.reset()

    # Then: none is posted or recorded
    assert simulator.wait_for_webhooks(5.0)
    assert endpoint.posts == []
    assert simulator.webhook_deliveries == []
