"""The Graph API simulator's webhook wiring: app subscriptions, verification handshakes, phone and WABA overrides,
and the webhooks it posts as Meta (routing, signatures, payload shapes, batching)."""

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.graph_simulator import (
    DEMO_APP_ACCESS_TOKEN,
    DEMO_APP_CALLBACK_URL,
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_PHONE_NUMBER_IDS,
    DEMO_WABA_ID,
    FOREIGN_PHONE_NUMBER_ID,
    FOREIGN_WABA_ID,
    VALID_TOKEN,
    GraphSimulator,
    meta_json,
    webhook_signature,
)
from tests.integration.meta_endpoint import MetaEndpoint

pytestmark = pytest.mark.integration

APP_TOKEN = f"{DEMO_APP_ID}|{DEMO_APP_SECRET}"
PHONE = DEMO_PHONE_NUMBER_IDS[0]
OTHER_PHONE = DEMO_PHONE_NUMBER_IDS[1]
CUSTOMER = "5511999990000"
VERIFY = "our-verify-token"
HANDSHAKE_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def simulator() -> Iterator[GraphSimulator]:
    with GraphSimulator(handshake_timeout_seconds=HANDSHAKE_TIMEOUT, auto_statuses=False) as sim:
        yield sim


@pytest.fixture(autouse=True)
def fresh_state(simulator: GraphSimulator) -> None:
    simulator.reset()


@pytest.fixture
def client(simulator: GraphSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{simulator.base_url}/v25.0", timeout=5.0) as http:
        yield http


@pytest.fixture
def endpoint() -> Iterator[MetaEndpoint]:
    server = MetaEndpoint(VERIFY)
    yield server
    server.stop()


@pytest.fixture
def endpoints() -> Iterator[list[MetaEndpoint]]:
    servers = [MetaEndpoint(VERIFY) for _ in range(3)]
    yield servers
    for server in servers:
        server.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code >= 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "OAuthException"
    return error


def subscribe_app(client: httpx.Client, url: str, fields: str = "messages", token: str = VERIFY) -> httpx.Response:
    form = {"object": "whatsapp_business_account", "callback_url": url, "verify_token": token, "fields": fields}
    return client.post(f"/{DEMO_APP_ID}/subscriptions", data={**form, "access_token": APP_TOKEN})


def app_subscriptions(client: httpx.Client) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = client.get(f"/{DEMO_APP_ID}/subscriptions", headers=bearer(APP_TOKEN)).json()["data"]
    return data


def phone_override(client: httpx.Client, url: str, token: str = VERIFY, phone: str = PHONE) -> httpx.Response:
    configuration = {"override_callback_uri": url, "verify_token": token}
    return client.post(f"/{phone}", headers=bearer(VALID_TOKEN), json={"webhook_configuration": configuration})


def webhook_configuration(client: httpx.Client, phone: str = PHONE) -> dict[str, Any]:
    params = {"fields": "webhook_configuration"}
    answer: dict[str, Any] = client.get(f"/{phone}", params=params, headers=bearer(VALID_TOKEN)).json()
    configuration: dict[str, Any] = answer["webhook_configuration"]
    return configuration


# --------------------------------------------------------------------------------------- app subscriptions


def test_the_app_has_no_subscription_until_one_is_made_and_verified(
    client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: the initial state: no app-level callback
    assert app_subscriptions(client) == []
    assert webhook_configuration(client) == {}

    # When: the app subscribes with a form body and the app token as access_token parameter
    response = subscribe_app(client, endpoint.url, fields="messages,account_update")

    # Then: Meta ran its handshake against the callback first, with our verify token and a fresh challenge
    assert response.json() == {"success": True}
    [handshake] = endpoint.gets
    assert handshake.query["hub.mode"] == "subscribe"
    assert handshake.query["hub.verify_token"] == VERIFY
    assert re.fullmatch(r"\d{10}", handshake.query["hub.challenge"])
    # And: the subscription is listed with both fields at the call's version, and is the number's application URL
    assert app_subscriptions(client) == [
        {
            "object": "whatsapp_business_account",
            "callback_url": endpoint.url,
            "active": True,
            "fields": [{"name": "messages", "version": "v25.0"}, {"name": "account_update", "version": "v25.0"}],
        }
    ]
    assert webhook_configuration(client) == {"application": endpoint.url}


def test_the_issued_app_token_works_as_bearer_with_a_json_body(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: the app token issued by the client-credentials grant, on an older version path
    body = {"object": "whatsapp_business_account", "callback_url": endpoint.url, "verify_token": VERIFY}
    body["fields"] = '["messages"]'
    headers = bearer(DEMO_APP_ACCESS_TOKEN)

    # When: it subscribes with a JSON body
    response = httpx.post(f"{simulator.base_url}/v24.0/{DEMO_APP_ID}/subscriptions", json=body, headers=headers)

    # Then: the subscription carries the call's version
    assert response.json() == {"success": True}
    assert app_subscriptions(client)[0]["fields"] == [{"name": "messages", "version": "v24.0"}]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_app_subscriptions_refuse_a_system_user_token(client: httpx.Client, method: str) -> None:
    # When: a system-user token calls the app edge
    response = client.request(method, f"/{DEMO_APP_ID}/subscriptions", headers=bearer(VALID_TOKEN))

    # Then: Graph's error 15, and nothing changes
    error = error_of(response)
    assert (response.status_code, error["code"]) == (400, 15)
    assert error["message"] == "(#15) This method must be called with an app access_token."


def test_app_subscriptions_of_an_unknown_app_do_not_exist(client: httpx.Client) -> None:
    # When: the app token reads another app's subscriptions
    response = client.get("/300000000000777/subscriptions", headers=bearer(APP_TOKEN))

    # Then: 100/33
    error = error_of(response)
    assert (error["code"], error["error_subcode"]) == (100, 33)


def test_subscribing_again_replaces_the_callback_and_adds_fields(
    client: httpx.Client, endpoints: list[MetaEndpoint]
) -> None:
    # Given: an app subscribed with messages on a first URL
    first, second, _ = endpoints
    subscribe_app(client, first.url, fields="messages")

    # When: it subscribes account_alerts on a second URL
    response = subscribe_app(client, second.url, fields="account_alerts")

    # Then: one subscription, on the second URL, with both fields (one callback per app)
    assert response.json() == {"success": True}
    [subscription] = app_subscriptions(client)
    assert subscription["callback_url"] == second.url
    assert [field["name"] for field in subscription["fields"]] == ["messages", "account_alerts"]


def test_deleting_fields_then_the_object_removes_the_subscription(client: httpx.Client, endpoint: MetaEndpoint) -> None:
    # Given: a subscription with two fields
    subscribe_app(client, endpoint.url, fields="messages,account_update")
    path = f"/{DEMO_APP_ID}/subscriptions"

    # When: one field is deleted
    client.delete(path, params={"object": "whatsapp_business_account", "fields": "messages"}, headers=bearer(APP_TOKEN))

    # Then: the other field remains
    assert [field["name"] for field in app_subscriptions(client)[0]["fields"]] == ["account_update"]

    # When: the object is deleted
    deleted = client.delete(path, params={"object": "whatsapp_business_account", "access_token": APP_TOKEN})

    # Then: nothing is left
    assert deleted.json() == {"success": True}
    assert app_subscriptions(client) == []


@pytest.mark.parametrize(
    ("misbehaviour", "expected"),
    [
        ({"verify_token": "not-ours"}, "HTTP Status Code = 403; HTTP Message = Forbidden"),
        ({"get_status": 500}, "HTTP Status Code = 500"),
        ({"get_status": 404}, "HTTP Status Code = 404"),
        ({"get_body": b"<html>hello</html>"}, 'Response does not match challenge, expected value="'),
        ({"get_delay": HANDSHAKE_TIMEOUT + 0.5}, "curl_errno = 28; curl_error = Operation timed out after"),
    ],
    ids=["wrong-verify-token", "500", "404", "body-not-the-challenge", "timeout"],
)
def test_a_failed_handshake_is_2200_and_changes_nothing(
    client: httpx.Client, endpoint: MetaEndpoint, misbehaviour: dict[str, Any], expected: str
) -> None:
    # Given: an endpoint that misbehaves on Meta's verification request
    for name, value in misbehaviour.items():
        setattr(endpoint, name, value)

    # When: the app subscribes with it
    response = subscribe_app(client, endpoint.url)

    # Then: 400 code 2200 describing the failure, and no subscription
    error = error_of(response)
    assert (response.status_code, error["code"], error["is_transient"]) == (400, 2200, False)
    assert error["message"].startswith("(#2200) Callback verification failed with the following errors: ")
    assert expected in error["message"]
    assert app_subscriptions(client) == []


def test_an_unreachable_callback_fails_the_handshake(client: httpx.Client, endpoint: MetaEndpoint) -> None:
    # Given: a URL nobody listens on
    endpoint.stop()

    # When: the app subscribes with it
    error = error_of(subscribe_app(client, endpoint.url))

    # Then: the curl error of a refused connection
    assert error["code"] == 2200
    assert "curl_errno = 7; curl_error = Failed to connect to 127.0.0.1 port" in error["message"]


def test_handshakes_are_listed_for_tests(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: a failed then a passed handshake
    subscribe_app(client, endpoint.url, token="wrong")
    subscribe_app(client, endpoint.url)

    # When: the handshakes are read over HTTP
    listed = httpx.get(f"{simulator.base_url}/__simulator__/handshakes").json()["data"]

    # Then: both, in order, with what was sent and answered
    assert [(h["verify_token"], h["status"], h["ok"]) for h in listed] == [("wrong", 403, False), (VERIFY, 200, True)]
    assert listed[1]["response"] == listed[1]["challenge"]


# ------------------------------------------------------------------------------------------- overrides


def test_a_phone_override_needs_the_apps_messages_subscription(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: no app subscription, then one without the messages field
    no_subscription = phone_override(client, endpoint.url)
    simulator.set_app_subscription(fields=("account_update",))

    # When: the number's callback is overridden
    without_messages = phone_override(client, endpoint.url)

    # Then: both fail with 100 before any handshake, and nothing is set
    for response in (no_subscription, without_messages):
        error = error_of(response)
        assert (response.status_code, error["code"]) == (400, 100)
        assert (
            "Before override the current callback uri, your app must be subscribed to receive messages"
            in (error["message"])
        )
    assert endpoint.gets == []
    assert "phone_number" not in webhook_configuration(client)


@pytest.mark.parametrize("encoding", ["json", "form", "query"])
def test_a_phone_override_is_verified_then_shown_and_removed(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint, encoding: str
) -> None:
    # Given: an app subscribed to messages (from the App Dashboard)
    simulator.set_app_subscription()
    configuration = json.dumps({"override_callback_uri": endpoint.url, "verify_token": VERIFY})

    # When: the number's override is set, with webhook_configuration as JSON, a form field or a query parameter
    request: dict[str, Any] = {
        "json": {"json": {"webhook_configuration": json.loads(configuration)}},
        "form": {"data": {"webhook_configuration": configuration}},
        "query": {"params": {"webhook_configuration": configuration}},
    }[encoding]
    response = client.post(f"/{PHONE}", headers=bearer(VALID_TOKEN), **request)

    # Then: Meta verified the override and reports it with the app callback; the other number is untouched
    assert response.json() == {"success": True}
    assert [hit.query["hub.verify_token"] for hit in endpoint.gets] == [VERIFY]
    assert webhook_configuration(client) == {"phone_number": endpoint.url, "application": DEMO_APP_CALLBACK_URL}
    assert webhook_configuration(client, OTHER_PHONE) == {"application": DEMO_APP_CALLBACK_URL}

    # When: the override is set to ""
    removed = phone_override(client, "")

    # Then: it is removed without another handshake
    assert removed.json() == {"success": True}
    assert len(endpoint.gets) == 1
    assert webhook_configuration(client) == {"application": DEMO_APP_CALLBACK_URL}


def test_a_phone_override_that_fails_verification_is_not_set(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: an app subscribed to messages
    simulator.set_app_subscription()

    # When: the override's verify token is not the one the endpoint expects
    response = phone_override(client, endpoint.url, token="someone-elses")

    # Then: 2200 and no override
    assert error_of(response)["code"] == 2200
    assert "phone_number" not in webhook_configuration(client)


def test_a_phone_override_needs_a_verify_token_and_a_url(simulator: GraphSimulator, client: httpx.Client) -> None:
    # Given: an app subscribed to messages
    simulator.set_app_subscription()

    # When: the verify token is missing, or the URL is not one
    no_token = client.post(
        f"/{PHONE}",
        headers=bearer(VALID_TOKEN),
        json={"webhook_configuration": {"override_callback_uri": "https://x.example/h"}},
    )
    not_a_url = phone_override(client, "ftp://x.example/h")

    # Then: both are invalid parameters
    assert error_of(no_token)["code"] == error_of(not_a_url)["code"] == 100


def test_a_waba_override_needs_the_messages_subscription_and_is_verified(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    path = f"/{DEMO_WABA_ID}/subscribed_apps"
    body = {"override_callback_uri": endpoint.url, "verify_token": VERIFY}

    # Given: no app subscription
    # When: the WABA override is set
    refused = client.post(path, headers=bearer(VALID_TOKEN), json=body)

    # Then: 100, no handshake, nothing subscribed
    assert "Before override the current callback uri" in error_of(refused)["message"]
    assert endpoint.gets == []
    assert client.get(path, headers=bearer(VALID_TOKEN)).json() == {"data": []}

    # Given: the app subscribed to messages, and a wrong verify token
    simulator.set_app_subscription()
    wrong = client.post(path, headers=bearer(VALID_TOKEN), json={**body, "verify_token": "nope"})

    # Then: 2200 and still nothing subscribed
    assert error_of(wrong)["code"] == 2200
    assert client.get(path, headers=bearer(VALID_TOKEN)).json() == {"data": []}

    # When: the right verify token is used
    accepted = client.post(path, headers=bearer(VALID_TOKEN), json=body)

    # Then: the app is subscribed with the override
    assert accepted.json() == {"success": True}
    assert client.get(path, headers=bearer(VALID_TOKEN)).json()["data"][0]["override_callback_uri"] == endpoint.url


# ------------------------------------------------------------------------------------- posted webhooks


def status(wamid: str = "wamid.ONE", state: str = "delivered", **extra: Any) -> dict[str, Any]:
    return {"id": wamid, "status": state, "recipient_id": CUSTOMER, **extra}


def test_webhooks_go_to_the_phone_override_then_the_waba_override_then_the_app_callback(
    simulator: GraphSimulator, endpoints: list[MetaEndpoint]
) -> None:
    app, waba, phone = endpoints
    # Given: the app's callback, and the app subscribed to the WABA
    simulator.set_app_subscription(app.url)
    simulator.set_override(DEMO_WABA_ID, None)

    # When / Then: with no override, the app callback gets it
    first = simulator.post_webhook(PHONE, statuses=[status()])
    assert (first["level"], first["url"], first["delivered"]) == ("application", app.url, True)

    # When / Then: with a WABA override, the WABA override gets it
    simulator.set_override(DEMO_WABA_ID, waba.url)
    second = simulator.post_webhook(PHONE, statuses=[status()])
    assert (second["level"], second["url"]) == ("whatsapp_business_account", waba.url)

    # When / Then: with a phone override too, the phone override gets it, and only for that number
    simulator.set_override(PHONE, phone.url)
    third = simulator.post_webhook(PHONE, statuses=[status()])
    fourth = simulator.post_webhook(OTHER_PHONE, statuses=[status()])
    assert (third["level"], third["url"]) == ("phone_number", phone.url)
    assert (fourth["level"], fourth["url"]) == ("whatsapp_business_account", waba.url)
    assert [len(server.posts) for server in (app, waba, phone)] == [1, 2, 1]
    assert simulator.effective_callback(PHONE) == {"url": phone.url, "level": "phone_number", "reason": None}


def test_template_and_account_fields_ignore_overrides(simulator: GraphSimulator, endpoints: list[MetaEndpoint]) -> None:
    app, _, phone = endpoints
    # Given: the app subscribed to template updates, a WABA subscription and a phone override
    simulator.set_app_subscription(app.url, fields=("messages", "message_template_status_update"))
    simulator.set_override(DEMO_WABA_ID, None)
    simulator.set_override(PHONE, phone.url)
    value = {"event": "APPROVED", "message_template_id": 1, "message_template_name": "x", "reason": "NONE"}

    # When: a template status update is posted for the WABA
    record = simulator.post_webhook(waba_id=DEMO_WABA_ID, field="message_template_status_update", value=value)

    # Then: it went to the app callback, verbatim
    assert (record["level"], record["url"]) == ("application", app.url)
    [hit] = app.posts
    assert hit.json()["entry"] == [
        {"id": DEMO_WABA_ID, "changes": [{"value": value, "field": "message_template_status_update"}]}
    ]


def test_nothing_is_posted_without_the_field_or_the_waba_subscription(
    simulator: GraphSimulator, endpoint: MetaEndpoint
) -> None:
    # Given: no app subscription
    nothing = simulator.post_webhook(PHONE, statuses=[status()])
    # And: an app subscription but no WABA subscription (POST /{waba}/subscribed_apps never made)
    simulator.set_app_subscription(endpoint.url)
    unsubscribed = simulator.post_webhook(PHONE, statuses=[status()])
    # And: an app subscription without the messages field
    simulator.set_app_subscription(endpoint.url, fields=("account_update",))
    simulator.set_override(DEMO_WABA_ID, None)
    no_field = simulator.post_webhook(PHONE, statuses=[status()])

    # Then: nothing was posted, each time with the reason
    assert endpoint.posts == []
    assert [(r["delivered"], r["url"], r["status"]) for r in (nothing, unsubscribed, no_field)] == [
        (False, None, None)
    ] * 3
    assert "no whatsapp_business_account subscription with the field messages" in nothing["reason"]
    assert f"not subscribed to the WABA {DEMO_WABA_ID}" in unsubscribed["reason"]
    assert "with the field messages" in no_field["reason"]


def wired(simulator: GraphSimulator, endpoint: MetaEndpoint) -> None:
    simulator.set_app_subscription(endpoint.url)
    simulator.set_override(DEMO_WABA_ID, None)


def test_the_signature_is_an_hmac_of_the_exact_raw_bytes(simulator: GraphSimulator, endpoint: MetaEndpoint) -> None:
    # Given: a wired number, and a status whose data has a slash and a non-ASCII contact name
    wired(simulator, endpoint)
    contacts = [{"profile": {"name": "Conceição"}, "wa_id": CUSTOMER}]

    # When: Meta posts it
    simulator.post_webhook(PHONE, statuses=[status(biz_opaque_callback_data="conn-42/test-7")], contacts=contacts)

    # Then: X-Hub-Signature-256 is the HMAC-SHA256 of the received bytes with the app secret
    [hit] = endpoint.posts
    expected = "sha256=" + hmac.new(DEMO_APP_SECRET.encode(), hit.raw, hashlib.sha256).hexdigest()
    assert hit.headers["x-hub-signature-256"] == expected == webhook_signature(hit.raw)
    assert hit.headers["x-hub-signature"] == "sha1=" + hmac.new(DEMO_APP_SECRET.encode(), hit.raw, "sha1").hexdigest()
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["user-agent"] == "facebookexternalua"
    # And: the bytes are Meta's escaping, so a handler that re-serialises the parsed body cannot verify it
    assert b"conn-42\\/test-7" in hit.raw
    assert b"Concei\\u00e7\\u00e3o" in hit.raw
    reserialised = json.dumps(hit.json()).encode()
    assert webhook_signature(reserialised) != hit.headers["x-hub-signature-256"]
    assert meta_json(hit.json()) == hit.raw


def test_forged_and_unsigned_webhooks(simulator: GraphSimulator, endpoint: MetaEndpoint) -> None:
    # Given: a wired number
    wired(simulator, endpoint)

    # When: one webhook is signed with another secret and one is not signed
    simulator.post_webhook(PHONE, statuses=[status()], signing_secret="an-attackers-guess")
    simulator.post_webhook(PHONE, statuses=[status()], sign=False)

    # Then: the forged signature does not verify with the app secret, and the unsigned one has no header
    forged, unsigned = endpoint.posts
    assert forged.headers["x-hub-signature-256"] == webhook_signature(forged.raw, "an-attackers-guess")
    assert forged.headers["x-hub-signature-256"] != webhook_signature(forged.raw)
    assert "x-hub-signature-256" not in unsigned.headers
    assert "x-hub-signature" not in unsigned.headers


def test_a_status_webhook_has_metas_shape(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: a wired number and a message sent through it
    wired(simulator, endpoint)
    sent = client.post(
        f"/{PHONE}/messages",
        headers=bearer(VALID_TOKEN),
        json={"messaging_product": "whatsapp", "to": f"+{CUSTOMER}", "type": "text", "text": {"body": "Hi"}},
    )
    wamid = sent.json()["messages"][0]["id"]
    pricing = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}

    # When: a failed status with an error code, pricing and opaque data is posted for it
    simulator.post_webhook(
        PHONE,
        statuses=[
            {
                "id": wamid,
                "status": "failed",
                "error_code": 131047,
                "pricing": pricing,
                "biz_opaque_callback_data": "conn-42",
                "timestamp": 1764300000,
            }
        ],
    )

    # Then: Meta's envelope, metadata from the number, recipient from the send, and Meta's error item
    [hit] = endpoint.posts
    body = hit.json()
    assert body["object"] == "whatsapp_business_account"
    [entry] = body["entry"]
    assert entry["id"] == DEMO_WABA_ID
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "15550100001", "phone_number_id": PHONE}
    assert "contacts" not in value and "messages" not in value
    [item] = value["statuses"]
    assert item["id"] == wamid
    assert (item["status"], item["timestamp"], item["recipient_id"]) == ("failed", "1764300000", CUSTOMER)
    assert (item["pricing"], item["biz_opaque_callback_data"]) == (pricing, "conn-42")
    [error] = item["errors"]
    assert (error["code"], error["title"]) == (131047, "Re-engagement message")
    assert set(error) == {"code", "title", "message", "error_data", "href"}
    assert "24 hours" in error["error_data"]["details"]


def test_an_inbound_message_webhook_has_metas_shape(simulator: GraphSimulator, endpoint: MetaEndpoint) -> None:
    # Given: a wired number
    wired(simulator, endpoint)

    # When: an inbound text is posted, with the shorthand text
    simulator.post_webhook(PHONE, messages=[{"from": CUSTOMER, "text": "Oi", "context": {"id": "wamid.PREV"}}])

    # Then: a contact with profile for the sender, and a text message with a wamid and a timestamp
    value = endpoint.posts[0].json()["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Simulated Contact"}, "wa_id": CUSTOMER}]
    [message] = value["messages"]
    assert (message["from"], message["type"], message["text"], message["context"]) == (
        CUSTOMER,
        "text",
        {"body": "Oi"},
        {"id": "wamid.PREV"},
    )
    assert message["id"].startswith("wamid.") and message["timestamp"].isdigit()


def test_several_statuses_changes_and_entries_in_one_post(simulator: GraphSimulator, endpoint: MetaEndpoint) -> None:
    # Given: a wired number
    wired(simulator, endpoint)

    # When: one POST carries two entries, the first with two changes, one of them with two statuses
    record = simulator.post_webhook(
        entries=[
            {
                "changes": [
                    {"phone_number_id": PHONE, "statuses": [status("wamid.A", "sent"), status("wamid.B", "sent")]},
                    {"phone_number_id": OTHER_PHONE, "messages": [{"from": CUSTOMER, "text": "hello"}]},
                ]
            },
            {
                "changes": [
                    {
                        "phone_number_id": PHONE,
                        "statuses": [status("wamid.A", "read")],
                        "contacts": [{"wa_id": CUSTOMER}],
                    }
                ]
            },
        ]
    )

    # Then: a single POST with every item where it was put, the contact without profile kept as given
    [hit] = endpoint.posts
    assert record["delivered"] is True
    entries = hit.json()["entry"]
    assert [len(entry["changes"]) for entry in entries] == [2, 1]
    first, second = entries[0]["changes"]
    assert [item["id"] for item in first["value"]["statuses"]] == ["wamid.A", "wamid.B"]
    assert second["value"]["metadata"]["phone_number_id"] == OTHER_PHONE
    assert second["value"]["messages"][0]["text"] == {"body": "hello"}
    assert entries[1]["changes"][0]["value"]["contacts"] == [{"wa_id": CUSTOMER}]


def test_the_webhooks_control_over_http(simulator: GraphSimulator, endpoint: MetaEndpoint) -> None:
    # Given: a number wired through the HTTP controls
    base = f"{simulator.base_url}/__simulator__"
    assert httpx.post(f"{base}/app_subscription", json={"callback_url": endpoint.url}).json() == {"success": True}
    assert httpx.post(f"{base}/override/{DEMO_WABA_ID}", json={"url": None}).json() == {"success": True}

    # When: a webhook is posted with a changes list, and two malformed ones
    posted = httpx.post(
        f"{base}/webhooks",
        json={"changes": [{"phone_number_id": PHONE, "statuses": [status()]}], "signing_secret": "forged"},
    )
    unknown_key = httpx.post(f"{base}/webhooks", json={"phone_number_id": PHONE, "statusses": []})
    unknown_phone = httpx.post(f"{base}/webhooks", json={"phone_number_id": "100000000000777", "statuses": [status()]})

    # Then: the delivery record comes back and is listed; malformed posts are 400 and 404
    record = posted.json()
    assert (record["delivered"], record["status"], record["url"], record["origin"]) == (
        True,
        200,
        endpoint.url,
        "control",
    )
    assert record["raw"].encode() == endpoint.posts[0].raw
    assert record["headers"]["X-Hub-Signature-256"] == webhook_signature(endpoint.posts[0].raw, "forged")
    assert httpx.get(f"{base}/webhooks").json()["data"] == [record]
    assert (unknown_key.status_code, unknown_phone.status_code) == (400, 404)
    assert httpx.delete(f"{base}/webhooks").json() == {"success": True}
    assert simulator.webhook_deliveries == []


def test_a_non_200_answer_is_reported(simulator: GraphSimulator, endpoint: MetaEndpoint) -> None:
    # Given: a wired number whose endpoint answers 500
    wired(simulator, endpoint)
    endpoint.post_status = 500

    # When: a webhook is posted
    record = simulator.post_webhook(PHONE, statuses=[status()])

    # Then: it was posted but not delivered (Meta would retry; the simulator does not)
    assert (record["status"], record["delivered"]) == (500, False)
    assert len(endpoint.posts) == 1


def test_the_foreign_number_routes_through_its_own_waba(simulator: GraphSimulator, endpoint: MetaEndpoint) -> None:
    # Given: the app subscribed only to the demo WABA
    wired(simulator, endpoint)

    # When: a webhook for the foreign number is posted, then after subscribing the foreign WABA
    before = simulator.post_webhook(FOREIGN_PHONE_NUMBER_ID, statuses=[status()])
    simulator.set_override(FOREIGN_WABA_ID, None)
    after = simulator.post_webhook(FOREIGN_PHONE_NUMBER_ID, statuses=[status()])

    # Then: only the second arrives, with the foreign WABA as entry id
    assert (before["delivered"], after["delivered"]) == (False, True)
    assert endpoint.posts[0].json()["entry"][0]["id"] == FOREIGN_WABA_ID
