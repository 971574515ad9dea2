from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from whatsapp_integrations.adapters.graph_client import GraphClient, appsecret_proof
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.domain.errors import CredentialsRejected, MetaUnavailable
from whatsapp_integrations.usecases.live_validation import validate_live

TOKEN = "EAAUNITTOKEN000000000000000000000000"
PHONE, WABA, APP, SECRET = "100000000000001", "200000000000001", "300000000000001", "0123456789abcdef0123456789abcdef"
DEBUG_OK = {
    "data": {
        "app_id": APP,
        "type": "SYSTEM_USER",
        "expires_at": 0,
        "data_access_expires_at": 0,
        "is_valid": True,
        "scopes": ["whatsapp_business_management", "whatsapp_business_messaging"],
    }
}
PHONE_OK = {
    "id": PHONE,
    "display_phone_number": "+1 555-010-0001",
    "verified_name": "Acme",
    "quality_rating": "GREEN",
    "name_status": "APPROVED",
    "platform_type": "CLOUD_API",
    "code_verification_status": "VERIFIED",
    "whatsapp_business_manager_messaging_limit": "TIER_2K",
    "status": "CONNECTED",
    "account_mode": "LIVE",
}


def meta_error(code: int, subcode: int | None = None, status: int = 400, transient: bool = False) -> httpx.Response:
    error: dict[str, Any] = {
        "message": "m",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "TRACE1",
        "is_transient": transient,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


Route = Callable[[httpx.Request], httpx.Response]


def graph(overrides: dict[str, httpx.Response] | None = None, seen: list[httpx.Request] | None = None) -> GraphClient:
    """A canned Graph answer per path (test double; no sockets)."""
    answers = {
        "/v25.0/debug_token": httpx.Response(200, json=DEBUG_OK),
        f"/v25.0/{WABA}/phone_numbers": httpx.Response(200, json={"data": [{"id": PHONE}], "paging": {}}),
        f"/v25.0/{PHONE}": httpx.Response(200, json=PHONE_OK),
        "/v25.0/oauth/access_token": httpx.Response(200, json={"access_token": f"{APP}|x"}),
        **(overrides or {}),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return answers.get(request.url.path, meta_error(100))

    return GraphClient(httpx.Client(transport=httpx.MockTransport(answer)), "https://graph.test/v25.0")


def creds(**overrides: str | None) -> MetaCredentials:
    """The whole form, app ID and secret included (connecting needs them)."""
    values: dict[str, Any] = {
        "phone_number_id": PHONE,
        "waba_id": WABA,
        "access_token": TOKEN,
        "app_id": APP,
        "app_secret": SECRET,
        **overrides,
    }
    return MetaCredentials(**values)


def rejected_codes(client: GraphClient, credentials: MetaCredentials | None = None) -> set[tuple[str, str]]:
    with pytest.raises(CredentialsRejected) as raised:
        validate_live(credentials or creds(), client)
    return {(problem.field, problem.code) for problem in raised.value.problems}


def test_valid_credentials_return_the_profile_and_token_facts() -> None:
    # Given Graph confirms the token, the ownership and the number
    # When the credentials are validated
    validated = validate_live(creds(), graph())
    # Then the profile and the token facts come back, without warnings
    assert validated.phone_profile.verified_name == "Acme"
    assert validated.phone_profile.messaging_limit == "TIER_2K"
    assert validated.token_facts.type == "SYSTEM_USER"
    assert validated.token_facts.expires_at is None
    assert validated.warnings == []


def test_without_the_app_secret_the_credentials_pass_with_a_warning_that_connecting_needs_it() -> None:
    # Given valid credentials without the app ID and secret
    validated = validate_live(creds(app_id=None, app_secret=None), graph())
    # Then they are valid, and the one warning says what connecting will need
    assert [warning.code for warning in validated.warnings] == ["app_secret_missing"]
    assert "App secret" in validated.warnings[0].fix


def test_an_expired_token_is_reported_once_with_metas_codes() -> None:
    expired = meta_error(190, 463, status=401)
    client = graph({"/v25.0/debug_token": expired, f"/v25.0/{WABA}/phone_numbers": expired, f"/v25.0/{PHONE}": expired})
    with pytest.raises(CredentialsRejected) as raised:
        validate_live(creds(), client)
    [problem] = raised.value.problems
    assert (problem.field, problem.code, problem.meta_code, problem.meta_subcode, problem.fbtrace_id) == (
        "access_token",
        "token_expired",
        190,
        463,
        "TRACE1",
    )


def test_a_number_outside_the_waba_is_refused() -> None:
    client = graph({f"/v25.0/{WABA}/phone_numbers": httpx.Response(200, json={"data": [{"id": "1999"}]})})
    assert rejected_codes(client) == {("phone_number_id", "phone_number_not_in_waba")}


def test_missing_scope_user_token_and_app_mismatch_are_all_listed() -> None:
    debug = {
        "data": {**DEBUG_OK["data"], "type": "USER", "app_id": "999999", "scopes": ["whatsapp_business_management"]}
    }
    client = graph({"/v25.0/debug_token": httpx.Response(200, json=debug)})
    assert rejected_codes(client, creds(app_id=APP)) == {
        ("access_token", "token_not_system_user"),
        ("access_token", "token_missing_scope"),
        ("app_id", "app_id_mismatch"),
    }


def test_an_expiring_token_passes_with_a_warning() -> None:
    debug = {"data": {**DEBUG_OK["data"], "expires_at": 1_900_000_000}}
    validated = validate_live(creds(), graph({"/v25.0/debug_token": httpx.Response(200, json=debug)}))
    assert [warning.code for warning in validated.warnings] == ["token_expires"]


def test_an_unknown_waba_points_at_the_waba_field() -> None:
    client = graph({f"/v25.0/{WABA}/phone_numbers": meta_error(100, 33)})
    assert rejected_codes(client) == {("waba_id", "object_not_found")}


def test_a_wrong_app_secret_is_reported_once_even_though_every_proof_fails() -> None:
    bad_proof = httpx.Response(
        400,
        json={
            "error": {
                "message": "Invalid appsecret_proof provided in the API argument",
                "code": 100,
                "type": "OAuthException",
            }
        },
    )
    client = graph(
        {
            "/v25.0/oauth/access_token": meta_error(101),
            "/v25.0/debug_token": bad_proof,
            f"/v25.0/{WABA}/phone_numbers": bad_proof,
            f"/v25.0/{PHONE}": bad_proof,
        }
    )
    assert rejected_codes(client, creds(app_id=APP, app_secret=SECRET)) == {("app_secret", "app_secret_invalid")}


def test_require_app_secret_asks_for_the_secret() -> None:
    needs_proof = httpx.Response(
        400, json={"error": {"message": "API calls from the server require an appsecret_proof argument", "code": 100}}
    )
    client = graph({"/v25.0/debug_token": needs_proof})
    assert rejected_codes(client, creds(app_id=None, app_secret=None)) == {("app_secret", "app_secret_required")}


def test_the_app_secret_signs_every_token_call() -> None:
    seen: list[httpx.Request] = []
    validate_live(creds(app_id=APP, app_secret=SECRET), graph(seen=seen))
    token_calls = [request for request in seen if request.url.path != "/v25.0/oauth/access_token"]
    assert len(token_calls) == 3
    assert {request.url.params["appsecret_proof"] for request in token_calls} == {appsecret_proof(TOKEN, SECRET)}


@pytest.mark.parametrize(
    "failure",
    [
        meta_error(80007),
        meta_error(2, status=500, transient=True),
        httpx.Response(502, text="<html>bad gateway</html>"),
    ],
)
def test_meta_trouble_means_unavailable_not_rejected(failure: httpx.Response) -> None:
    with pytest.raises(MetaUnavailable) as raised:
        validate_live(creds(), graph({f"/v25.0/{PHONE}": failure}))
    assert raised.value.retry_after_seconds > 0


def test_a_network_failure_hides_the_url_with_its_secrets() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = GraphClient(httpx.Client(transport=httpx.MockTransport(broken)), "https://graph.test/v25.0")
    with pytest.raises(MetaUnavailable) as raised:
        validate_live(creds(), client)
    assert TOKEN not in str(raised.value) and TOKEN not in repr(raised.value.__cause__)


def test_profile_warnings_tell_what_to_fix() -> None:
    sandbox = {**PHONE_OK, "quality_rating": "RED", "account_mode": "SANDBOX", "platform_type": "NOT_APPLICABLE"}
    validated = validate_live(creds(), graph({f"/v25.0/{PHONE}": httpx.Response(200, json=sandbox)}))
    assert {warning.code for warning in validated.warnings} == {"quality_low", "test_number", "phone_not_registered"}


def test_metas_code_1_for_a_wrong_client_secret_is_a_refusal_not_an_outage() -> None:
    # Given Graph answers the client-credentials call with code 1 (its answer to a wrong client secret)
    wrong_secret = httpx.Response(400, json={"error": {"message": "Error validating client secret.", "code": 1}})
    client = graph({"/v25.0/oauth/access_token": wrong_secret})
    # Then the tenant is told the secret is wrong, with the field it concerns
    assert rejected_codes(client, creds(app_id=APP, app_secret=SECRET)) == {("app_secret", "app_secret_invalid")}
