"""The local stack itself: CORS like API Gateway's HTTP API, the page server, ports from the environment and the
port check that runs before anything is touched."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import jwt
import pytest

from local.stack import LocalStack, PortBusy, StackConfig, start_stack
from tests.e2e.conftest import Api


def page_origin(stack: LocalStack) -> str:
    assert stack.page_url is not None
    return stack.page_url.removesuffix("/integrations")


def test_a_preflight_from_the_page_is_answered_for_any_path_without_a_token(stack: LocalStack) -> None:
    # Given the page's origin asking to PUT with If-Match, When the browser sends its preflight
    answer = httpx.options(
        f"{stack.api_url}/integrations/whatsapp/00000000-0000-4000-8000-000000000000",
        headers={
            "Origin": page_origin(stack),
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,content-type,if-match",
        },
    )
    # Then the gateway answers 204 with the template's CorsConfiguration, no JWT needed
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == page_origin(stack)
    assert "if-none-match" in answer.headers["access-control-allow-headers"].split(",")
    assert "PUT" in answer.headers["access-control-allow-methods"].split(",")
    assert answer.headers["access-control-max-age"] == "600"


def test_answers_carry_cors_headers_for_the_page_only(stack: LocalStack, tenant_a: Api) -> None:
    # Given a request from the page's origin, and one from another origin
    mine = tenant_a.get("/integrations/whatsapp", headers={"Origin": page_origin(stack)})
    other = tenant_a.get("/integrations/whatsapp", headers={"Origin": "https://evil.example"})
    unauthenticated = httpx.get(f"{stack.api_url}/integrations/whatsapp", headers={"Origin": page_origin(stack)})
    preflight = httpx.options(
        f"{stack.api_url}/integrations/whatsapp",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    # Then the page may read answers and their ETag, API Gateway's own 401 included; the other origin gets nothing
    assert mine.headers["access-control-allow-origin"] == page_origin(stack)
    assert set(mine.headers["access-control-expose-headers"].split(",")) >= {"etag", "retry-after"}
    assert unauthenticated.status_code == 401 and "access-control-allow-origin" in unauthenticated.headers
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code == 204 and "access-control-allow-origin" not in preflight.headers


def test_every_answer_names_its_request_as_api_gateway_does(tenant_a: Api) -> None:
    # Given an answer that succeeds and one refused
    found = tenant_a.get("/integrations/whatsapp")
    refused = tenant_a.get("/integrations/whatsapp/not-a-uuid")
    # Then each carries its request ID, the one a problem names and every log line of the request carries
    assert found.headers["apigw-requestid"] and found.headers["apigw-requestid"] != refused.headers["apigw-requestid"]
    assert refused.json()["request_id"] == refused.headers["apigw-requestid"]


def test_the_page_server_serves_the_page_its_config_and_dev_tokens(stack: LocalStack) -> None:
    assert stack.page_url is not None
    origin = page_origin(stack)
    # Given the page server, When the browser loads the page and its config
    page = httpx.get(stack.page_url)
    config = httpx.get(f"{origin}/integrations/config.json").json()
    # Then it gets the built page and the local API's address
    assert page.status_code == 200 and '<div id="root">' in page.text
    assert config["apiBaseUrl"] == stack.api_url
    # When the tenant picker asks for tokens, Then it gets JWTs the gateway accepts, with the scopes asked for
    writer = httpx.post(f"{origin}{config['devTokenUrl']}", json={"tenant": "tenant-page"}).json()
    reader = httpx.post(f"{origin}{config['devTokenUrl']}", json={"tenant": "tenant-page", "read_only": True}).json()
    assert stack.tokens.verify(writer["access_token"])["scope"] == "integrations:read integrations:write"
    assert stack.tokens.verify(reader["access_token"])["scope"] == "integrations:read"
    listed = httpx.get(
        f"{stack.api_url}/integrations/whatsapp", headers={"Authorization": f"Bearer {writer['access_token']}"}
    )
    assert listed.status_code == 200
    # And bad tenants, path traversal and other paths are refused
    assert httpx.post(f"{origin}/__local__/token", json={"tenant": "../x"}).status_code == 400
    assert httpx.get(f"{origin}/integrations/..%2F..%2Fpyproject.toml").status_code == 404
    assert httpx.get(f"{origin}/docs/troubleshooting.md").headers["content-type"].startswith("text/plain")


def test_a_token_without_expiry_is_refused(stack: LocalStack) -> None:
    # Given a token signed with the dev key but without `exp`
    claims = stack.tokens.verify(stack.tokens.issue("tenant-x"))
    del claims["exp"]
    token = jwt.encode(claims, stack.tokens._private_key, algorithm="RS256")
    # When it is verified, Then it is refused
    with pytest.raises(jwt.MissingRequiredClaimError):
        stack.tokens.verify(token)


def test_ports_and_the_database_name_come_from_the_environment() -> None:
    # Given the environment of `API_PORT=4003 PAGE_PORT=4005 ... make dev`
    environ = {"API_PORT": "4003", "PAGE_PORT": "4005", "MOTO_PORT": "4007", "DATABASE_NAME": "mine"}
    # When the configuration is read, Then those values win and the others keep their defaults
    config = StackConfig.from_environment(environ)
    assert (config.api_port, config.page_port, config.moto_port, config.graph_port) == (4003, 4005, 4007, 3004)
    assert config.database_name == "mine"
    with pytest.raises(ValueError, match="API_PORT"):
        StackConfig.from_environment({"API_PORT": "http"})


def test_a_busy_port_fails_fast_before_the_database_is_touched(tmp_path: Path) -> None:
    # Given a port that something else listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy_port = taken.getsockname()[1]
        # When a stack is started on it, with a state directory where PostgreSQL would be looked for
        config = StackConfig(page_port=busy_port, api_port=0, graph_port=0, moto_port=0, evolution_port=0)
        config.state_dir = tmp_path / "untouched"
        # Then it fails at once, naming the port, and nothing was created
        with pytest.raises(PortBusy, match=f"port {busy_port} \\(PAGE_PORT\\)"):
            start_stack(config)
    assert not config.state_dir.exists()
