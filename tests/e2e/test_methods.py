"""Methods through the local gateway as through API Gateway: a known path with another method is our 405 with Allow
(any method token: PATCH, TRACE, QUERY, ...), a plain OPTIONS is 204 with Allow, CORS preflights are still the
gateway's own, and unknown paths are still API Gateway's 404."""

from __future__ import annotations

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import DEMO, Api

SOME_ID = "00000000-0000-4000-8000-000000000000"
NOT_FOUND = {"message": "Not Found"}


def allow(answer: httpx.Response) -> list[str]:
    return [method.strip() for method in answer.headers["allow"].split(",")]


@pytest.mark.parametrize(
    ("method", "path", "methods"),
    [
        ("PATCH", f"/integrations/whatsapp/{SOME_ID}", ["GET", "PUT", "DELETE"]),
        ("TRACE", "/integrations/whatsapp", ["GET", "POST"]),
        ("QUERY", f"/integrations/whatsapp/{SOME_ID}/status", ["GET"]),
        ("GET", f"/integrations/whatsapp/{SOME_ID}/connect", ["POST"]),
        ("PUT", f"/integrations/whatsapp/{SOME_ID}/messages/wamid.x", ["GET"]),
        ("GET", "/webhooks/evolution", ["POST"]),
        ("DELETE", f"/webhooks/meta/{SOME_ID}", ["GET", "POST"]),
        # A literal segment beats a path variable: validate is its own path, not an integration id
        ("GET", "/integrations/whatsapp/validate", ["POST"]),
    ],
)
def test_another_method_on_a_known_path_is_405_with_allow(
    stack: LocalStack, tenant_a: Api, method: str, path: str, methods: list[str]
) -> None:
    # Given a known path and a method it does not serve, with a token and without one
    for answer in (tenant_a.request(method, path), httpx.request(method, f"{stack.api_url}{path}")):
        # Then the answer is the 405 problem, and Allow lists the path's methods (OPTIONS too)
        assert answer.status_code == 405, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert allow(answer) == [*methods, "OPTIONS"]
        problem = answer.json()
        assert (problem["code"], problem["status"], problem["type"]) == (
            "method_not_allowed",
            405,
            "urn:whatsapp-integrations:problem:method_not_allowed",
        )
        assert problem["request_id"]


def test_the_paths_own_methods_still_win_over_any(stack: LocalStack, tenant_a: Api) -> None:
    # Given the list path, which has GET, POST and ANY routes
    created = tenant_a.post("/integrations/whatsapp", json={"name": "Main", **DEMO})
    listed = tenant_a.get("/integrations/whatsapp")
    unauthenticated = httpx.get(f"{stack.api_url}/integrations/whatsapp")
    # Then GET and POST reach their functions (and still need the JWT: 401, not 405)
    assert created.status_code == 201 and listed.status_code == 200
    assert listed.json()["items"][0]["id"] == created.json()["id"]
    assert (unauthenticated.status_code, unauthenticated.json()) == (401, {"message": "Unauthorized"})


def test_a_plain_options_is_204_with_allow_and_a_preflight_is_still_cors(stack: LocalStack) -> None:
    assert stack.page_url is not None
    origin = stack.page_url.removesuffix("/integrations")
    # Given an OPTIONS without Access-Control-Request-Method (not a preflight)
    plain = httpx.options(f"{stack.api_url}/integrations/whatsapp/{SOME_ID}")
    # Then 204 with the path's methods
    assert plain.status_code == 204 and plain.content == b""
    assert allow(plain) == ["GET", "PUT", "DELETE", "OPTIONS"]
    # Given the page's preflight for the same path, Then the gateway answers it from CorsConfiguration as before
    preflight = httpx.options(
        f"{stack.api_url}/integrations/whatsapp/{SOME_ID}",
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
    )
    assert preflight.status_code == 204 and "allow" not in preflight.headers
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "PUT" in preflight.headers["access-control-allow-methods"].split(",")
    # And the page may read a 405 (the CORS headers are added to our answers too)
    refused = httpx.patch(f"{stack.api_url}/integrations/whatsapp/{SOME_ID}", headers={"Origin": origin})
    assert refused.status_code == 405 and refused.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/integrations/nothing-here/at/all"),
        ("TRACE", "/unknown"),
        ("OPTIONS", "/unknown"),
        ("GET", f"/integrations/whatsapp/{SOME_ID}/unknown"),
        ("QUERY", "/webhooks"),
    ],
)
def test_unknown_paths_are_still_api_gateways_404(stack: LocalStack, method: str, path: str) -> None:
    # Given a path no route has, When any method asks for it, Then API Gateway's own 404 answers
    answer = httpx.request(method, f"{stack.api_url}{path}")
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    assert "allow" not in answer.headers


def test_head_gets_the_headers_without_a_body_and_the_connection_stays_usable(stack: LocalStack) -> None:
    # Given one keep-alive connection
    with httpx.Client(base_url=stack.api_url) as http:
        # When it sends HEAD on a known path, then another request
        head = http.head("/integrations/whatsapp")
        after = http.request("TRACE", "/integrations/whatsapp")
    # Then HEAD got the 405's headers and no body, and the next answer is intact on the same connection
    assert head.status_code == 405 and head.content == b"" and allow(head) == ["GET", "POST", "OPTIONS"]
    assert int(head.headers["content-length"]) > 0
    assert after.status_code == 405 and after.json()["code"] == "method_not_allowed"
