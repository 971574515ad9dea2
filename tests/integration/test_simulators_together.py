"""The two simulators wired the way Meta and Evolution 2.3.7 are: the app's callback is Evolution's /webhook/meta
(verified with Evolution's global token), Evolution sends through the Graph API simulator, and the statuses Meta
posts afterwards come back to Evolution, which turns them into its own webhooks."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.evolution_simulator import WA_BUSINESS_TOKEN_WEBHOOK, EvolutionSimulator
from local.graph_simulator import (
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_PHONE_NUMBER_IDS,
    DEMO_WABA_ID,
    NOT_ALLOWED_RECIPIENT,
    UNDELIVERABLE_RECIPIENT,
    VALID_TOKEN,
    GraphSimulator,
)
from tests.integration.meta_endpoint import MetaEndpoint

pytestmark = pytest.mark.integration

KEY = "together-key"
PHONE = DEMO_PHONE_NUMBER_IDS[0]
CUSTOMER = "5511999990000"


@pytest.fixture
def graph() -> Iterator[GraphSimulator]:
    with GraphSimulator(status_delay_seconds=0.01) as simulator:
        yield simulator


@pytest.fixture
def evolution(graph: GraphSimulator) -> Iterator[EvolutionSimulator]:
    with EvolutionSimulator(api_key=KEY, graph_url=graph.base_url, retry_base_seconds=0.05) as simulator:
        yield simulator


@pytest.fixture
def tenant_hooks() -> Iterator[MetaEndpoint]:
    server = MetaEndpoint("unused")
    yield server
    server.stop()


@pytest.fixture
def wired(graph: GraphSimulator, evolution: EvolutionSimulator, tenant_hooks: MetaEndpoint) -> str:
    """Meta's side set up through the Graph API, and an Evolution instance for the demo number."""
    app = {
        "object": "whatsapp_business_account",
        "callback_url": f"{evolution.base_url}/webhook/meta",
        "verify_token": WA_BUSINESS_TOKEN_WEBHOOK,
        "fields": "messages",
        "access_token": f"{DEMO_APP_ID}|{DEMO_APP_SECRET}",
    }
    assert httpx.post(f"{graph.base_url}/v25.0/{DEMO_APP_ID}/subscriptions", data=app).json() == {"success": True}
    subscribed = httpx.post(
        f"{graph.base_url}/v25.0/{DEMO_WABA_ID}/subscribed_apps", headers={"Authorization": f"Bearer {VALID_TOKEN}"}
    )
    assert subscribed.json() == {"success": True}
    webhook = {"enabled": True, "url": tenant_hooks.url, "events": ["MESSAGES_UPDATE", "MESSAGES_UPSERT"]}
    body = {
        "instanceName": "tenant1-wa",
        "integration": "WHATSAPP-BUSINESS",
        "token": VALID_TOKEN,
        "number": PHONE,
        "businessId": DEMO_WABA_ID,
        "webhook": webhook,
    }
    assert httpx.post(f"{evolution.base_url}/instance/create", json=body, headers={"apikey": KEY}).status_code == 201
    return "tenant1-wa"


def send_text(evolution: EvolutionSimulator, instance: str, number: str) -> httpx.Response:
    return httpx.post(
        f"{evolution.base_url}/message/sendText/{instance}",
        json={"number": number, "text": "Your order shipped"},
        headers={"apikey": KEY},
    )


def evolution_events(graph: GraphSimulator, evolution: EvolutionSimulator, hooks: MetaEndpoint) -> list[Any]:
    assert graph.wait_for_webhooks(5)
    assert evolution.wait_for_deliveries(5)
    return [hit.json() for hit in hooks.posts]


def test_statuses_of_a_send_come_back_through_evolution(
    graph: GraphSimulator, evolution: EvolutionSimulator, tenant_hooks: MetaEndpoint, wired: str
) -> None:
    # When: Evolution sends a text through the Graph API
    sent = send_text(evolution, wired, CUSTOMER)

    # Then: Meta's wamid, then Meta's sent and delivered, relayed by Evolution as SENT and DELIVERED
    assert sent.status_code == 201
    wamid = sent.json()["key"]["id"]
    assert graph.sent_messages[0]["wamid"] == wamid
    events = evolution_events(graph, evolution, tenant_hooks)
    assert sorted(e["data"]["status"] for e in events if e["event"] == "messages.update") == ["DELIVERED", "SENT"]
    assert all(e["data"]["keyId"] == wamid for e in events)
    assert [record["level"] for record in graph.webhook_deliveries] == ["application", "application"]


def test_an_undeliverable_recipient_ends_failed_without_the_reason(
    graph: GraphSimulator, evolution: EvolutionSimulator, tenant_hooks: MetaEndpoint, wired: str
) -> None:
    # When: Evolution sends to the recipient Meta cannot deliver to
    sent = send_text(evolution, wired, UNDELIVERABLE_RECIPIENT)

    # Then: accepted, then FAILED; Meta's 131026 stays in Meta's webhook (Evolution drops errors[])
    assert sent.status_code == 201
    [event] = evolution_events(graph, evolution, tenant_hooks)
    assert (event["event"], event["data"]["status"]) == ("messages.update", "FAILED")
    assert "errors" not in event["data"]
    [record] = graph.webhook_deliveries
    assert record["payload"]["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["code"] == 131026


def test_a_synchronous_meta_error_is_a_201_with_metas_error(
    graph: GraphSimulator, evolution: EvolutionSimulator, tenant_hooks: MetaEndpoint, wired: str
) -> None:
    # When: Evolution sends to a recipient outside the test number's allowed list
    sent = send_text(evolution, wired, NOT_ALLOWED_RECIPIENT)

    # Then: HTTP 201 with Meta's error flattened, and no status follows
    assert sent.status_code == 201
    assert (sent.json()["code"], sent.json()["error_data"]["details"]) == (
        131030,
        "Recipient phone number not in allowed list",
    )
    assert evolution_events(graph, evolution, tenant_hooks) == []


def test_evolution_accepts_forged_and_unsigned_webhooks(
    graph: GraphSimulator, evolution: EvolutionSimulator, tenant_hooks: MetaEndpoint, wired: str
) -> None:
    # When: an inbound text is posted with a forged signature, and another without any
    graph.post_webhook(PHONE, messages=[{"from": CUSTOMER, "id": "wamid.FORGED", "text": "hi"}], signing_secret="x")
    graph.post_webhook(PHONE, messages=[{"from": CUSTOMER, "id": "wamid.UNSIGNED", "text": "hi"}], sign=False)

    # Then: Evolution 2.3.7 checks no signature: both become messages.upsert
    events = evolution_events(graph, evolution, tenant_hooks)
    upserts = sorted(e["data"]["key"]["id"] for e in events if e["event"] == "messages.upsert")
    assert upserts == ["wamid.FORGED", "wamid.UNSIGNED"]
