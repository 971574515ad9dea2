import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.graph_simulator import (
    DEMO_APP_ACCESS_TOKEN,
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_PHONE_NUMBER_IDS,
    DEMO_WABA_ID,
    EXPIRED_TOKEN,
    EXPIRING_TOKEN,
    FOREIGN_PHONE_NUMBER_ID,
    FOREIGN_WABA_ID,
    GRAPH_5XX_TOKEN,
    NO_MESSAGING_SCOPE_TOKEN,
    RATE_LIMITED_TOKEN,
    REQUIRES_PROOF_TOKEN,
    USER_TOKEN,
    VALID_TOKEN,
    GraphSimulator,
    appsecret_proof,
)
from tests.integration.meta_endpoint import MetaEndpoint

pytestmark = pytest.mark.integration

APP_TOKEN = f"{DEMO_APP_ID}|{DEMO_APP_SECRET}"
WHATSAPP_SCOPES = {"whatsapp_business_management", "whatsapp_business_messaging"}
DAY = 86_400


@pytest.fixture(scope="module")
def simulator() -> Iterator[GraphSimulator]:
    with GraphSimulator(host="127.0.0.1", port=0) as sim:
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
    server = MetaEndpoint(verify_token="vt")
    yield server
    server.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def debug(client: httpx.Client, token: str, inspector: str | None = None) -> httpx.Response:
    return client.get("/debug_token", params={"input_token": token}, headers=bearer(inspector or token))


def graph_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "OAuthException"
    assert re.fullmatch(r"[A-Za-z0-9]{22}", error["fbtrace_id"])
    assert isinstance(error["is_transient"], bool)
    return error


def test_every_response_is_labelled_as_a_simulator(client: httpx.Client) -> None:
    # Given / When: any request, successful or not
    ok = debug(client, VALID_TOKEN)
    failed = client.get("/debug_token")

    # Then: both carry the simulator labels
    for response in (ok, failed):
        assert response.headers["x-simulator"] == "graph-api"
        assert "simulator" in response.headers["server"].lower()


def test_valid_token_inspects_itself_as_a_never_expiring_system_user(client: httpx.Client) -> None:
    # When: the valid token inspects itself
    response = debug(client, VALID_TOKEN)

    # Then: it is a valid SYSTEM_USER token of the demo app with both WhatsApp scopes
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["is_valid"] is True
    assert data["type"] == "SYSTEM_USER"
    assert data["app_id"] == DEMO_APP_ID
    assert data["expires_at"] == 0
    assert data["data_access_expires_at"] == 0
    assert WHATSAPP_SCOPES | {"business_management"} <= set(data["scopes"])
    assert {entry["scope"] for entry in data["granular_scopes"]} == set(data["scopes"])


def test_any_token_with_the_valid_prefix_is_valid(client: httpx.Client) -> None:
    # Given: a token that only shares the valid prefix
    token = "EAADEMOVALIDsomethingelse"

    # When: it reads a phone number
    response = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", headers=bearer(token))

    # Then: the call succeeds
    assert response.status_code == 200
    assert response.json()["id"] == DEMO_PHONE_NUMBER_IDS[0]


def test_app_token_inspects_a_system_user_token(client: httpx.Client) -> None:
    # When: the demo app token inspects the valid token
    response = debug(client, VALID_TOKEN, inspector=APP_TOKEN)

    # Then: the inspection succeeds with the token's data
    assert response.status_code == 200
    assert response.json()["data"]["type"] == "SYSTEM_USER"


def test_app_token_with_a_wrong_secret_is_rejected(client: httpx.Client) -> None:
    # When: an app token with the wrong secret inspects the valid token
    response = debug(client, VALID_TOKEN, inspector=f"{DEMO_APP_ID}|wrong-secret")

    # Then: Graph rejects the application secret
    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == 190
    assert error["message"] == "Error validating application. Invalid application secret."


def test_app_token_cannot_read_whatsapp_assets(client: httpx.Client) -> None:
    # When: the app token reads a phone number
    response = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", headers=bearer(APP_TOKEN))

    # Then: the object is not visible to it
    assert response.status_code == 400
    assert (graph_error(response)["code"], graph_error(response)["error_subcode"]) == (100, 33)


def test_expiring_token_expires_in_thirty_days(client: httpx.Client) -> None:
    # When: the 60-day token inspects itself
    response = debug(client, EXPIRING_TOKEN)

    # Then: it is valid but expires about 30 days from now
    data = response.json()["data"]
    assert data["is_valid"] is True
    assert data["type"] == "SYSTEM_USER"
    assert abs(data["expires_at"] - (time.time() + 30 * DAY)) < 60


def test_expired_token_fails_every_call_with_subcode_463(client: httpx.Client) -> None:
    # When: the expired token inspects itself and reads a number
    responses = [debug(client, EXPIRED_TOKEN), client.get(f"/{DEMO_WABA_ID}", headers=bearer(EXPIRED_TOKEN))]

    # Then: both fail with 401 190/463, not transient
    for response in responses:
        assert response.status_code == 401
        error = graph_error(response)
        assert (error["code"], error["error_subcode"], error["is_transient"]) == (190, 463, False)
        assert "Session has expired" in error["message"]


def test_expired_token_inspected_by_the_app_token_is_reported_invalid(client: httpx.Client) -> None:
    # When: the app token inspects the expired token
    response = debug(client, EXPIRED_TOKEN, inspector=APP_TOKEN)

    # Then: the inspection succeeds and reports the expiry inside data
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["is_valid"] is False
    assert (data["error"]["code"], data["error"]["subcode"]) == (190, 463)
    assert 0 < data["expires_at"] < time.time()


def test_unparseable_token_inspected_by_the_app_token_is_invalid(client: httpx.Client) -> None:
    # When: the app token inspects garbage
    response = debug(client, "garbage", inspector=APP_TOKEN)

    # Then: Graph answers 200 with is_valid false and error 190
    data = response.json()["data"]
    assert response.status_code == 200
    assert data["is_valid"] is False
    assert data["error"]["code"] == 190


def test_no_messaging_scope_token_lacks_whatsapp_business_messaging(client: httpx.Client) -> None:
    # When: the token inspects itself
    data = debug(client, NO_MESSAGING_SCOPE_TOKEN).json()["data"]

    # Then: it is valid but only has the management scope
    assert data["is_valid"] is True
    assert "whatsapp_business_messaging" not in data["scopes"]
    assert "whatsapp_business_management" in data["scopes"]


def test_user_token_is_typed_user(client: httpx.Client) -> None:
    # When: the user token inspects itself
    data = debug(client, USER_TOKEN).json()["data"]

    # Then: it is valid and of type USER
    assert data["is_valid"] is True
    assert data["type"] == "USER"
    assert data["expires_at"] > time.time()


def test_rate_limited_token_fails_every_call_with_80007(client: httpx.Client) -> None:
    # When: the rate-limited token reads a phone number
    response = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", headers=bearer(RATE_LIMITED_TOKEN))

    # Then: WABA rate limit, transient
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["is_transient"]) == (80007, True)
    assert "error_subcode" not in error


def test_graph_5xx_token_fails_every_call_with_a_transient_500(client: httpx.Client) -> None:
    # When: the 5xx token inspects itself
    response = debug(client, GRAPH_5XX_TOKEN)

    # Then: a transient service error
    assert response.status_code == 500
    error = graph_error(response)
    assert (error["code"], error["message"], error["is_transient"]) == (2, "Service temporarily unavailable", True)


def test_unknown_token_is_rejected_without_subcode(client: httpx.Client) -> None:
    # When: an unknown token reads the WABA
    response = client.get(f"/{DEMO_WABA_ID}", headers=bearer("EAAnotarealtoken"))

    # Then: 401 190 with no subcode
    assert response.status_code == 401
    error = graph_error(response)
    assert error["code"] == 190
    assert "error_subcode" not in error
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"


def test_missing_token_is_rejected(client: httpx.Client) -> None:
    # When: no token at all is sent
    response = client.get(f"/{DEMO_WABA_ID}")

    # Then: Graph asks for an access token
    assert response.status_code == 400
    assert graph_error(response)["code"] == 104


def test_token_may_come_from_the_access_token_query_parameter(client: httpx.Client) -> None:
    # When: the token is passed as a query parameter on an unversioned path
    response = httpx.get(
        f"{str(client.base_url).removesuffix('/v25.0/')}/{DEMO_WABA_ID}", params={"access_token": VALID_TOKEN}
    )

    # Then: the call is authenticated
    assert response.status_code == 200
    assert response.json()["name"] == "Demo WABA"


def test_client_credentials_grant_returns_a_usable_app_token(client: httpx.Client) -> None:
    # Given: the demo app credentials
    params = {"grant_type": "client_credentials", "client_id": DEMO_APP_ID, "client_secret": DEMO_APP_SECRET}

    # When: an app token is requested and used to inspect the valid token
    token_response = client.get("/oauth/access_token", params=params)
    app_token = token_response.json()["access_token"]
    inspection = debug(client, VALID_TOKEN, inspector=app_token)

    # Then: the app token has the app id prefix and works for debug_token
    assert token_response.status_code == 200
    assert token_response.json()["token_type"] == "bearer"
    assert app_token == DEMO_APP_ACCESS_TOKEN
    assert app_token.startswith(f"{DEMO_APP_ID}|")
    assert inspection.json()["data"]["is_valid"] is True


def test_client_credentials_grant_rejects_a_wrong_secret(client: httpx.Client) -> None:
    # When: the secret is wrong
    params = {"grant_type": "client_credentials", "client_id": DEMO_APP_ID, "client_secret": "nope"}
    response = client.get("/oauth/access_token", params=params)

    # Then: code 1 (as Graph answers a wrong client secret), not transient
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["message"], error["is_transient"]) == (1, "Error validating client secret.", False)


def test_phone_numbers_lists_the_nine_demo_numbers_on_one_default_page(client: httpx.Client) -> None:
    # When: the demo WABA's numbers are listed without a limit
    body = client.get(f"/{DEMO_WABA_ID}/phone_numbers", headers=bearer(VALID_TOKEN)).json()

    # Then: all nine numbers, no next page
    assert [phone["id"] for phone in body["data"]] == list(DEMO_PHONE_NUMBER_IDS)
    assert body["data"][2]["display_phone_number"] == "+1 555-010-0003"
    assert body["data"][2]["verified_name"] == "Demo Shop 3"
    assert "next" not in body["paging"]


def test_phone_numbers_paginate_by_following_next(client: httpx.Client) -> None:
    # Given: the first page of two numbers
    response = client.get(f"/{DEMO_WABA_ID}/phone_numbers", params={"limit": 2}, headers=bearer(VALID_TOKEN))
    pages = [response.json()]

    # When: every next link is followed
    while "next" in pages[-1]["paging"]:
        pages.append(httpx.get(pages[-1]["paging"]["next"], headers=bearer(VALID_TOKEN)).json())

    # Then: five pages of at most two numbers cover the nine numbers once, in order
    assert [len(page["data"]) for page in pages] == [2, 2, 2, 2, 1]
    assert [phone["id"] for page in pages for phone in page["data"]] == list(DEMO_PHONE_NUMBER_IDS)
    assert pages[0]["paging"]["cursors"]["after"] != pages[1]["paging"]["cursors"]["after"]


def test_phone_numbers_reject_a_forged_cursor(client: httpx.Client) -> None:
    # When: the after cursor is not one the simulator issued
    response = client.get(f"/{DEMO_WABA_ID}/phone_numbers", params={"after": "bogus"}, headers=bearer(VALID_TOKEN))

    # Then: an invalid-parameter error
    assert response.status_code == 400
    assert graph_error(response)["code"] == 100


def test_foreign_waba_lists_only_the_foreign_number(client: httpx.Client) -> None:
    # When: both WABAs are listed
    demo = client.get(f"/{DEMO_WABA_ID}/phone_numbers", headers=bearer(VALID_TOKEN)).json()
    foreign = client.get(f"/{FOREIGN_WABA_ID}/phone_numbers", headers=bearer(VALID_TOKEN)).json()

    # Then: the foreign number appears only in the foreign WABA, though it is readable directly
    assert [phone["id"] for phone in foreign["data"]] == [FOREIGN_PHONE_NUMBER_ID]
    assert FOREIGN_PHONE_NUMBER_ID not in {phone["id"] for phone in demo["data"]}
    assert client.get(f"/{FOREIGN_PHONE_NUMBER_ID}", headers=bearer(VALID_TOKEN)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/200000000000777/phone_numbers",
        "/not-a-number/phone_numbers",
        "/100000000000777",
        "/200000000000777/subscribed_apps",
    ],
)
def test_unknown_objects_fail_with_100_33(client: httpx.Client, path: str) -> None:
    # When: an object the token cannot see is requested
    response = client.get(path, headers=bearer(VALID_TOKEN))

    # Then: 100/33 naming the id
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["error_subcode"], error["is_transient"]) == (100, 33, False)
    assert f"Object with ID '{path.split('/')[1]}' does not exist" in error["message"]


def test_phone_node_returns_only_the_requested_fields(client: httpx.Client) -> None:
    # When: two fields are requested
    params = {"fields": "quality_rating,throughput,whatsapp_business_manager_messaging_limit"}
    response = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", params=params, headers=bearer(VALID_TOKEN))

    # Then: exactly those fields plus id
    assert response.json() == {
        "id": DEMO_PHONE_NUMBER_IDS[0],
        "quality_rating": "GREEN",
        "throughput": {"level": "STANDARD"},
        "whatsapp_business_manager_messaging_limit": "TIER_2K",
    }


def test_phone_node_defaults_to_four_fields(client: httpx.Client) -> None:
    # When: no fields are requested
    body = client.get(f"/{DEMO_PHONE_NUMBER_IDS[1]}", headers=bearer(VALID_TOKEN)).json()

    # Then: Graph's default projection
    assert set(body) == {"id", "display_phone_number", "verified_name", "quality_rating"}


def test_phone_node_accepts_nested_field_syntax_and_reports_health(client: httpx.Client) -> None:
    # When: a nested field expansion is requested
    params = {"fields": "health_status{can_send_message,entities},webhook_configuration"}
    body = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", params=params, headers=bearer(VALID_TOKEN)).json()

    # Then: the health of the number and its WABA, and no callback at any level yet
    assert body["health_status"]["can_send_message"] == "AVAILABLE"
    entities = {(entity["entity_type"], entity["id"]) for entity in body["health_status"]["entities"]}
    assert {("PHONE_NUMBER", DEMO_PHONE_NUMBER_IDS[0]), ("WABA", DEMO_WABA_ID)} <= entities
    assert body["webhook_configuration"] == {}


def test_phone_node_rejects_a_nonexistent_field(client: httpx.Client) -> None:
    # When: a field Graph does not have is requested
    response = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", params={"fields": "colour"}, headers=bearer(VALID_TOKEN))

    # Then: code 100 naming the field
    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == 100
    assert "(colour)" in error["message"]


def test_waba_node_returns_requested_fields(client: httpx.Client) -> None:
    # When: the WABA's business fields are requested
    params = {"fields": "id,name,currency,timezone_id,message_template_namespace,owner_business_info,health_status"}
    body = client.get(f"/{DEMO_WABA_ID}", params=params, headers=bearer(VALID_TOKEN)).json()

    # Then: the demo WABA's data
    assert body["id"] == DEMO_WABA_ID
    assert body["name"] == "Demo WABA"
    assert body["currency"] == "USD"
    assert body["health_status"]["can_send_message"] == "AVAILABLE"
    assert set(body) == set(params["fields"].split(","))


def test_correct_appsecret_proof_is_accepted(client: httpx.Client) -> None:
    # When: the valid token carries a correct proof
    params = {"appsecret_proof": appsecret_proof(VALID_TOKEN)}
    response = client.get(f"/{DEMO_WABA_ID}", params=params, headers=bearer(VALID_TOKEN))

    # Then: the call succeeds
    assert response.status_code == 200


def test_wrong_appsecret_proof_is_rejected(client: httpx.Client) -> None:
    # When: the proof was computed with another secret
    params = {"appsecret_proof": appsecret_proof(VALID_TOKEN, app_secret="another-secret")}
    response = client.get(f"/{DEMO_WABA_ID}", params=params, headers=bearer(VALID_TOKEN))

    # Then: 400 code 100
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["message"]) == (100, "Invalid appsecret_proof provided in the API argument")


def test_token_that_requires_a_proof_fails_without_one_and_works_with_one(client: httpx.Client) -> None:
    # When: the proof-requiring token calls without, then with, a proof
    without = client.get(f"/{DEMO_WABA_ID}", headers=bearer(REQUIRES_PROOF_TOKEN))
    proof = {"appsecret_proof": appsecret_proof(REQUIRES_PROOF_TOKEN)}
    with_proof = client.get(f"/{DEMO_WABA_ID}", params=proof, headers=bearer(REQUIRES_PROOF_TOKEN))

    # Then: only the call with the proof succeeds
    assert without.status_code == 400
    error = graph_error(without)
    assert (error["code"], error["message"]) == (100, "API calls from the server require an appsecret_proof argument")
    assert with_proof.status_code == 200


def test_fail_next_fails_exactly_count_requests(simulator: GraphSimulator, client: httpx.Client) -> None:
    # Given: two injected failures with a subcode
    simulator.fail_next(503, 131016, count=2, error_subcode=7)

    # When: three calls are made
    responses = [client.get(f"/{DEMO_WABA_ID}", headers=bearer(VALID_TOKEN)) for _ in range(3)]

    # Then: the first two fail with the injected envelope, the third succeeds
    assert [response.status_code for response in responses] == [503, 503, 200]
    error = graph_error(responses[0])
    assert (error["code"], error["error_subcode"], error["is_transient"]) == (131016, 7, True)
    assert graph_error(responses[0])["fbtrace_id"] != graph_error(responses[1])["fbtrace_id"]


def test_fail_next_over_http_drives_an_out_of_process_stack(simulator: GraphSimulator, client: httpx.Client) -> None:
    # Given: a failure injected through the control route
    control = httpx.post(
        f"{simulator.base_url}/__simulator__/fail_next", json={"status": 400, "error_code": 4, "count": 1}
    )

    # When: the next Graph call is made
    response = debug(client, VALID_TOKEN)

    # Then: it fails with the injected code, and the control request was not recorded
    assert control.json() == {"success": True}
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["is_transient"]) == (4, True)
    assert "error_subcode" not in error
    assert simulator.calls == [("GET", "/v25.0/debug_token")]


def test_set_phone_field_changes_the_profile(simulator: GraphSimulator, client: httpx.Client) -> None:
    # Given: one number turned RED in process and another FLAGGED over HTTP
    simulator.set_phone_field(DEMO_PHONE_NUMBER_IDS[0], "quality_rating", "RED")
    control = httpx.post(
        f"{simulator.base_url}/__simulator__/phone/{DEMO_PHONE_NUMBER_IDS[1]}",
        json={"field": "status", "value": "FLAGGED"},
    )

    # When: both numbers are read
    params = {"fields": "quality_rating,status"}
    first = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", params=params, headers=bearer(VALID_TOKEN)).json()
    second = client.get(f"/{DEMO_PHONE_NUMBER_IDS[1]}", params=params, headers=bearer(VALID_TOKEN)).json()

    # Then: each shows its change and keeps the rest
    assert control.status_code == 200
    assert (first["quality_rating"], first["status"]) == ("RED", "CONNECTED")
    assert (second["quality_rating"], second["status"]) == ("GREEN", "FLAGGED")


def test_set_phone_field_rejects_an_unknown_number(simulator: GraphSimulator) -> None:
    # When / Then: unknown numbers fail in process and over HTTP
    with pytest.raises(KeyError):
        simulator.set_phone_field("100000000000777", "status", "BANNED")
    control = httpx.post(f"{simulator.base_url}/__simulator__/phone/100000000000777", json={"field": "x", "value": 1})
    assert control.status_code == 404


def test_subscribed_apps_state_follows_subscribe_override_and_unsubscribe(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    path = f"/{DEMO_WABA_ID}/subscribed_apps"
    auth = bearer(VALID_TOKEN)

    # Given: a WABA nobody subscribed to, and an app that receives the messages field
    assert client.get(path, headers=auth).json() == {"data": []}
    simulator.set_app_subscription()

    # When: the app subscribes without a body
    assert client.post(path, headers=auth).json() == {"success": True}

    # Then: the demo app is listed without an override
    [entry] = client.get(path, headers=auth).json()["data"]
    assert entry["whatsapp_business_api_data"]["id"] == DEMO_APP_ID
    assert "override_callback_uri" not in entry

    # When: an override is set with a JSON body
    override = {"override_callback_uri": endpoint.url, "verify_token": "vt"}
    assert client.post(path, headers=auth, json=override).json() == {"success": True}

    # Then: Meta verified it, it is listed and it shows up in the numbers' webhook configuration
    assert len(endpoint.gets) == 1
    [entry] = client.get(path, headers=auth).json()["data"]
    assert entry["override_callback_uri"] == endpoint.url
    config = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", params={"fields": "webhook_configuration"}, headers=auth)
    assert config.json()["webhook_configuration"]["whatsapp_business_account"] == endpoint.url

    # When: posting again without a body
    client.post(path, headers=auth)

    # Then: the override is removed but the app stays subscribed
    [entry] = client.get(path, headers=auth).json()["data"]
    assert "override_callback_uri" not in entry

    # When: unsubscribing
    assert client.delete(path, headers=auth).json() == {"success": True}

    # Then: nothing is subscribed
    assert client.get(path, headers=auth).json() == {"data": []}


def test_subscribed_apps_accepts_a_form_body_and_keeps_wabas_apart(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: an app that receives the messages field
    simulator.set_app_subscription()

    # When: the foreign WABA gets an override through a form body
    form = {"override_callback_uri": endpoint.url, "verify_token": "vt"}
    client.post(f"/{FOREIGN_WABA_ID}/subscribed_apps", headers=bearer(VALID_TOKEN), data=form)

    # Then: the foreign WABA lists it and the demo WABA is untouched
    foreign = client.get(f"/{FOREIGN_WABA_ID}/subscribed_apps", headers=bearer(VALID_TOKEN)).json()
    demo = client.get(f"/{DEMO_WABA_ID}/subscribed_apps", headers=bearer(VALID_TOKEN)).json()
    assert foreign["data"][0]["override_callback_uri"] == endpoint.url
    assert demo == {"data": []}


def test_override_without_verify_token_is_rejected(client: httpx.Client) -> None:
    # When: an override is sent without its verify token
    body = {"override_callback_uri": "https://tenant.example/hook"}
    response = client.post(f"/{DEMO_WABA_ID}/subscribed_apps", headers=bearer(VALID_TOKEN), json=body)

    # Then: code 100, and nothing is subscribed
    assert response.status_code == 400
    assert graph_error(response)["code"] == 100
    assert client.get(f"/{DEMO_WABA_ID}/subscribed_apps", headers=bearer(VALID_TOKEN)).json() == {"data": []}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/a/b/c"), ("GET", f"/{DEMO_WABA_ID}/templates_x"), ("PUT", f"/{DEMO_PHONE_NUMBER_IDS[0]}")],
)
def test_unknown_routes_and_methods_fail_with_unknown_path_components(
    client: httpx.Client, method: str, path: str
) -> None:
    # When: an unsupported route or method is used
    response = client.request(method, path, headers=bearer(VALID_TOKEN))

    # Then: 400 code 100
    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == 100
    assert error["message"].startswith("Unknown path components")


def test_calls_are_recorded_without_query_and_can_be_reset(simulator: GraphSimulator, client: httpx.Client) -> None:
    # Given: two Graph calls with query strings
    debug(client, VALID_TOKEN)
    client.get(f"/{DEMO_WABA_ID}", params={"fields": "name"}, headers=bearer(VALID_TOKEN))

    # When / Then: both are recorded by method and path, readable over HTTP too
    expected = [("GET", "/v25.0/debug_token"), ("GET", f"/v25.0/{DEMO_WABA_ID}")]
    assert simulator.calls == expected
    assert httpx.get(f"{simulator.base_url}/__simulator__/calls").json() == {"data": [list(c) for c in expected]}
    simulator.reset_calls()
    assert simulator.calls == []


def test_latency_delays_every_answer() -> None:
    # Given: a simulator with 200 ms latency
    with GraphSimulator(latency_seconds=0.2) as slow:
        # When: a call is timed
        started = time.perf_counter()
        response = httpx.get(
            f"{slow.base_url}/v25.0/debug_token", params={"input_token": VALID_TOKEN}, headers=bearer(VALID_TOKEN)
        )
        elapsed = time.perf_counter() - started

    # Then: the answer took at least the latency
    assert response.status_code == 200
    assert elapsed >= 0.2


def health_of(client: httpx.Client, object_id: str) -> dict[str, Any]:
    params = {"fields": "health_status"}
    health: dict[str, Any] = client.get(f"/{object_id}", params=params, headers=bearer(VALID_TOKEN)).json()[
        "health_status"
    ]
    return health


def entity(health: dict[str, Any], entity_type: str) -> dict[str, Any]:
    [found] = [item for item in health["entities"] if item["entity_type"] == entity_type]
    return found


def test_health_status_follows_the_entities_set_by_the_control(simulator: GraphSimulator, client: httpx.Client) -> None:
    # Given: the first number LIMITED (in process)
    simulator.set_health("PHONE_NUMBER", "LIMITED", DEMO_PHONE_NUMBER_IDS[0], additional_info=["Low quality"])

    # Then: that number is LIMITED with the info; its WABA and the other numbers stay AVAILABLE
    limited = health_of(client, DEMO_PHONE_NUMBER_IDS[0])
    assert limited["can_send_message"] == "LIMITED"
    assert entity(limited, "PHONE_NUMBER") == {
        "entity_type": "PHONE_NUMBER",
        "id": DEMO_PHONE_NUMBER_IDS[0],
        "can_send_message": "LIMITED",
        "additional_info": ["Low quality"],
    }
    assert health_of(client, DEMO_PHONE_NUMBER_IDS[1])["can_send_message"] == "AVAILABLE"
    assert health_of(client, DEMO_WABA_ID)["can_send_message"] == "AVAILABLE"

    # When: the business is BLOCKED over HTTP
    blocking = {"error_code": 141006, "error_description": "Payment method issue", "possible_solution": "Fix it"}
    control = httpx.post(
        f"{simulator.base_url}/__simulator__/health",
        json={"entity_type": "BUSINESS", "can_send_message": "BLOCKED", "errors": [blocking]},
    )

    # Then: BLOCKED wins over LIMITED everywhere the business appears, with Meta's error fields
    assert control.json() == {"success": True}
    for object_id in (DEMO_PHONE_NUMBER_IDS[0], DEMO_PHONE_NUMBER_IDS[1], DEMO_WABA_ID):
        health = health_of(client, object_id)
        assert health["can_send_message"] == "BLOCKED"
        assert entity(health, "BUSINESS")["errors"] == [blocking]
    assert entity(health_of(client, DEMO_PHONE_NUMBER_IDS[0]), "PHONE_NUMBER")["can_send_message"] == "LIMITED"

    # When: the business is AVAILABLE again
    simulator.set_health("BUSINESS", "AVAILABLE")

    # Then: the number is back to LIMITED, the WABA to AVAILABLE with no leftover fields
    assert health_of(client, DEMO_PHONE_NUMBER_IDS[0])["can_send_message"] == "LIMITED"
    assert entity(health_of(client, DEMO_WABA_ID), "BUSINESS") == {
        "entity_type": "BUSINESS",
        "id": "500000000000001",
        "can_send_message": "AVAILABLE",
    }


def test_blocked_and_limited_get_made_up_details_when_none_are_given(
    simulator: GraphSimulator, client: httpx.Client
) -> None:
    # Given: the WABA BLOCKED and the app LIMITED without details
    simulator.set_health("WABA", "BLOCKED", DEMO_WABA_ID)
    simulator.set_health("APP", "LIMITED")

    # When: the WABA's health is read
    health = health_of(client, DEMO_WABA_ID)

    # Then: the blocked entity has an error with Meta's three fields, the limited one additional_info
    [error] = entity(health, "WABA")["errors"]
    assert set(error) == {"error_code", "error_description", "possible_solution"}
    assert entity(health, "APP")["additional_info"]
    assert health["can_send_message"] == "BLOCKED"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"entity_type": "MESSAGE_TEMPLATE", "can_send_message": "LIMITED"}, 400),
        ({"entity_type": "WABA", "can_send_message": "SOMETIMES", "id": DEMO_WABA_ID}, 400),
        ({"entity_type": "PHONE_NUMBER", "can_send_message": "LIMITED", "id": "100000000000777"}, 404),
        ({"entity_type": "PHONE_NUMBER", "can_send_message": "LIMITED"}, 404),
        ({"entity_type": "APP", "can_send_message": "BLOCKED", "errors": [{"error_code": "x"}]}, 400),
    ],
)
def test_the_health_control_rejects_what_meta_cannot_report(
    simulator: GraphSimulator, body: dict[str, Any], status: int
) -> None:
    # When: the control is given an impossible entity, state, id or error
    response = httpx.post(f"{simulator.base_url}/__simulator__/health", json=body)

    # Then: it refuses, and nothing changed
    assert response.status_code == status
    assert simulator._health == {}


def test_reset_restores_the_initial_state(
    simulator: GraphSimulator, client: httpx.Client, endpoint: MetaEndpoint
) -> None:
    # Given: every kind of state changed
    simulator.set_app_subscription(endpoint.url)
    client.post(
        f"/{DEMO_PHONE_NUMBER_IDS[0]}",
        headers=bearer(VALID_TOKEN),
        json={"webhook_configuration": {"override_callback_uri": endpoint.url, "verify_token": "vt"}},
    )
    client.post(f"/{DEMO_WABA_ID}/subscribed_apps", headers=bearer(VALID_TOKEN))
    simulator.set_health("PHONE_NUMBER", "BLOCKED", DEMO_PHONE_NUMBER_IDS[0])
    simulator.add_template("promo", "en_US")
    simulator.set_auto_statuses(False)
    simulator.post_webhook(DEMO_PHONE_NUMBER_IDS[0], statuses=[{"id": "w", "status": "sent", "recipient_id": "1"}])
    assert simulator.webhook_deliveries and simulator.handshakes

    # When: the simulator is reset over HTTP
    assert httpx.post(f"{simulator.base_url}/__simulator__/reset").json() == {"success": True}

    # Then: records cleared, auto statuses back on, no subscriptions or overrides, all AVAILABLE, only hello_world
    assert (simulator.webhook_deliveries, simulator.handshakes, simulator.calls) == ([], [], [])
    assert simulator._auto_statuses is True
    app = client.get(f"/{DEMO_APP_ID}/subscriptions", headers=bearer(APP_TOKEN)).json()
    params = {"fields": "webhook_configuration,health_status"}
    phone = client.get(f"/{DEMO_PHONE_NUMBER_IDS[0]}", params=params, headers=bearer(VALID_TOKEN)).json()
    templates = client.get(f"/{DEMO_WABA_ID}/message_templates", headers=bearer(VALID_TOKEN)).json()["data"]
    assert app == {"data": []}
    assert client.get(f"/{DEMO_WABA_ID}/subscribed_apps", headers=bearer(VALID_TOKEN)).json() == {"data": []}
    assert phone["webhook_configuration"] == {}
    assert phone["health_status"]["can_send_message"] == "AVAILABLE"
    assert [template["name"] for template in templates] == ["hello_world"]
