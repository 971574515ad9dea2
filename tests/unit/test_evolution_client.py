from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from whatsapp_integrations.adapters.evolution_client import (
    VALID_EVENT_NAMES,
    EvolutionClient,
    EvolutionError,
    EvolutionInstance,
    EvolutionUnavailable,
    SendResult,
)
from whatsapp_integrations.domain.credentials import token_fingerprint
from whatsapp_integrations.domain.evolution_instance import WEBHOOK_EVENTS, WebhookConfig

pytestmark = pytest.mark.unit

BASE = "https://evolution.example.com"
API_KEY = "GLOBAL-APIKEY-0123456789"
META_TOKEN = "EAAG-FAKE-META-TOKEN-1"
HOOK_SECRET = "Bearer our-shared-secret"
PHONE_NUMBER_ID, WABA_ID = "111111111111111", "222222222222222"
INSTANCE_ID = "dc26e9fe-394e-45aa-a1e7-7dfb9375b3f2"
WAMID = "wamid.FAKEC8C4EDAB0B6C4B65A491"
HOOK_URL = "https://api.example.com/evolution/hooks/tenant1"

Handler = Callable[[httpx.Request], httpx.Response]


def webhook(events: tuple[str, ...] = WEBHOOK_EVENTS, enabled: bool = True) -> WebhookConfig:
    return WebhookConfig(
        url=HOOK_URL, headers={"X-Tenant": "t1", "Authorization": HOOK_SECRET}, events=events, enabled=enabled
    )


def evolution(handler: Handler, seen: list[httpx.Request] | None = None) -> EvolutionClient:
    """An Evolution client over httpx.MockTransport (test double; no sockets)."""

    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return EvolutionClient(httpx.Client(transport=httpx.MockTransport(record)), BASE + "/", API_KEY)


def answer(status: int, body: Any) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def envelope(status: int, error: str, message: Any) -> dict[str, Any]:
    return {"status": status, "error": error, "response": {"message": message}}


def sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content)


CREATE_OK = {
    "instance": {
        "instanceName": "tenant1-wa",
        "instanceId": INSTANCE_ID,
        "integration": "WHATSAPP-BUSINESS",
        "webhookWaBusiness": "https://evolution.example.com/webhook/meta",
        "accessTokenWaBusiness": "verify-me",
        "status": "open",
    },
    "hash": META_TOKEN,
    "webhook": {
        "webhookUrl": HOOK_URL,
        "webhookHeaders": {"X-Tenant": "t1", "Authorization": HOOK_SECRET},
        "webhookByEvents": False,
        "webhookBase64": False,
    },
    "websocket": {},
    "rabbitmq": {},
    "nats": {},
    "sqs": {},
    "settings": {"rejectCall": False, "msgCall": ""},
}
FETCH_ROW = {
    "id": INSTANCE_ID,
    "name": "tenant1-wa",
    "connectionStatus": "open",
    "ownerJid": None,
    "integration": "WHATSAPP-BUSINESS",
    "number": PHONE_NUMBER_ID,
    "businessId": WABA_ID,
    "token": META_TOKEN,
    "clientName": "evolution_exchange",
    "Setting": {"rejectCall": False},
    "_count": {"Message": 0, "Contact": 0, "Chat": 0},
}
WEBHOOK_ROW = {
    "id": "cmx19dc2c0001us7dwqugjhsz",
    "url": HOOK_URL,
    "headers": {"X-Tenant": "t1", "Authorization": HOOK_SECRET},
    "enabled": True,
    "events": list(WEBHOOK_EVENTS),
    "webhookByEvents": False,
    "webhookBase64": False,
    "createdAt": "2026-11-29T03:07:12.084Z",
    "updatedAt": "2026-11-29T03:07:25.918Z",
    "instanceId": INSTANCE_ID,
}
SEND_OK = {
    "key": {"fromMe": True, "id": WAMID, "remoteJid": "5511999990000@s.whatsapp.net"},
    "message": {"conversation": "Hello from test"},
    "messageType": "conversation",
    "messageTimestamp": 1795921652,
    "instanceId": INSTANCE_ID,
    "status": "PENDING",
    "source": "unknown",
}
GRAPH_NO_ERROR = "TypeError: Cannot read properties of undefined (reading 'message')"


def test_the_events_we_consume_are_valid_config_names() -> None:
    # Given the 31 names of section 6.3 and the events we consume
    # When they are compared
    # Then every consumed event is a valid UPPER_SNAKE config name
    assert len(VALID_EVENT_NAMES) == 31
    assert set(WEBHOOK_EVENTS) <= VALID_EVENT_NAMES
    assert all(name.isupper() and "." not in name for name in VALID_EVENT_NAMES)


def test_create_sends_the_documented_body_with_the_global_key() -> None:
    # Given Evolution accepts the instance
    seen: list[httpx.Request] = []
    client = evolution(answer(201, CREATE_OK), seen)

    # When a business instance is created
    instance = client.create_instance(
        name="tenant1-wa", meta_token=META_TOKEN, phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID, webhook=webhook()
    )

    # Then the body is exactly the documented one, with the webhook nested and its events as a list
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == "/instance/create"
    assert request.headers["apikey"] == API_KEY
    assert sent_json(request) == {
        "instanceName": "tenant1-wa",
        "integration": "WHATSAPP-BUSINESS",
        "token": META_TOKEN,
        "number": PHONE_NUMBER_ID,
        "businessId": WABA_ID,
        "webhook": {
            "url": HOOK_URL,
            "headers": {"X-Tenant": "t1", "Authorization": HOOK_SECRET},
            "byEvents": False,
            "base64": False,
            "events": list(WEBHOOK_EVENTS),
        },
    }
    # And the instance is kept without the token echoed as `hash`
    assert instance == EvolutionInstance(
        name="tenant1-wa",
        instance_id=INSTANCE_ID,
        number=PHONE_NUMBER_ID,
        business_id=WABA_ID,
        integration="WHATSAPP-BUSINESS",
        connection_status="open",
    )
    assert META_TOKEN not in repr(instance)


@pytest.mark.parametrize("bad", ["MESSAGES_BOGUS", "messages.update", "messages-update"])
def test_create_refuses_an_event_name_evolution_would_silently_ignore(bad: str) -> None:
    # Given a webhook config with an unknown or dotted event name (create does not validate them server-side)
    seen: list[httpx.Request] = []
    client = evolution(answer(201, CREATE_OK), seen)

    # When the instance is created
    # Then it is refused locally and nothing is sent
    with pytest.raises(ValueError, match="unknown Evolution webhook event names"):
        client.create_instance(
            name="tenant1-wa",
            meta_token=META_TOKEN,
            phone_number_id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            webhook=webhook(events=("MESSAGES_UPSERT", bad)),
        )
    assert seen == []


def test_create_with_a_name_in_use_is_name_in_use() -> None:
    # Given the name is taken (403 comes before the apikey check)
    client = evolution(answer(403, envelope(403, "Forbidden", ['This name "tenant1-wa" is already in use.'])))

    # When the instance is created
    with pytest.raises(EvolutionError) as caught:
        client.create_instance(
            name="tenant1-wa",
            meta_token=META_TOKEN,
            phone_number_id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            webhook=webhook(),
        )

    # Then the error says so, without the token or the header secret
    error = caught.value
    assert error.name_in_use and not error.not_found and not error.unauthorized and not error.bad_request
    assert error.status == 403 and error.reason == "Forbidden"
    assert error.messages == ['This name "tenant1-wa" is already in use.']
    for secret in (META_TOKEN, HOOK_SECRET, API_KEY):
        assert secret not in str(error) and secret not in repr(error)


def test_secrets_echoed_in_an_error_message_are_redacted() -> None:
    # Given Evolution echoes the token, the apikey and both header values ("t1" is short) in its 400 message
    echoed = f"bad token {META_TOKEN} / {HOOK_SECRET} / {API_KEY} / tenant t1"
    client = evolution(answer(400, envelope(400, "Bad Request", [echoed])))

    # When the instance is created
    with pytest.raises(EvolutionError) as caught:
        client.create_instance(
            name="t", meta_token=META_TOKEN, phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID, webhook=webhook()
        )

    # Then none of them reaches the exception text or attributes
    text = str(caught.value) + repr(caught.value) + " ".join(caught.value.messages)
    for secret in (META_TOKEN, HOOK_SECRET, API_KEY, "tenant t1"):
        assert secret not in text
    assert caught.value.messages == ["bad token [redacted] / [redacted] / [redacted] / tenant [redacted]"]


@pytest.mark.parametrize(
    ("status", "body", "messages", "flag"),
    [
        (400, envelope(400, "Bad Request", ["number is required"]), ["number is required"], "bad_request"),
        (401, envelope(401, "Unauthorized", "Unauthorized"), ["Unauthorized"], "unauthorized"),
        (
            400,
            envelope(400, "Bad Request", [['instance requires property "text"']]),
            ['instance requires property "text"'],
            "bad_request",
        ),
        (
            404,
            envelope(404, "Not Found", ['The "nope" instance does not exist']),
            ['The "nope" instance does not exist'],
            "not_found",
        ),
    ],
    ids=["array", "string-unauthorized", "nested-array", "not-found"],
)
def test_every_4xx_envelope_form_is_flattened(
    status: int, body: dict[str, Any], messages: list[str], flag: str
) -> None:
    # Given Evolution answers with one of the envelope forms of section 4
    client = evolution(answer(status, body))

    # When the connection state is asked
    with pytest.raises(EvolutionError) as caught:
        client.connection_state("nope")

    # Then the messages are a flat list of strings and the matching property is set
    assert caught.value.status == status
    assert caught.value.reason == body["error"]
    assert caught.value.messages == messages
    assert getattr(caught.value, flag) is True
    assert API_KEY not in str(caught.value)


def test_a_500_envelope_is_transient_and_keeps_its_details() -> None:
    # Given Evolution crashes with a 500 whose message is a bare string
    body = envelope(500, "Internal Server Error", "Cannot read properties of undefined (reading 'length')")
    client = evolution(answer(500, body))

    # When a webhook is set
    with pytest.raises(EvolutionUnavailable) as caught:
        client.set_webhook("tenant1-wa", webhook())

    # Then it is EvolutionUnavailable with the status, reason and messages kept
    assert caught.value.status == 500
    assert caught.value.reason == "Internal Server Error"
    assert caught.value.messages == ["Cannot read properties of undefined (reading 'length')"]
    assert HOOK_SECRET not in str(caught.value) and API_KEY not in str(caught.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(503, json={"unexpected": True}),
        httpx.Response(200, text="OK"),
    ],
    ids=["5xx-html", "5xx-json-without-envelope", "2xx-not-json"],
)
def test_a_5xx_or_non_json_answer_is_unavailable(response: httpx.Response) -> None:
    # Given Evolution (or a proxy in front of it) answers without a usable JSON body
    client = evolution(lambda request: response)

    # When the connection state is asked
    # Then the failure is transient
    with pytest.raises(EvolutionUnavailable) as caught:
        client.connection_state("tenant1-wa")
    assert caught.value.status == response.status_code


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout],
    ids=["network-error", "read-timeout", "connect-timeout"],
)
def test_network_failures_are_unavailable_without_the_key(failure: type[httpx.TransportError]) -> None:
    # Given the transport fails, with the URL and key available to the exception
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure(f"failed {request.url} {request.headers['apikey']}", request=request)

    client = evolution(fail)

    # When a message is sent
    with pytest.raises(EvolutionUnavailable) as caught:
        client.send_text("tenant1-wa", to="5511999990000", text="hi")

    # Then the error is transient, names the failure, and leaks neither the key nor the URL
    error = caught.value
    assert failure.__name__ in str(error)
    assert API_KEY not in str(error) and API_KEY not in repr(error)
    assert BASE not in str(error)
    assert error.__cause__ is None and error.__suppress_context__


def test_fetch_returns_the_instance_without_its_token() -> None:
    # Given the instance exists (fetchInstances always includes the token)
    seen: list[httpx.Request] = []
    client = evolution(answer(200, [FETCH_ROW]), seen)

    # When it is fetched by name
    instance = client.fetch_instance("tenant1-wa")

    # Then the name is a query parameter and the token is not kept
    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/instance/fetchInstances"
    assert request.url.params["instanceName"] == "tenant1-wa"
    assert instance == EvolutionInstance(
        name="tenant1-wa",
        instance_id=INSTANCE_ID,
        number=PHONE_NUMBER_ID,
        business_id=WABA_ID,
        integration="WHATSAPP-BUSINESS",
        connection_status="open",
        token_fingerprint=token_fingerprint(META_TOKEN),
    )
    # The instance token is the Meta token: only its fingerprint is kept, to compare with the stored one
    assert META_TOKEN not in repr(instance)


def test_fetch_of_an_unknown_instance_is_none() -> None:
    # Given Evolution answers 404 Instance "x" not found
    client = evolution(answer(404, envelope(404, "Not Found", ['Instance "nope" not found'])))

    # When it is fetched
    # Then the answer is None
    assert client.fetch_instance("nope") is None


def test_connection_state_is_read_from_the_instance_object() -> None:
    # Given a business instance that is "open"
    seen: list[httpx.Request] = []
    client = evolution(answer(200, {"instance": {"instanceName": "tenant1-wa", "state": "open"}}), seen)

    # When its state is asked
    # Then it is "open"
    assert client.connection_state("tenant1-wa") == "open"
    assert seen[0].url.path == "/instance/connectionState/tenant1-wa"


def test_delete_is_true_then_false_once_gone() -> None:
    # Given an instance that is deleted once and then no longer exists
    answers = iter(
        [
            httpx.Response(
                200, json={"status": "SUCCESS", "error": False, "response": {"message": "Instance deleted"}}
            ),
            httpx.Response(404, json=envelope(404, "Not Found", ['The "tenant1-wa" instance does not exist'])),
        ]
    )
    seen: list[httpx.Request] = []
    client = evolution(lambda request: next(answers), seen)

    # When it is deleted twice
    # Then the first delete is True and the second False
    assert client.delete_instance("tenant1-wa") is True
    assert client.delete_instance("tenant1-wa") is False
    assert [(r.method, r.url.path) for r in seen] == [("DELETE", "/instance/delete/tenant1-wa")] * 2


def test_set_webhook_sends_the_nested_body_and_returns_the_row() -> None:
    # Given Evolution stores the webhook
    seen: list[httpx.Request] = []
    client = evolution(answer(201, WEBHOOK_ROW), seen)

    # When the webhook is set
    stored = client.set_webhook("tenant1-wa", webhook())

    # Then the body is nested under "webhook" with every field present
    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/webhook/set/tenant1-wa")
    assert sent_json(request) == {
        "webhook": {
            "enabled": True,
            "url": HOOK_URL,
            "headers": {"X-Tenant": "t1", "Authorization": HOOK_SECRET},
            "byEvents": False,
            "base64": False,
            "events": list(WEBHOOK_EVENTS),
        }
    }
    # And the stored row is read back
    assert stored == webhook()


def test_find_webhook_is_none_when_never_set_and_the_row_otherwise() -> None:
    # Given one instance without a webhook (JSON null) and one with a row using the row's field names
    row = {**WEBHOOK_ROW, "webhookByEvents": True, "webhookBase64": True, "enabled": False, "events": []}
    answers = iter([httpx.Response(200, content=b"null"), httpx.Response(200, json=row)])
    seen: list[httpx.Request] = []
    client = evolution(lambda request: next(answers), seen)

    # When the webhooks are found
    # Then null is None and the row maps webhookByEvents / webhookBase64
    assert client.find_webhook("tenant0-wa") is None
    assert client.find_webhook("tenant1-wa") == WebhookConfig(
        url=HOOK_URL,
        headers={"X-Tenant": "t1", "Authorization": HOOK_SECRET},
        events=(),
        by_events=True,
        base64=True,
        enabled=False,
    )
    assert seen[0].url.path == "/webhook/find/tenant0-wa"


def test_webhook_config_repr_hides_header_values() -> None:
    # Given a config whose headers carry our secret
    config = webhook()

    # When it is printed
    # Then the header names show but not their values
    assert HOOK_SECRET not in repr(config) and HOOK_SECRET not in str(config)
    assert "Authorization" in repr(config)


def test_send_text_success_is_the_key_id() -> None:
    # Given Evolution and Graph accept the message
    seen: list[httpx.Request] = []
    client = evolution(answer(201, SEND_OK), seen)

    # When a text is sent
    result = client.send_text("tenant1-wa", to="5511999990000", text="Hello from test")

    # Then the wamid is the key id
    assert result == SendResult(wamid=WAMID, meta_error=None)
    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/message/sendText/tenant1-wa")
    assert sent_json(request) == {"number": "5511999990000", "text": "Hello from test", "linkPreview": False}


@pytest.mark.parametrize(
    ("body", "meta_error"),
    [
        (
            {
                "message": "(#131030) Recipient phone number not in allowed list",
                "type": "OAuthException",
                "code": 131030,
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": "Recipient phone number not in allowed list",
                },
                "fbtrace_id": "AbCdEfFake",
            },
            {
                "code": 131030,
                "subcode": None,
                "message": "(#131030) Recipient phone number not in allowed list",
                "fbtrace_id": "AbCdEfFake",
            },
        ),
        (
            {
                "message": "Error validating access token: Session has expired",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
                "fbtrace_id": "AbCdEfFake2",
            },
            {
                "code": 190,
                "subcode": 463,
                "message": "Error validating access token: Session has expired",
                "fbtrace_id": "AbCdEfFake2",
            },
        ),
    ],
    ids=["131030-not-in-allowed-list", "190-463-expired-token"],
)
def test_send_text_201_with_a_meta_error_is_a_failed_result(body: dict[str, Any], meta_error: dict[str, Any]) -> None:
    # Given Graph refused the message and Evolution still answered 201 with Meta's error flattened
    client = evolution(answer(201, body))

    # When a text is sent
    result = client.send_text("tenant1-wa", to="5511999990000", text="hi")

    # Then there is no wamid and Meta's error is kept
    assert result == SendResult(wamid=None, meta_error=meta_error)
    assert not result.ok


def test_send_text_400_type_error_means_graph_gave_no_error_object() -> None:
    # Given Graph failed without an error object and Evolution answered the TypeError 400
    client = evolution(answer(400, envelope(400, "Bad Request", [GRAPH_NO_ERROR])))

    # When a text is sent
    # Then the failure is transient
    with pytest.raises(EvolutionUnavailable) as caught:
        client.send_text("tenant1-wa", to="5511999990000", text="hi")
    assert caught.value.status == 400
    assert caught.value.messages == [GRAPH_NO_ERROR]


def test_send_text_other_400_is_an_evolution_error() -> None:
    # Given a validation failure
    client = evolution(answer(400, envelope(400, "Bad Request", [['instance requires property "text"']])))

    # When a text is sent
    # Then it is a (permanent) EvolutionError
    with pytest.raises(EvolutionError) as caught:
        client.send_text("tenant1-wa", to="5511999990000", text="")
    assert caught.value.bad_request


def test_the_apikey_header_is_sent_on_every_call() -> None:
    # Given a server that answers each route
    routes: dict[str, httpx.Response] = {
        "/instance/create": httpx.Response(201, json=CREATE_OK),
        "/instance/fetchInstances": httpx.Response(200, json=[FETCH_ROW]),
        "/instance/connectionState/tenant1-wa": httpx.Response(200, json={"instance": {"state": "open"}}),
        "/instance/delete/tenant1-wa": httpx.Response(200, json={"status": "SUCCESS"}),
        "/webhook/set/tenant1-wa": httpx.Response(201, json=WEBHOOK_ROW),
        "/webhook/find/tenant1-wa": httpx.Response(200, json=WEBHOOK_ROW),
        "/message/sendText/tenant1-wa": httpx.Response(201, json=SEND_OK),
    }
    seen: list[httpx.Request] = []
    client = evolution(lambda request: routes[request.url.path], seen)

    # When every method is called
    client.create_instance(
        name="tenant1-wa", meta_token=META_TOKEN, phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID, webhook=webhook()
    )
    client.fetch_instance("tenant1-wa")
    client.connection_state("tenant1-wa")
    client.set_webhook("tenant1-wa", webhook())
    client.find_webhook("tenant1-wa")
    client.send_text("tenant1-wa", to="5511999990000", text="hi")
    client.delete_instance("tenant1-wa")

    # Then each request carried the global key in `apikey` and no Authorization header
    assert len(seen) == len(routes)
    assert all(request.headers.get("apikey") == API_KEY for request in seen)
    assert all("authorization" not in request.headers for request in seen)


@pytest.mark.parametrize(
    ("name", "encoded"),
    [("tenant 1 wa", b"tenant%201%20wa"), ("a/b?c#d", b"a%2Fb%3Fc%23d")],
)
def test_instance_names_are_url_encoded_in_paths(name: str, encoded: bytes) -> None:
    # Given an instance name with spaces or URL delimiters
    seen: list[httpx.Request] = []
    client = evolution(answer(200, {"instance": {"instanceName": name, "state": "open"}}), seen)

    # When a per-instance route is called
    client.connection_state(name)

    # Then the name is one percent-encoded path segment
    assert seen[0].url.raw_path == b"/instance/connectionState/" + encoded


def test_webhook_config_round_trips_through_set_and_its_stored_row() -> None:
    # Given a config, and an Evolution that stores what it is sent and answers the row (section 6.1)
    config = WebhookConfig(url=HOOK_URL, headers={}, events=["SEND_MESSAGE"], by_events=True)  # type: ignore[arg-type]

    def store(request: httpx.Request) -> httpx.Response:
        body = sent_json(request)["webhook"]
        row = {
            "url": body["url"],
            "headers": body["headers"],
            "enabled": body["enabled"],
            "events": body["events"],
            "webhookByEvents": body["byEvents"],
            "webhookBase64": body["base64"],
        }
        return httpx.Response(201, json=row)

    # When it is set
    stored = evolution(store).set_webhook("tenant1-wa", config)

    # Then nothing is lost and events are a tuple
    assert stored == config
    assert config.events == ("SEND_MESSAGE",)


def test_create_refuses_a_disabled_webhook() -> None:
    # Given a disabled webhook config (create forces the webhook enabled)
    seen: list[httpx.Request] = []
    client = evolution(answer(201, CREATE_OK), seen)

    # When the instance is created
    # Then it is refused locally and nothing is sent
    with pytest.raises(ValueError, match="always enables the webhook"):
        client.create_instance(
            name="tenant1-wa",
            meta_token=META_TOKEN,
            phone_number_id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            webhook=webhook(enabled=False),
        )
    assert seen == []
