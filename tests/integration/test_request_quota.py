"""Each tenant's quota of requests that change something, kept in PostgreSQL so that it holds across instances."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from local.gateway import LambdaContext, http_api_event
from tests.conftest import start_well_inside_a_window
from tests.integration.conftest import load_function
from whatsapp_integrations.services import Services
from whatsapp_integrations.settings import Settings

VALIDATE = ("validate_credentials", "POST /integrations/whatsapp/validate")
LIST = ("list_integrations", "GET /integrations/whatsapp")
# Refused by the local checks (422) without calling Meta, but a request that counts all the same
BODY = json.dumps({"phone_number_id": "1", "waba_id": "2", "access_token": "x"}).encode()


def request(route: tuple[str, str], tenant: str) -> dict[str, Any]:
    """One request through a freshly loaded function (a new Lambda instance each time)."""
    folder, route_key = route
    method, path = route_key.split(" ")
    body = BODY if method == "POST" else b""
    event = http_api_event(
        route_key,
        method,
        path,
        headers={"content-type": "application/json"} if body else {},
        body=body,
        claims={"tenant_id": tenant, "sub": "user"},
    )
    module = load_function(folder, f"quota_{folder}_{uuid4().hex}")
    return module.lambda_handler(event, LambdaContext(folder, "r"))


def test_changing_requests_are_limited_per_tenant_and_reads_are_not(
    services: Services, migrated: Settings, lambda_environment: Callable[[dict[str, str]], None]
) -> None:
    # Given a quota of two changing requests a minute
    lambda_environment(
        {
            "DATABASE_URL": migrated.database_url or "",
            "KMS_KEY_ID": migrated.kms_key_id,
            "GRAPH_API_BASE_URL": str(migrated.graph_api_base_url),
            "TENANT_REQUESTS_PER_MINUTE": "2",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    tenant, other = f"t-{uuid4().hex[:8]}", f"t-{uuid4().hex[:8]}"
    start_well_inside_a_window(60, needed_seconds=15)
    # When the tenant sends three, each through another instance, and reads three times
    answers = [request(VALIDATE, tenant) for _ in range(3)]
    reads = [request(LIST, tenant)["statusCode"] for _ in range(3)]
    # Then the third is refused with 429 and a Retry-After, and the reads are not counted
    assert [answer["statusCode"] for answer in answers] == [422, 422, 429]
    refused = json.loads(answers[2]["body"])
    assert refused["code"] == "rate_limited" and "requests that change something" in refused["detail"]
    assert 1 <= int(answers[2]["headers"]["Retry-After"]) <= 61
    assert reads == [200, 200, 200]
    # And another tenant is not affected
    assert request(VALIDATE, other)["statusCode"] == 422
