"""Another tenant's ids answer 404 on every route, and nothing of theirs changes."""

from __future__ import annotations

import pytest

from local import graph_simulator as sim
from tests.e2e.conftest import Api

DEMO = {
    "name": "A's number",
    "phone_number_id": sim.DEMO_PHONE_NUMBER_IDS[0],
    "waba_id": sim.DEMO_WABA_ID,
    "access_token": sim.VALID_TOKEN,
}


@pytest.mark.parametrize(
    ("method", "suffix", "body", "headers"),
    [
        ("GET", "", None, {}),
        ("PUT", "", {"name": "stolen"}, {"If-Match": '"1"'}),
        ("DELETE", "", None, {}),
        ("GET", "/audit", None, {}),
    ],
)
def test_every_route_hides_another_tenants_integration(
    tenant_a: Api, tenant_b: Api, method: str, suffix: str, body: dict | None, headers: dict
) -> None:
    # Given tenant A's integration
    created = tenant_a.post("/integrations/whatsapp", json=DEMO).json()
    # When tenant B addresses it by id
    answer = tenant_b.request(method, f"/integrations/whatsapp/{created['id']}{suffix}", json=body, headers=headers)
    # Then B gets 404 in the problem shape, and A's integration is untouched
    assert answer.status_code == 404
    assert answer.json()["code"] == "integration_not_found"
    mine = tenant_a.get(f"/integrations/whatsapp/{created['id']}")
    assert mine.status_code == 200 and mine.json() == created


def test_lists_show_only_the_callers_integrations(tenant_a: Api, tenant_b: Api) -> None:
    tenant_a.post("/integrations/whatsapp", json=DEMO)
    assert tenant_b.get("/integrations/whatsapp").json() == {"items": [], "next_cursor": None}
