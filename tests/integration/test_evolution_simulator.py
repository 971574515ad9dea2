import itertools
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest

from local.evolution_simulator import EVENTS, EvolutionSimulator, create_jid, retry_delay
from local.graph_simulator import DEMO_PHONE_NUMBER_IDS, EXPIRED_TOKEN, GraphSimulator

pytestmark = pytest.mark.integration

KEY = "test-global-key"
TOKEN = "EAAG-FAKE-META-TOKEN-1"
OTHER_TOKEN = "EAAG-FAKE-META-TOKEN-2"
PHONE_ID = "111111111111111"
WABA_ID = "222222222222222"
CUSTOMER = "5511999990000"
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
ENVELOPE_KEYS = {"event", "instance", "data", "destination", "date_time", "server_url", "apikey"}
BASE = 0.05
JWT_KEY = "s3cret-of-at-least-32-bytes-0123456789"


# ------------------------------------------------------------------------------- webhook receiver


@dataclass(frozen=True)
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class Receiver:
    """A tiny stdlib HTTP server that records every request and answers planned statuses (default 200)."""

    def __init__(self) -> None:
        self.requests: list[Captured] = []
        self.plan: list[tuple[int, bytes, str]] = []
        self._condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._condition:
                    receiver.requests.append(Captured(self.command, self.path, headers, body))
                    status, payload, content_type = receiver.plan.pop(0) if receiver.plan else (200, b"{}", "json")
                    receiver._condition.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", f"application/{content_type}")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def answer(self, *statuses: int) -> None:
        self.plan.extend((status, b'{"ok":false}', "json") for status in statuses)

    def answer_json(self, status: int, body: Any) -> None:
        self.plan.append((status, json.dumps(body).encode(), "json"))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Captured]:
        with self._condition:
            self._condition.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def sim() -> Iterator[EvolutionSimulator]:
    simulator = EvolutionSimulator(
        api_key=KEY, retry_base_seconds=BASE, retry_max_seconds=0.2, max_attempts=4, webhook_timeout_seconds=2.0
    )
    with simulator:
        yield simulator


@pytest.fixture(autouse=True)
def fresh_state(sim: EvolutionSimulator) -> None:
    sim.reset()


@pytest.fixture
def client(sim: EvolutionSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, headers={"apikey": KEY}, timeout=5.0) as http:
        yield http


@pytest.fixture
def anonymous(sim: EvolutionSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, timeout=5.0) as http:
        yield http


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphSimulator]:
    with GraphSimulator() as simulator:
        yield simulator


def create(
    client: httpx.Client, name: str = "tenant1-wa", token: str = TOKEN, number: str = PHONE_ID, **extra: Any
) -> httpx.Response:
    body = {"instanceName": name, "integration": "WHATSAPP-BUSINESS", "token": token, "number": number, **extra}
    return client.post("/instance/create", json=body)


def hook(receiver: Receiver, *events: str, **extra: Any) -> dict[str, Any]:
    return {"url": f"{receiver.url}/hooks/t1", "events": list(events), **extra}


def envelope_error(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"status", "error", "response"}
    assert body["status"] == status
    return body["response"]["message"]


def deliveries_of(sim: EvolutionSimulator, event: str) -> list[dict[str, Any]]:
    assert sim.wait_for_deliveries(5.0)
    return [entry for entry in sim.deliveries if entry["event"] == event]


# ------------------------------------------------------------------------------------------ basics


def test_root_is_public_version_info_labelled_as_a_simulator(anonymous: httpx.Client) -> None:
    # When: the root is read without a key
    response = anonymous.get("/")

    # Then: it is Evolution's welcome with version 2.3.7, labelled as a simulator
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 200
    assert body["message"] == "Welcome to the Evolution API, it is working!"
    assert body["version"] == "2.3.7"
    assert response.headers["x-simulator"] == "evolution-api"
    assert "simulator" in response.headers["server"].lower()


def test_unknown_route_is_404_cannot_method_url(anonymous: httpx.Client) -> None:
    # When: an unknown route and a known path with the wrong method are called
    unknown = anonymous.post("/unknown/route?x=1", json={})
    wrong_method = anonymous.get("/instance/create")

    # Then: both are Express-style 404s with the URL as received
    assert envelope_error(unknown, 404) == ["Cannot POST /unknown/route?x=1"]
    assert envelope_error(wrong_method, 404) == ["Cannot GET /instance/create"]
    assert unknown.json()["error"] == "Not Found"


def test_the_31_event_names() -> None:
    # Then: the allowed list is the one of section 6.3
    assert len(EVENTS) == 31
    assert {"MESSAGES_UPDATE", "SEND_MESSAGE", "REMOVE_INSTANCE", "GROUP_UPDATE"} <= set(EVENTS)
    assert "GROUPS_UPDATE" not in EVENTS


# -------------------------------------------------------------------------------- auth and guards


def test_guard_order_unknown_instance_is_404_even_without_a_key(client: httpx.Client, anonymous: httpx.Client) -> None:
    # Given: one instance
    create(client)

    # When: an unknown instance is read without a key, and the known one without / with a wrong key
    unknown = anonymous.get("/instance/connectionState/nope")
    no_key = anonymous.get("/instance/connectionState/tenant1-wa")
    wrong_key = anonymous.get("/instance/connectionState/tenant1-wa", headers={"apikey": "wrong"})

    # Then: 404 before auth, then 401 with the bare string message
    assert envelope_error(unknown, 404) == ['The "nope" instance does not exist']
    assert no_key.json() == {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}
    assert envelope_error(wrong_key, 401) == "Unauthorized"


def test_instance_token_works_for_its_own_instance_only(client: httpx.Client, anonymous: httpx.Client) -> None:
    # Given: two instances with different Meta tokens
    create(client, "a", token=TOKEN)
    create(client, "b", token=OTHER_TOKEN, number="333333333333333")

    # When: a's token reads a and b, and tries to create
    own = anonymous.get("/instance/connectionState/a", headers={"apikey": TOKEN})
    other = anonymous.get("/instance/connectionState/b", headers={"apikey": TOKEN})
    created = anonymous.post(
        "/instance/create",
        headers={"apikey": TOKEN},
        json={"instanceName": "c", "integration": "WHATSAPP-BUSINESS", "token": TOKEN, "number": PHONE_ID},
    )

    # Then: only its own instance is reachable, and create needs the global key
    assert own.status_code == 200
    assert own.json() == {"instance": {"instanceName": "a", "state": "open"}}
    assert envelope_error(other, 401) == "Unauthorized"
    assert envelope_error(created, 401) == "Unauthorized"


def test_create_with_a_used_name_is_403_even_without_a_key(client: httpx.Client, anonymous: httpx.Client) -> None:
    # Given: an instance
    create(client)

    # When: the same name is created again with and without a key, and a new name without a key
    again = create(client)
    again_anonymous = create(anonymous)
    new_anonymous = create(anonymous, "fresh")

    # Then: 403 before auth for the used name, 401 for the new one
    for response in (again, again_anonymous):
        assert envelope_error(response, 403) == ['This name "tenant1-wa" is already in use.']
        assert response.json()["error"] == "Forbidden"
    assert envelope_error(new_anonymous, 401) == "Unauthorized"


# ------------------------------------------------------------------------------------------ create


def test_create_answers_the_documented_shape(sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver) -> None:
    # Given: a business instance with a webhook
    headers = {"X-Tenant": "t1", "Authorization": "Bearer our-shared-secret"}

    # When: it is created
    response = create(client, businessId=WABA_ID, webhook=hook(receiver, "SEND_MESSAGE", headers=headers))

    # Then: 201 with the 2.3.7 shape; hash is the Meta token; the webhook is echoed from the request
    assert response.status_code == 201
    body = response.json()
    instance = body["instance"]
    assert uuid.UUID(instance["instanceId"]).version == 4
    assert instance == {
        "instanceName": "tenant1-wa",
        "instanceId": instance["instanceId"],
        "integration": "WHATSAPP-BUSINESS",
        "webhookWaBusiness": f"{sim.base_url}/webhook/meta",
        "accessTokenWaBusiness": "evolution",
        "status": "open",
    }
    assert body["hash"] == TOKEN
    assert body["webhook"] == {"webhookUrl": f"{receiver.url}/hooks/t1", "webhookHeaders": headers}
    for sink in ("websocket", "rabbitmq", "nats", "sqs"):
        assert body[sink] == {}
    assert body["settings"] == {
        "rejectCall": False,
        "msgCall": "",
        "groupsIgnore": False,
        "alwaysOnline": False,
        "readMessages": False,
        "readStatus": False,
        "syncFullHistory": False,
        "wavoipToken": "",
    }
    assert "qrcode" not in body
    assert sim.instances["tenant1-wa"]["id"] == instance["instanceId"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"integration": None}, ["Invalid integration"]),
        ({"integration": "FOO"}, ["Invalid integration"]),
        ({"token": None}, ["token is required"]),
        ({"number": None}, ["number is required"]),
        ({"number": "1"}, [['number does not match pattern "^\\\\d+[\\\\.@\\\\w-]+"']]),
        ({"instanceName": ""}, [['The "instanceName" cannot be empty']]),
        ({"token": 5}, [["token is not of a type(s) string"]]),
        ({"webhook": {"url": "http://127.0.0.1:9/x"}}, ["Cannot read properties of undefined (reading 'length')"]),
    ],
)
def test_create_validation_errors_create_nothing(
    sim: EvolutionSimulator, client: httpx.Client, changes: dict[str, Any], message: Any
) -> None:
    # Given: a create body with one defect
    body: dict[str, Any] = {
        "instanceName": "bad",
        "integration": "WHATSAPP-BUSINESS",
        "token": TOKEN,
        "number": PHONE_ID,
    }
    body.update(changes)
    body = {key: value for key, value in body.items() if value is not None}

    # When: it is posted
    response = client.post("/instance/create", json=body)

    # Then: 400 with the documented message form, and no instance exists
    assert envelope_error(response, 400) == message
    assert response.json()["error"] == "Bad Request"
    assert sim.instances == {}


def test_create_without_number_emits_create_then_remove(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver
) -> None:
    # When: a webhook is configured but the number is missing (checked after instance.create is emitted)
    response = client.post(
        "/instance/create",
        json={
            "instanceName": "tenant1-wa",
            "integration": "WHATSAPP-BUSINESS",
            "token": TOKEN,
            "webhook": hook(receiver, "INSTANCE_CREATE", "REMOVE_INSTANCE"),
        },
    )

    # Then: 400 number is required, the instance is rolled back, and both events were emitted in that order
    assert envelope_error(response, 400) == ["number is required"]
    assert "tenant1-wa" not in sim.instances
    assert sim.wait_for_deliveries()
    emitted = sorted(sim.deliveries, key=lambda entry: entry["seq"])
    assert [entry["event"] for entry in emitted] == ["instance.create", "remove.instance"]


def test_create_event_names_are_not_validated_and_wrong_ones_never_deliver(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver
) -> None:
    # Given: an instance created with a dotted (wrong) event name
    response = create(client, webhook=hook(receiver, "send.message"))
    assert response.status_code == 201

    # When: a message is sent
    sent = client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "hi"})

    # Then: the name was stored as given and nothing was delivered
    assert sent.status_code == 201
    assert client.get("/webhook/find/tenant1-wa").json()["events"] == ["send.message"]
    assert sim.wait_for_deliveries()
    assert sim.deliveries == []
    assert receiver.requests == []


def test_instance_create_event_only_when_configured(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver
) -> None:
    # When: one instance subscribes to INSTANCE_CREATE, one to all events ([]), one to something else
    create(client, "a", webhook=hook(receiver, "INSTANCE_CREATE"))
    create(client, "b", webhook=hook(receiver))
    create(client, "c", webhook=hook(receiver, "SEND_MESSAGE"))

    # Then: a and b got instance.create with name and id; [] was stored as all 31 events
    created = deliveries_of(sim, "instance.create")
    assert sorted(entry["instance"] for entry in created) == ["a", "b"]
    for entry in created:
        data = entry["body"]["data"]
        assert data == {"instanceName": entry["instance"], "instanceId": sim.instances[entry["instance"]]["id"]}
    assert client.get("/webhook/find/b").json()["events"] == list(EVENTS)


# --------------------------------------------------------------------------------- fetchInstances


def test_fetch_instances_rows_and_filters(client: httpx.Client, anonymous: httpx.Client) -> None:
    # Given: two instances sharing a token and one with another token
    a = create(client, "a", businessId=WABA_ID).json()["instance"]["instanceId"]
    create(client, "b", number="333333333333333")
    create(client, "c", token=OTHER_TOKEN, number="444444444444444")

    # When: the instances are listed with the global key and with filters
    everything = client.get("/instance/fetchInstances").json()
    by_name = client.get("/instance/fetchInstances", params={"instanceName": "b"}).json()
    by_id = client.get("/instance/fetchInstances", params={"instanceId": a}).json()
    by_number = client.get("/instance/fetchInstances", params={"number": "444444444444444"}).json()

    # Then: every row has the DB shape, token included and no Webhook relation
    assert [row["name"] for row in everything] == ["a", "b", "c"]
    row = everything[0]
    assert row["id"] == a
    assert row["connectionStatus"] == "open"
    assert row["integration"] == "WHATSAPP-BUSINESS"
    assert (row["number"], row["businessId"], row["token"]) == (PHONE_ID, WABA_ID, TOKEN)
    assert row["clientName"] == "evolution_exchange"
    assert row["_count"] == {"Message": 0, "Contact": 0, "Chat": 0}
    assert row["Setting"]["instanceId"] == a
    assert "Webhook" not in row
    assert everything[1]["businessId"] is None
    assert [r["name"] for r in by_name] == ["b"]
    assert [r["name"] for r in by_id] == ["a"]
    assert [r["name"] for r in by_number] == ["c"]


def test_fetch_instances_unknown_filters_are_404(client: httpx.Client) -> None:
    # Given: one instance
    create(client)

    # When: unknown name and id are asked for
    by_name = client.get("/instance/fetchInstances", params={"instanceName": "nope"})
    by_id = client.get("/instance/fetchInstances", params={"instanceId": "0000"})

    # Then: 404 Instance "x" not found
    assert envelope_error(by_name, 404) == ['Instance "nope" not found']
    assert envelope_error(by_id, 404) == ['Instance "0000" not found']


def test_fetch_instances_with_an_instance_token(client: httpx.Client, anonymous: httpx.Client) -> None:
    # Given: two instances sharing TOKEN and one with OTHER_TOKEN
    create(client, "a")
    create(client, "b", number="333333333333333")
    create(client, "c", token=OTHER_TOKEN, number="444444444444444")

    # When: TOKEN lists instances, filtered to its own and to another's name, and an unknown key lists
    own = anonymous.get("/instance/fetchInstances", headers={"apikey": TOKEN})
    filtered = anonymous.get("/instance/fetchInstances", params={"instanceName": "b"}, headers={"apikey": TOKEN})
    foreign = anonymous.get("/instance/fetchInstances", params={"instanceName": "c"}, headers={"apikey": TOKEN})
    unknown = anonymous.get("/instance/fetchInstances", headers={"apikey": "nobody"})

    # Then: only the instances having that token; 401 when none match
    assert [row["name"] for row in own.json()] == ["a", "b"]
    assert [row["name"] for row in filtered.json()] == ["b"]
    assert envelope_error(foreign, 401) == "Unauthorized"
    assert envelope_error(unknown, 401) == "Unauthorized"


# ------------------------------------------------------------------------------- state and logout


def test_logout_closes_the_state_and_twice_is_400(sim: EvolutionSimulator, client: httpx.Client) -> None:
    # Given: an open instance
    create(client)

    # When: it is logged out twice
    first = client.delete("/instance/logout/tenant1-wa")
    state = client.get("/instance/connectionState/tenant1-wa").json()
    second = client.delete("/instance/logout/tenant1-wa")
    send = client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "still"})

    # Then: the state is close in memory only, the second logout fails and sends still work
    assert first.status_code == 200
    assert first.json() == {"status": "SUCCESS", "error": False, "response": {"message": "Instance logged out"}}
    assert state == {"instance": {"instanceName": "tenant1-wa", "state": "close"}}
    assert envelope_error(second, 400) == ['The "tenant1-wa" instance is not connected']
    assert send.status_code == 201
    assert client.get("/instance/fetchInstances").json()[0]["connectionStatus"] == "open"
    assert client.post("/instance/restart/tenant1-wa").json() == {"error": True, "message": "[object Object]"}

    # When: Evolution restarts
    sim.simulate_restart()

    # Then: the instance is open again
    assert client.get("/instance/connectionState/tenant1-wa").json()["instance"]["state"] == "open"


# ------------------------------------------------------------------------------------------ delete


def test_delete_emits_delete_then_remove_and_is_404_afterwards(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver
) -> None:
    # Given: an instance subscribed to both delete events
    instance_id = create(client, webhook=hook(receiver, "INSTANCE_DELETE", "REMOVE_INSTANCE")).json()["instance"][
        "instanceId"
    ]

    # When: it is deleted
    response = client.delete("/instance/delete/tenant1-wa")

    # Then: 200 SUCCESS; instance.delete then remove.instance (data null) were emitted; every call is 404 after
    assert response.status_code == 200
    assert response.json() == {"status": "SUCCESS", "error": False, "response": {"message": "Instance deleted"}}
    assert sim.wait_for_deliveries()
    emitted = sorted(sim.deliveries, key=lambda entry: entry["seq"])
    assert [entry["body"]["event"] for entry in emitted] == ["instance.delete", "remove.instance"]
    assert emitted[0]["body"]["data"] == {"instanceName": "tenant1-wa", "instanceId": instance_id}
    assert emitted[1]["body"]["data"] is None
    assert len(receiver.wait_for(2)) == 2
    assert envelope_error(client.get("/instance/connectionState/tenant1-wa"), 404)
    assert envelope_error(client.delete("/instance/delete/tenant1-wa"), 404)
    assert client.get("/instance/fetchInstances").json() == []


# ----------------------------------------------------------------------------------- webhook config


def test_webhook_find_is_null_before_set(client: httpx.Client) -> None:
    # Given: an instance created without a webhook
    create(client)

    # When: its webhook is read
    response = client.get("/webhook/find/tenant1-wa")

    # Then: the JSON literal null
    assert response.status_code == 200
    assert response.content == b"null"


def test_webhook_set_stores_the_row_and_updates_partially(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    # Given: an instance
    instance_id = create(client).json()["instance"]["instanceId"]
    url = "https://hooks.example.com/hooks/tenant1"

    # When: the webhook is set with headers and byEvents, then updated without them (with the instance token)
    first = client.post(
        "/webhook/set/tenant1-wa",
        json={
            "webhook": {
                "enabled": True,
                "url": url,
                "headers": {"X-Tenant": "t1"},
                "byEvents": True,
                "events": ["MESSAGES_UPDATE"],
            }
        },
    )
    second = anonymous.post(
        "/webhook/set/tenant1-wa",
        headers={"apikey": TOKEN},
        json={"webhook": {"enabled": True, "url": url, "events": ["SEND_MESSAGE"]}},
    )

    # Then: 201 with the stored row; omitted headers/byEvents/base64 keep their values
    assert first.status_code == 201
    row = first.json()
    assert set(row) == {
        "id",
        "url",
        "headers",
        "enabled",
        "events",
        "webhookByEvents",
        "webhookBase64",
        "createdAt",
        "updatedAt",
        "instanceId",
    }
    assert (row["url"], row["instanceId"], row["webhookBase64"]) == (url, instance_id, False)
    assert second.status_code == 201
    updated = second.json()
    assert updated["id"] == row["id"]
    assert updated["events"] == ["SEND_MESSAGE"]
    assert updated["headers"] == {"X-Tenant": "t1"}
    assert updated["webhookByEvents"] is True
    assert client.get("/webhook/find/tenant1-wa").json() == updated
    assert sim.instances["tenant1-wa"]["webhook"] == updated


def test_webhook_set_disabled_stores_no_events_and_empty_means_all(client: httpx.Client) -> None:
    # Given: an instance
    create(client)
    url = "https://hooks.example.com/x"

    # When: the webhook is set with [] and then disabled with a list
    everything = client.post("/webhook/set/tenant1-wa", json={"webhook": {"enabled": True, "url": url, "events": []}})
    disabled = client.post(
        "/webhook/set/tenant1-wa", json={"webhook": {"enabled": False, "url": url, "events": ["SEND_MESSAGE"]}}
    )

    # Then: [] stores all 31 names and disabled stores []
    assert everything.json()["events"] == list(EVENTS)
    assert disabled.json()["enabled"] is False
    assert disabled.json()["events"] == []


def test_webhook_set_errors(client: httpx.Client) -> None:
    # Given: an instance
    create(client)
    url = "https://hooks.example.com/x"

    # When: a flat body, a dotted event name and an enabled webhook without events are set
    flat = client.post("/webhook/set/tenant1-wa", json={"enabled": True, "url": url, "events": []})
    dotted = client.post(
        "/webhook/set/tenant1-wa", json={"webhook": {"enabled": True, "url": url, "events": ["messages.update"]}}
    )
    missing = client.post("/webhook/set/tenant1-wa", json={"webhook": {"enabled": True, "url": url}})
    no_url = client.post("/webhook/set/tenant1-wa", json={"webhook": {"enabled": True, "events": []}})

    # Then: nested 400s for schema failures, a 500 string for the missing events
    assert envelope_error(flat, 400) == [['instance requires property "webhook"']]
    assert envelope_error(dotted, 400) == [[f"webhook.events[0] is not one of enum values: {','.join(EVENTS)}"]]
    assert envelope_error(missing, 500) == "Cannot read properties of undefined (reading 'length')"
    assert missing.json()["error"] == "Internal Server Error"
    assert envelope_error(no_url, 400) == [['webhook requires property "url"']]
    assert client.get("/webhook/find/tenant1-wa").json() is None


# --------------------------------------------------------------------------------- webhook delivery


def test_delivery_envelope_and_headers(sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver) -> None:
    # Given: an instance with custom webhook headers, subscribed to SEND_MESSAGE
    headers = {"X-Tenant": "t1", "Authorization": "Bearer our-shared-secret"}
    create(client, webhook=hook(receiver, "SEND_MESSAGE", headers=headers))

    # When: a text is sent
    sent = client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"}).json()

    # Then: send.message arrives with Evolution's envelope (no sender) and headers
    request = receiver.wait_for(1)[0]
    assert request.path == "/hooks/t1"
    body = request.body
    assert set(body) == ENVELOPE_KEYS
    assert body["event"] == "send.message"
    assert body["instance"] == "tenant1-wa"
    assert body["data"] == sent
    assert body["destination"] == f"{receiver.url}/hooks/t1"
    assert DATE_TIME.fullmatch(body["date_time"])
    assert body["server_url"] == sim.base_url
    assert body["apikey"] == TOKEN
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "axios/1.7.9"
    assert request.headers["x-tenant"] == "t1"
    assert request.headers["authorization"] == "Bearer our-shared-secret"
    [entry] = deliveries_of(sim, "send.message")
    assert (entry["attempt"], entry["status"], entry["error"]) == (1, 200, None)
    assert entry["url"] == f"{receiver.url}/hooks/t1"
    assert entry["headers"]["X-Tenant"] == "t1"


def test_by_events_appends_the_kebab_event_and_keeps_destination(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver
) -> None:
    # Given: an instance with byEvents on
    create(client, webhook=hook(receiver, "SEND_MESSAGE", byEvents=True))

    # When: a text is sent
    client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

    # Then: the POST goes to <url>/send-message while destination stays the base URL
    request = receiver.wait_for(1)[0]
    assert request.path == "/hooks/t1/send-message"
    assert request.body["destination"] == f"{receiver.url}/hooks/t1"


def test_token_is_hidden_when_not_exposed(receiver: Receiver) -> None:
    # Given: a simulator that does not expose the token in webhooks
    with (
        EvolutionSimulator(api_key=KEY, expose_token_in_webhooks=False) as hidden,
        httpx.Client(base_url=hidden.base_url, headers={"apikey": KEY}) as http,
    ):
        create(http, webhook=hook(receiver, "SEND_MESSAGE"))

        # When: a text is sent
        http.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

        # Then: apikey is null
        assert receiver.wait_for(1)[0].body["apikey"] is None


def test_delivery_is_retried_on_500_with_backoff(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver
) -> None:
    # Given: a receiver that answers 500 twice, then 200
    create(client, webhook=hook(receiver, "SEND_MESSAGE"))
    receiver.answer(500, 500)

    # When: an event is emitted
    client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

    # Then: three attempts, spaced by at least the base delay, the same body each time
    attempts = deliveries_of(sim, "send.message")
    assert [(entry["attempt"], entry["status"]) for entry in attempts] == [(1, 500), (2, 500), (3, 200)]
    assert all(later["at"] - earlier["at"] >= BASE for earlier, later in itertools.pairwise(attempts))
    assert len({json.dumps(request.body) for request in receiver.requests}) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_delivery_is_not_retried_on_non_retryable_statuses(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver, status: int
) -> None:
    # Given: a receiver that answers a non-retryable status
    create(client, webhook=hook(receiver, "SEND_MESSAGE"))
    receiver.answer(status)

    # When: an event is emitted
    client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

    # Then: exactly one attempt
    assert [(entry["attempt"], entry["status"]) for entry in deliveries_of(sim, "send.message")] == [(1, status)]


def test_delivery_gives_up_after_max_attempts_on_connection_errors(
    sim: EvolutionSimulator, client: httpx.Client
) -> None:
    # Given: a webhook URL where nobody listens
    port = unused_port()
    create(client, webhook={"url": f"http://127.0.0.1:{port}/x", "events": ["SEND_MESSAGE"]})

    # When: an event is emitted
    client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

    # Then: max_attempts (4) attempts, each with a connection error
    attempts = deliveries_of(sim, "send.message")
    assert [entry["attempt"] for entry in attempts] == [1, 2, 3, 4]
    assert all(entry["status"] is None and "ECONNREFUSED" in entry["error"] for entry in attempts)


def test_retry_delay_policy() -> None:
    # Then: min(base*2^(n-1), cap) with ±20 % jitter, never below base
    for attempt, nominal in [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (9, 300.0), (12, 300.0)]:
        for _ in range(50):
            delay = retry_delay(attempt, 5.0, 300.0)
            assert max(5.0, nominal * 0.8) <= delay <= nominal * 1.2


def test_non_http_urls_are_skipped(sim: EvolutionSimulator, client: httpx.Client) -> None:
    # Given: an instance whose webhook URL is not http(s)
    create(client, webhook={"url": "ftp://example.com/x", "events": ["SEND_MESSAGE"]})

    # When: an event is emitted
    client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

    # Then: nothing is attempted
    assert deliveries_of(sim, "send.message") == []


# -------------------------------------------------------------------------------------------- sends


def test_send_text_without_graph_makes_up_a_wamid(sim: EvolutionSimulator, client: httpx.Client) -> None:
    # Given: an instance (no graph_url configured)
    instance_id = create(client).json()["instance"]["instanceId"]

    # When: a text is sent
    response = client.post("/message/sendText/tenant1-wa", json={"number": "+55 11 99999-0000", "text": "Hello"})

    # Then: 201 with the documented shape and a PENDING status
    assert response.status_code == 201
    body = response.json()
    assert body["key"]["fromMe"] is True
    assert re.fullmatch(r"wamid\.[A-Z0-9]+", body["key"]["id"])
    assert body["key"]["remoteJid"] == f"{CUSTOMER}@s.whatsapp.net"
    assert body["message"] == {"conversation": "Hello"}
    assert body["messageType"] == "conversation"
    assert abs(body["messageTimestamp"] - time.time()) < 60
    assert (body["instanceId"], body["status"], body["source"]) == (instance_id, "PENDING", "unknown")
    assert sim.instances["tenant1-wa"]["wamids"] == [body["key"]["id"]]


def test_send_text_schema_errors(client: httpx.Client) -> None:
    # Given: an instance
    create(client)

    # When: text is missing and the number is not a string
    no_text = client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER})
    bad_number = client.post("/message/sendText/tenant1-wa", json={"number": 5511, "text": "x"})

    # Then: nested-array 400s
    assert envelope_error(no_text, 400) == [['instance requires property "text"']]
    assert envelope_error(bad_number, 400) == [["Invalid format"]]


def test_remote_jid_normalisation() -> None:
    # Then: Evolution's createJid drops the BR 9 for DDD >= 31 and the 3rd digit of 13-digit MX/AR numbers
    assert create_jid("5511999990000") == "5511999990000@s.whatsapp.net"
    assert create_jid("5531987654321") == "553187654321@s.whatsapp.net"
    assert create_jid("5215512345678") == "525512345678@s.whatsapp.net"
    assert create_jid("15551234567") == "15551234567@s.whatsapp.net"


def test_send_text_with_a_graph_error_is_201_with_metas_error(graph: GraphSimulator, receiver: Receiver) -> None:
    # Given: an Evolution simulator talking to the Graph simulator, and an instance with an expired Meta token
    graph.reset()
    number = DEMO_PHONE_NUMBER_IDS[0]
    with (
        EvolutionSimulator(api_key=KEY, graph_url=graph.base_url) as evolution,
        httpx.Client(base_url=evolution.base_url, headers={"apikey": KEY}) as http,
    ):
        create(http, token=EXPIRED_TOKEN, number=number, webhook=hook(receiver, "SEND_MESSAGE"))

        # When: a text is sent
        response = http.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

        # Then: HTTP 201 whose body is Meta's error object, flattened; no send.message and nothing stored
        assert response.status_code == 201
        body = response.json()
        assert "key" not in body
        assert (body["code"], body["error_subcode"], body["type"]) == (190, 463, "OAuthException")
        assert "Session has expired" in body["message"]
        assert graph.calls == [("POST", f"/v25.0/{number}/messages")]
        assert evolution.wait_for_deliveries()
        assert evolution.deliveries == []
        assert evolution.instances["tenant1-wa"]["wamids"] == []


def test_send_text_through_a_fake_graph_uses_metas_wamid(receiver: Receiver) -> None:
    # Given: an Evolution simulator whose Graph is the test receiver, answering a wamid
    receiver.answer_json(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.FROMGRAPH"}]})
    with (
        EvolutionSimulator(api_key=KEY, graph_url=receiver.url) as evolution,
        httpx.Client(base_url=evolution.base_url, headers={"apikey": KEY}) as http,
    ):
        create(http)

        # When: a text quoting another message is sent
        response = http.post(
            "/message/sendText/tenant1-wa",
            json={"number": "+55 (11) 99999-0000", "text": "Hello", "quoted": {"key": {"id": "wamid.Q"}}},
        )

    # Then: Graph got the documented call and the answer carries Meta's wamid
    assert response.status_code == 201
    assert response.json()["key"]["id"] == "wamid.FROMGRAPH"
    [call] = receiver.requests
    assert call.path == f"/v25.0/{PHONE_ID}/messages"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "type": "text",
        "to": CUSTOMER,
        "text": {"body": "Hello", "preview_url": False},
        "context": {"message_id": "wamid.Q"},
    }


@pytest.mark.parametrize("graph_down", ["non-json 503", "connection refused"])
def test_send_text_when_graph_fails_without_error_is_400_type_error(receiver: Receiver, graph_down: str) -> None:
    # Given: a Graph answering 503 text, or nobody listening
    receiver.plan.append((503, b"Service Unavailable", "text"))
    graph_url = receiver.url if graph_down == "non-json 503" else f"http://127.0.0.1:{unused_port()}"
    with (
        EvolutionSimulator(api_key=KEY, graph_url=graph_url) as evolution,
        httpx.Client(base_url=evolution.base_url, headers={"apikey": KEY}) as http,
    ):
        create(http)

        # When: a text is sent
        response = http.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

    # Then: the TypeError 400
    assert envelope_error(response, 400) == ["TypeError: Cannot read properties of undefined (reading 'message')"]


def test_send_template_and_its_per_message_status_webhook(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver
) -> None:
    # Given: an instance without an instance webhook
    create(client)
    per_message = f"{receiver.url}/per-message"

    # When: a template is sent with a per-message webhookUrl, then a status arrives for it
    response = client.post(
        "/message/sendTemplate/tenant1-wa",
        json={"number": CUSTOMER, "name": "hello_world", "language": "en_US", "webhookUrl": per_message},
    )
    missing = client.post("/message/sendTemplate/tenant1-wa", json={"number": CUSTOMER, "name": "hello_world"})
    sim.emit_status("tenant1-wa", response.json()["key"]["id"], "delivered")

    # Then: 201 with the template marker; the bare messages.update data (no envelope) went to webhookUrl
    assert response.status_code == 201
    assert response.json()["message"] == {"conversation": "▶️hello_world◀️"}
    assert response.json()["webhookUrl"] == per_message
    assert envelope_error(missing, 400) == [['instance requires property "language"']]
    [request] = receiver.wait_for(1)
    assert request.path == "/per-message"
    assert request.body["status"] == "DELIVERED"
    assert "event" not in request.body


def test_jwt_key_header_becomes_a_bearer_jwt(client: httpx.Client, receiver: Receiver) -> None:
    # Given: an instance whose webhook headers carry a jwt_key
    create(client, webhook=hook(receiver, "SEND_MESSAGE", headers={"jwt_key": JWT_KEY, "X-Tenant": "t1"}))

    # When: an event is delivered
    client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hello"})

    # Then: jwt_key is replaced by an HS256 JWT of the documented claims
    request = receiver.wait_for(1)[0]
    assert "jwt_key" not in request.headers
    scheme, token = request.headers["authorization"].split(" ")
    claims = jwt.decode(token, JWT_KEY, algorithms=["HS256"])
    assert scheme == "Bearer"
    assert (claims["app"], claims["action"], claims["exp"] - claims["iat"]) == ("evolution", "webhook", 600)
    assert request.headers["x-tenant"] == "t1"


# ------------------------------------------------------------------------------- statuses and inbound


def test_emit_status_only_for_known_wamids(sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver) -> None:
    # Given: a message sent through the instance, subscribed to MESSAGES_UPDATE
    instance_id = create(client, webhook=hook(receiver, "MESSAGES_UPDATE")).json()["instance"]["instanceId"]
    wamid = client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hi"}).json()["key"]["id"]

    # When: statuses are emitted for it and for an unknown wamid
    emitted = [sim.emit_status("tenant1-wa", wamid, status) for status in ("sent", "DELIVERED", "read", "failed")]
    unknown = sim.emit_status("tenant1-wa", "wamid.SENTELSEWHERE", "delivered")

    # Then: four messages.update with upper-cased statuses, fromMe false, keyId the wamid; the unknown is dropped
    assert emitted == [True] * 4
    assert unknown is False
    updates = sorted(deliveries_of(sim, "messages.update"), key=lambda entry: entry["seq"])
    assert [entry["body"]["data"]["status"] for entry in updates] == ["SENT", "DELIVERED", "READ", "FAILED"]
    data = updates[0]["body"]["data"]
    assert set(data) == {"messageId", "keyId", "remoteJid", "fromMe", "participant", "status", "instanceId"}
    assert (data["keyId"], data["fromMe"], data["instanceId"]) == (wamid, False, instance_id)
    assert data["remoteJid"] == data["participant"] == f"{CUSTOMER}@s.whatsapp.net"
    rows = client.post("/chat/findStatusMessage/tenant1-wa", json={"where": {"id": wamid}}).json()
    assert [row["status"] for row in rows] == ["SENT", "DELIVERED", "READ", "FAILED"]


def test_emit_inbound_upserts_the_message_and_the_contact(
    sim: EvolutionSimulator, client: httpx.Client, receiver: Receiver
) -> None:
    # Given: an instance subscribed to all events
    create(client, webhook=hook(receiver))

    # When: the same customer writes twice
    first = sim.emit_inbound("tenant1-wa", CUSTOMER, "Oi, tudo bem?", push_name="Ana Cliente")
    sim.emit_inbound("tenant1-wa", CUSTOMER, "again", push_name="Ana Cliente")

    # Then: messages.upsert with the documented shape, then contacts.upsert, then contacts.update
    upserts = sorted(deliveries_of(sim, "messages.upsert"), key=lambda entry: entry["seq"])
    data = upserts[0]["body"]["data"]
    assert data["key"] == {"id": first, "remoteJid": f"{CUSTOMER}@s.whatsapp.net", "fromMe": False}
    assert (data["pushName"], data["message"], data["messageType"]) == (
        "Ana Cliente",
        {"conversation": "Oi, tudo bem?"},
        "conversation",
    )
    contact_events = [e["event"] for e in sorted(sim.deliveries, key=lambda e: e["seq"]) if "contacts" in e["event"]]
    assert contact_events == ["contacts.upsert", "contacts.update"]
    [contact] = deliveries_of(sim, "contacts.upsert")
    assert contact["body"]["data"] == {"pushName": "Ana Cliente", "instanceId": data["instanceId"]}


def test_meta_webhook_route(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, receiver: Receiver
) -> None:
    # Given: an instance with a sent message and a webhook for updates and upserts
    create(client, webhook=hook(receiver, "MESSAGES_UPDATE", "MESSAGES_UPSERT"))
    wamid = client.post("/message/sendText/tenant1-wa", json={"number": CUSTOMER, "text": "Hi"}).json()["key"]["id"]

    def statuses(status: str, **extra: Any) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15551234567", "phone_number_id": PHONE_ID},
            "statuses": [{"id": wamid, "status": status, "timestamp": "1", "recipient_id": CUSTOMER}],
            **extra,
        }
        return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [{"value": value}]}]}

    # When: Meta verifies, then posts a status, a status with contacts lacking profile, and an inbound text
    verified = anonymous.get("/webhook/meta", params={"hub.verify_token": "evolution", "hub.challenge": "1158201444"})
    wrong = anonymous.get("/webhook/meta", params={"hub.verify_token": "nope", "hub.challenge": "1"})
    posted = anonymous.post("/webhook/meta", json=statuses("delivered"))
    crashed = anonymous.post("/webhook/meta", json=statuses("read", contacts=[{"wa_id": CUSTOMER}]))
    inbound = statuses("x")
    value = inbound["entry"][0]["changes"][0]["value"]
    del value["statuses"]
    value["contacts"] = [{"profile": {"name": "Ana"}, "wa_id": CUSTOMER}]
    value["messages"] = [
        {"from": CUSTOMER, "id": "wamid.IN1", "timestamp": "1", "type": "text", "text": {"body": "Oi"}}
    ]
    anonymous.post("/webhook/meta", json=inbound)

    # Then: the handshake, 200 success always, one DELIVERED update (the crash emits nothing) and the inbound
    assert (verified.status_code, verified.text) == (200, "1158201444")
    assert (wrong.status_code, wrong.text) == (200, "Error, wrong validation token")
    assert posted.json() == crashed.json() == {"status": "success"}
    assert [e["body"]["data"]["status"] for e in deliveries_of(sim, "messages.update")] == ["DELIVERED"]
    [upsert] = deliveries_of(sim, "messages.upsert")
    assert upsert["body"]["data"]["pushName"] == "Ana"
    assert upsert["body"]["data"]["key"]["id"] == "wamid.IN1"


def meta_value(phone_id: str = PHONE_ID, **items: Any) -> dict[str, Any]:
    metadata = {"display_phone_number": "15551234567", "phone_number_id": phone_id}
    return {"messaging_product": "whatsapp", "metadata": metadata, **items}


def meta_payload(*entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Meta's envelope: one entry per argument, each a list of change values."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": WABA_ID, "changes": [{"value": value, "field": "messages"} for value in values]}
            for values in entries
        ],
    }


def meta_status(wamid: str, status: str) -> dict[str, Any]:
    return {"id": wamid, "status": status, "timestamp": "1795921700", "recipient_id": CUSTOMER}


def meta_text(wamid: str, body: str, sender: str = CUSTOMER) -> dict[str, Any]:
    return {"from": sender, "id": wamid, "timestamp": "1795921800", "type": "text", "text": {"body": body}}


def with_profile(name: str = "Ana") -> list[dict[str, Any]]:
    return [{"profile": {"name": name}, "wa_id": CUSTOMER}]


def send_hi(client: httpx.Client, name: str = "tenant1-wa") -> str:
    wamid: str = client.post(f"/message/sendText/{name}", json={"number": CUSTOMER, "text": "Hi"}).json()["key"]["id"]
    return wamid


def emitted(sim: EvolutionSimulator, event: str, instance: str | None = None) -> list[dict[str, Any]]:
    entries = sorted(deliveries_of(sim, event), key=lambda entry: entry["seq"])
    return [entry["body"] for entry in entries if instance is None or entry["instance"] == instance]


def test_meta_verification_checks_only_the_global_token(anonymous: httpx.Client) -> None:
    # When: Meta verifies with hub.mode other than subscribe, and with no mode at all
    odd_mode = {"hub.mode": "unsubscribe", "hub.verify_token": "evolution", "hub.challenge": "42"}
    no_mode = {"hub.verify_token": "evolution", "hub.challenge": "43"}
    answers = [anonymous.get("/webhook/meta", params=params) for params in (odd_mode, no_mode)]

    # Then: the challenge either way (2.3.7 does not check hub.mode)
    assert [(answer.status_code, answer.text) for answer in answers] == [(200, "42"), (200, "43")]


def test_the_global_verify_token_is_configurable(receiver: Receiver) -> None:
    # Given: an Evolution with WA_BUSINESS_TOKEN_WEBHOOK set
    with EvolutionSimulator(api_key=KEY, meta_verify_token="our-own-token") as evolution:
        # When: Meta verifies with the default and with the configured token, and an instance is created
        default = httpx.get(f"{evolution.base_url}/webhook/meta", params={"hub.verify_token": "evolution"})
        params = {"hub.verify_token": "our-own-token", "hub.challenge": "7"}
        configured = httpx.get(f"{evolution.base_url}/webhook/meta", params=params)
        body = {"instanceName": "t", "integration": "WHATSAPP-BUSINESS", "token": TOKEN, "number": PHONE_ID}
        created = httpx.post(f"{evolution.base_url}/instance/create", json=body, headers={"apikey": KEY})

    # Then: only the configured token passes, and create reports it
    assert default.text == "Error, wrong validation token"
    assert configured.text == "7"
    assert created.json()["instance"]["accessTokenWaBusiness"] == "our-own-token"


def test_meta_posts_are_answered_before_they_are_processed(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: processing that cannot start until the test allows it
    release, started = threading.Event(), threading.Event()
    original = sim._receive_meta

    def held(payload: Any) -> None:
        started.set()
        release.wait(5)
        original(payload)

    monkeypatch.setattr(sim, "_receive_meta", held)

    # When: Meta posts
    response = anonymous.post("/webhook/meta", json=meta_payload([meta_value(statuses=[meta_status("w", "sent")])]))

    # Then: the answer came while processing was still held, and the processing counts as in flight
    assert (response.status_code, response.json()) == (200, {"status": "success"})
    assert started.wait(5)
    assert sim.wait_for_deliveries(0.2) is False
    release.set()
    assert sim.wait_for_deliveries(5)


def test_every_status_of_the_first_change_is_processed(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, receiver: Receiver
) -> None:
    # Given: a message sent through the instance
    create(client, webhook=hook(receiver, "MESSAGES_UPDATE"))
    wamid = send_hi(client)

    # When: Meta posts three statuses in one change, and one for a wamid sent elsewhere
    statuses = [meta_status(wamid, state) for state in ("sent", "delivered", "read")]
    statuses.append(meta_status("wamid.SENTELSEWHERE", "delivered"))
    anonymous.post("/webhook/meta", json=meta_payload([meta_value(statuses=statuses)]))

    # Then: three upper-cased messages.update for the known wamid, none for the other
    updates = emitted(sim, "messages.update")
    assert [(u["data"]["keyId"], u["data"]["status"]) for u in updates] == [
        (wamid, "SENT"),
        (wamid, "DELIVERED"),
        (wamid, "READ"),
    ]


def test_only_the_first_change_of_a_batch_is_read(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, receiver: Receiver
) -> None:
    # Given: two messages sent through the instance
    create(client, webhook=hook(receiver, "MESSAGES_UPDATE"))
    first, second = send_hi(client), send_hi(client)

    # When: Meta batches their statuses in two changes of one entry
    changes = [
        meta_value(statuses=[meta_status(first, "delivered")]),
        meta_value(statuses=[meta_status(second, "read")]),
    ]
    anonymous.post("/webhook/meta", json=meta_payload(changes))

    # Then: the second change is lost
    assert [u["data"]["keyId"] for u in emitted(sim, "messages.update")] == [first]


def test_every_entry_hands_the_first_entrys_value_to_its_instance(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, receiver: Receiver
) -> None:
    # Given: two instances on two numbers, each with a sent message
    create(client, "tenant-a", webhook=hook(receiver, "MESSAGES_UPDATE", "MESSAGES_UPSERT"))
    create(client, "tenant-b", number="333333333333333", webhook=hook(receiver, "MESSAGES_UPDATE", "MESSAGES_UPSERT"))
    sent_a, sent_b = send_hi(client, "tenant-a"), send_hi(client, "tenant-b")

    # When: one POST carries a status for each number, then one carries an inbound for each number
    statuses = meta_payload(
        [meta_value(statuses=[meta_status(sent_a, "delivered")])],
        [meta_value("333333333333333", statuses=[meta_status(sent_b, "delivered")])],
    )
    anonymous.post("/webhook/meta", json=statuses)
    inbound = meta_payload(
        [meta_value(contacts=with_profile(), messages=[meta_text("wamid.FOR-A", "for tenant a")])],
        [meta_value("333333333333333", contacts=with_profile(), messages=[meta_text("wamid.FOR-B", "for b")])],
    )
    anonymous.post("/webhook/meta", json=inbound)

    # Then: tenant-a's status is processed (tenant-b, handed tenant-a's value, does not know that wamid) and
    # tenant-b's is lost; tenant-a's inbound message reaches both instances and tenant-b's reaches none
    assert [u["data"]["keyId"] for u in emitted(sim, "messages.update")] == [sent_a]
    upserts = emitted(sim, "messages.upsert")
    assert sorted((u["instance"], u["data"]["key"]["id"]) for u in upserts) == [
        ("tenant-a", "wamid.FOR-A"),
        ("tenant-b", "wamid.FOR-A"),
    ]


def test_only_the_first_message_of_a_change_is_read(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, receiver: Receiver
) -> None:
    # Given: an instance subscribed to all events
    create(client, webhook=hook(receiver))

    # When: Meta posts two inbound texts in one change, then another later
    messages = [meta_text("wamid.IN1", "first"), meta_text("wamid.IN2", "second")]
    anonymous.post("/webhook/meta", json=meta_payload([meta_value(contacts=with_profile(), messages=messages)]))
    assert sim.wait_for_deliveries(5)
    later = [meta_text("wamid.IN3", "third")]
    anonymous.post("/webhook/meta", json=meta_payload([meta_value(contacts=with_profile(), messages=later)]))

    # Then: messages.upsert for the first of each post; the contact is upserted once, then updated
    upserts = emitted(sim, "messages.upsert")
    assert [u["data"]["key"]["id"] for u in upserts] == ["wamid.IN1", "wamid.IN3"]
    assert upserts[0]["data"]["message"] == {"conversation": "first"}
    contact_events = [e["event"] for e in sorted(sim.deliveries, key=lambda e: e["seq"]) if "contacts" in e["event"]]
    assert contact_events == ["contacts.upsert", "contacts.update"]


def test_a_contact_without_profile_crashes_the_handler_for_messages_too(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, receiver: Receiver
) -> None:
    # Given: an instance subscribed to all events
    create(client, webhook=hook(receiver))

    # When: an inbound text comes with a contact lacking profile
    value = meta_value(contacts=[{"wa_id": CUSTOMER}], messages=[meta_text("wamid.IN1", "hi")])
    response = anonymous.post("/webhook/meta", json=meta_payload([value]))

    # Then: 200 success, and nothing is emitted or stored
    assert response.json() == {"status": "success"}
    assert deliveries_of(sim, "messages.upsert") == []
    assert sim.instances["tenant1-wa"]["wamids"] == []


def test_the_first_instance_with_the_number_wins(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, receiver: Receiver
) -> None:
    # Given: two instances sharing a phone_number_id, and one with another number
    for name in ("tenant-b", "tenant-c"):
        create(client, name, webhook=hook(receiver, "MESSAGES_UPSERT"))

    # When: an inbound text for that number, and one for an unknown number, are posted
    value = meta_value(contacts=with_profile(), messages=[meta_text("wamid.IN1", "hi")])
    anonymous.post("/webhook/meta", json=meta_payload([value]))
    unknown = meta_value("999999999999999", contacts=with_profile(), messages=[meta_text("wamid.IN2", "hi")])
    lost = anonymous.post("/webhook/meta", json=meta_payload([unknown]))

    # Then: only the first-created instance got it; the unknown number is dropped with 200
    assert [u["instance"] for u in emitted(sim, "messages.upsert")] == ["tenant-b"]
    assert lost.json() == {"status": "success"}


def test_other_objects_and_template_updates_are_not_processed(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client, receiver: Receiver
) -> None:
    # Given: a sent message
    create(client, webhook=hook(receiver, "MESSAGES_UPDATE"))
    wamid = send_hi(client)
    payload = meta_payload([meta_value(statuses=[meta_status(wamid, "read")])])

    # When: the same status comes as another object, and behind a template update
    anonymous.post("/webhook/meta", json={**payload, "object": "page"})
    template_first = meta_payload([meta_value(statuses=[meta_status(wamid, "read")])])
    template_first["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    anonymous.post("/webhook/meta", json=template_first)

    # Then: nothing is emitted
    assert deliveries_of(sim, "messages.update") == []


# ---------------------------------------------------------------------------------- fault injection


def test_fail_next_answers_without_doing_anything(sim: EvolutionSimulator, client: httpx.Client) -> None:
    # Given: the next create fails with 500
    sim.fail_next("/instance/create", 500)

    # When: create is called twice
    failed = create(client)
    succeeded = create(client)

    # Then: the first got Evolution's 500 envelope and created nothing; the second worked
    assert envelope_error(failed, 500) == "Failure injected by the Evolution API simulator"
    assert succeeded.status_code == 201
    assert list(sim.instances) == ["tenant1-wa"]


def test_fail_next_over_http_with_a_body_and_count_leaves_control_routes_alone(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    # Given: two failures with a custom body are queued over HTTP
    queued = anonymous.post(
        "/__simulator__/fail_next",
        json={"path_prefix": "/instance/fetchInstances", "status": 503, "count": 2, "body": {"oops": True}},
    )

    # When: control routes and the API are called
    control = anonymous.get("/__simulator__/deliveries")
    answers = [client.get("/instance/fetchInstances") for _ in range(3)]

    # Then: control routes are untouched; exactly two API calls failed with that body
    assert queued.json() == {"success": True}
    assert control.json() == {"data": []}
    assert [(r.status_code, r.json()) for r in answers] == [(503, {"oops": True})] * 2 + [(200, [])]
    assert sim.calls == [("GET", "/instance/fetchInstances")] * 3


def test_delay_next_makes_the_client_time_out_but_the_operation_happens(
    sim: EvolutionSimulator, client: httpx.Client
) -> None:
    # Given: the next create is delayed beyond the client's timeout
    sim.delay_next("/instance/create", 0.5)

    # When: create times out on the client side
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            "/instance/create",
            json={"instanceName": "slow", "integration": "WHATSAPP-BUSINESS", "token": TOKEN, "number": PHONE_ID},
            timeout=0.1,
        )

    # Then: the instance exists shortly after, and a retried create is 403 (adopt it)
    deadline = time.monotonic() + 3
    while "slow" not in sim.instances and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "slow" in sim.instances
    assert envelope_error(create(client, "slow"), 403) == ['This name "slow" is already in use.']


def test_a_request_still_delayed_at_a_reset_changes_nothing(sim: EvolutionSimulator, client: httpx.Client) -> None:
    # Given: a create delayed long enough for the simulator to be reset meanwhile (the next test starting)
    sim.delay_next("/instance/create", 2.0)
    answers: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(create(client, "from-the-past")))
    waiting.start()
    while ("POST", "/instance/create") not in sim.calls:
        time.sleep(0.01)

    # When: the simulator is reset while the create waits
    sim.reset()
    waiting.join(timeout=5)

    # Then: the create gives up at once, answered 503, and the reset simulator has no instance from it
    assert answers and answers[0].status_code == 503
    assert "from-the-past" not in sim.instances


def test_lose_next_response_performs_the_operation_and_closes_the_socket(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    # Given: the next create response will be lost (queued over HTTP)
    anonymous.post("/__simulator__/lose_next_response", json={"path_prefix": "/instance/create"})

    # When: create is called
    with pytest.raises(httpx.RemoteProtocolError):
        create(client)

    # Then: the instance was created; retrying gives 403 and fetchInstances finds it with our token
    assert envelope_error(create(client), 403) == ['This name "tenant1-wa" is already in use.']
    [row] = client.get("/instance/fetchInstances", params={"instanceName": "tenant1-wa"}).json()
    assert row["token"] == TOKEN


# ------------------------------------------------------------------------------ control over HTTP


def test_world_changes_over_http(sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client) -> None:
    # Given: an instance
    create(client)
    url = "https://hooks.example.com/changed"

    # When: the webhook is changed behind our back, a message comes in, a status is emitted, and it is deleted
    changed = anonymous.post("/__simulator__/webhook/tenant1-wa", json={"enabled": True, "url": url, "events": []})
    inbound = anonymous.post(
        "/__simulator__/inbound", json={"instance": "tenant1-wa", "from_number": CUSTOMER, "text": "Oi"}
    )
    wamid = inbound.json()["wamid"]
    status = anonymous.post(
        "/__simulator__/status", json={"instance": "tenant1-wa", "wamid": "wamid.NO", "status": "read"}
    )
    deleted = anonymous.post("/__simulator__/delete/tenant1-wa")
    missing = anonymous.post("/__simulator__/delete/tenant1-wa")

    # Then: each took effect like the API; unknown instances are 404
    assert changed.json()["webhook"]["events"] == list(EVENTS)
    assert wamid.startswith("wamid.")
    assert status.json() == {"success": True, "emitted": False}
    assert deleted.json() == {"success": True}
    assert missing.status_code == 404
    assert sim.instances == {}
    assert sim.calls == [("POST", "/instance/create")]


def test_set_webhook_behind_our_back_validates_like_the_api(sim: EvolutionSimulator, client: httpx.Client) -> None:
    # Given: an instance
    create(client)

    # When / Then: an invalid event name is refused, a valid change is stored
    with pytest.raises(ValueError, match="is not one of enum values"):
        sim.set_webhook_behind_our_back("tenant1-wa", {"enabled": True, "url": "http://x", "events": ["nope"]})
    row = sim.set_webhook_behind_our_back("tenant1-wa", {"enabled": False, "url": "http://x"})
    assert row["enabled"] is False
    assert client.get("/webhook/find/tenant1-wa").json() == row
    with pytest.raises(KeyError):
        sim.delete_behind_our_back("nope")


def test_reset_over_http_forgets_everything(
    sim: EvolutionSimulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    # Given: an instance, a queued failure and recorded calls
    create(client)
    sim.fail_next("/instance/fetchInstances", 500)

    # When: the simulator is reset over HTTP
    reset = anonymous.post("/__simulator__/reset")

    # Then: no instances, no calls, no pending failure
    assert reset.json() == {"success": True}
    assert sim.instances == {}
    assert client.get("/instance/fetchInstances").json() == []
    assert sim.calls == [("GET", "/instance/fetchInstances")]
