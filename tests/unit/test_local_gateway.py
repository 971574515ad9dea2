"""The local gateway reads what API Gateway enforces from template.yaml: routes, their order, their scopes."""

from __future__ import annotations

import pytest

from local.gateway import read_routes, token_scopes
from tests.conftest import ROOT

TEMPLATE = ROOT / "template.yaml"


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"scope": "integrations:read integrations:write"}, {"integrations:read", "integrations:write"}),
        ({"scp": ["integrations:read"]}, {"integrations:read"}),
        ({"scp": "integrations:write"}, {"integrations:write"}),
        ({"scope": "openid", "scp": ["integrations:read"]}, {"openid", "integrations:read"}),
        ({"scope": ""}, set()),
        ({}, set()),
    ],
)
def test_token_scopes_come_from_scope_or_scp(claims: dict[str, object], expected: set[str]) -> None:
    # Given a token's claims, When its scopes are read, Then both claims and both shapes count
    assert token_scopes(claims) == expected


def test_scope_parameters_given_to_the_stack_reach_the_routes() -> None:
    # Given a deployment that names its scopes differently
    routes = read_routes(TEMPLATE, {"ReadScope": "whatsapp/read", "WriteScope": "whatsapp/write"})
    # When the routes are read, Then the gateway enforces those names
    scopes = {route.route_key: route.scopes for route in routes}
    assert scopes["GET /integrations/whatsapp"] == ("whatsapp/read",)
    assert scopes["POST /integrations/whatsapp"] == ("whatsapp/write",)
    assert scopes["POST /webhooks/evolution"] == ()
