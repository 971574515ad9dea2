"""Authorization by scope, as API Gateway's JWT authorizer enforces the routes' AuthorizationScopes from
template.yaml: GETs need the read scope, every other JWT route the write scope; a valid token without it gets API
Gateway's own 403 before any function runs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import jwt
import pytest

from local.dev_tokens import AUDIENCE, ISSUER, READ_SCOPES
from local.gateway import Route, read_routes
from local.stack import LocalStack
from tests.conftest import ROOT
from tests.e2e.conftest import DEMO, Api

FORBIDDEN = {"message": "Forbidden"}
SOME_ID = "00000000-0000-4000-8000-000000000000"


def jwt_routes() -> list[Route]:
    return [route for route in read_routes(ROOT / "template.yaml") if route.authorized]


def concrete(path: str, integration_id: str = SOME_ID) -> str:
    return path.replace("{integration_id}", integration_id).replace("{wamid}", "wamid.unknown")


def client(stack: LocalStack, token: str) -> httpx.Client:
    return httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture
def reader(stack: LocalStack, tenant_a: Api) -> Iterator[httpx.Client]:
    """A read-only user of tenant A (the page's Read-only sign-in mints the same token)."""
    with client(stack, stack.tokens.issue(tenant_a.tenant_id, "reader", scopes=READ_SCOPES)) as http:
        yield http


def test_every_jwt_route_requires_a_scope_and_the_webhooks_none() -> None:
    # Given the routes the local gateway reads from template.yaml
    routes = read_routes(ROOT / "template.yaml")
    # Then GETs need integrations:read, the other JWT routes integrations:write, and the webhooks nothing
    for route in routes:
        if not route.authorized:
            assert route.scopes == (), route.route_key
        elif route.method == "GET":
            assert route.scopes == ("integrations:read",), route.route_key
        else:
            assert route.scopes == ("integrations:write",), route.route_key
    assert len(jwt_routes()) >= 15


def test_a_read_only_token_reads_but_changes_nothing(tenant_a: Api, reader: httpx.Client) -> None:
    # Given tenant A's integration, made by a user who may write
    created = tenant_a.post("/integrations/whatsapp", json={"name": "Main", **DEMO}).json()
    item = f"/integrations/whatsapp/{created['id']}"
    # When a read-only user of the same tenant lists and reads it, Then it may
    assert [entry["id"] for entry in reader.get("/integrations/whatsapp").json()["items"]] == [created["id"]]
    assert reader.get(item).json()["version"] == created["version"]
    assert reader.get(f"{item}/status").status_code == 200
    assert reader.get(f"{item}/audit").status_code == 200
    # When it tries to create, update, connect, delete, send a test message or repair
    attempts = {
        "create": reader.post("/integrations/whatsapp", json={"name": "Second", **DEMO}),
        "validate": reader.post("/integrations/whatsapp/validate", json=DEMO),
        "update": reader.put(item, json={"name": "Renamed"}, headers={"If-Match": f'"{created["version"]}"'}),
        "connect": reader.post(f"{item}/connect"),
        "disconnect": reader.post(f"{item}/disconnect"),
        "refresh": reader.post(f"{item}/status/refresh"),
        "test-message": reader.post(f"{item}/test-message", json={"to": "5511999990000"}),
        "repair": reader.post(f"{item}/diagnostics/repair", json={}),
        "delete": reader.delete(item),
    }
    # Then API Gateway answers its plain 403 every time, and the integration is exactly as it was
    assert {name: (answer.status_code, answer.json()) for name, answer in attempts.items()} == dict.fromkeys(
        attempts, (403, FORBIDDEN)
    )
    assert tenant_a.get(item).json() == created
    assert len(tenant_a.get("/integrations/whatsapp").json()["items"]) == 1


def test_a_token_with_neither_scope_is_forbidden_everywhere(stack: LocalStack, tenant_a: Api) -> None:
    # Given a valid token of tenant A that carries no scope of this API (say an ID token)
    created = tenant_a.post("/integrations/whatsapp", json={"name": "Main", **DEMO}).json()
    with client(stack, stack.tokens.issue(tenant_a.tenant_id, "no-scopes", scopes=("openid", "profile"))) as http:
        # When it calls every JWT route of the template
        answers = {
            route.route_key: http.request(route.method, concrete(route.path, created["id"])) for route in jwt_routes()
        }
    # Then each one is API Gateway's 403, before any function ran
    assert {key: (answer.status_code, answer.json()) for key, answer in answers.items()} == dict.fromkeys(
        answers, (403, FORBIDDEN)
    )
    assert tenant_a.get(f"/integrations/whatsapp/{created['id']}").json() == created


def test_scopes_are_read_from_scp_lists_too(stack: LocalStack) -> None:
    # Given a token whose scopes are an `scp` list (as some identity providers issue them), read scope only
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "tenant_id": "tenant-scp", "iat": now, "exp": now + 300}
    token = jwt.encode({**claims, "scp": ["integrations:read"]}, stack.tokens._private_key, algorithm="RS256")
    with client(stack, token) as http:
        # When it lists, and when it creates
        listed = http.get("/integrations/whatsapp")
        created = http.post("/integrations/whatsapp", json={"name": "Main", **DEMO})
    # Then the list is served and the create is forbidden
    assert listed.status_code == 200
    assert (created.status_code, created.json()) == (403, FORBIDDEN)


def test_a_subject_the_audit_trail_cannot_store_is_kept_with_those_characters_replaced(stack: LocalStack) -> None:
    # Given a valid token whose `sub` carries a NUL and a lone surrogate
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "a\u0000b\udfff", "tenant_id": "tenant-odd-sub", "iat": now}
    token = jwt.encode(
        {**claims, "exp": now + 300, "scope": "integrations:read integrations:write"},
        stack.tokens._private_key,
        algorithm="RS256",
    )
    with client(stack, token) as http:
        # When it creates an integration (an audited change)
        created = http.post("/integrations/whatsapp", json={"name": "Main", **DEMO})
        audit = http.get(f"/integrations/whatsapp/{created.json()['id']}/audit")
    # Then the change is made and audited, the actor with U+FFFD in place of each
    assert created.status_code == 201, created.text
    assert audit.json()["items"][0]["actor"] == "a\ufffdb\ufffd"


def test_without_a_token_it_is_still_401_not_403(stack: LocalStack) -> None:
    # Given no token at all, When a write route is called, Then the authorizer answers 401 (sign in), not 403
    answer = httpx.post(f"{stack.api_url}/integrations/whatsapp", json=DEMO)
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
