"""The README walkthrough, over HTTP against the local stack."""

from __future__ import annotations

from local import graph_simulator as sim
from local.stack import LocalStack
from tests.e2e.conftest import DEMO, Api


def test_the_readme_walkthrough(tenant_a: Api, stack: LocalStack) -> None:
    # Given the demo credentials, the form's dry run validates them and stores nothing
    checked = tenant_a.post("/integrations/whatsapp/validate", json=DEMO)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True
    assert tenant_a.get("/integrations/whatsapp").json()["items"] == []

    # When the tenant creates the integration
    created = tenant_a.post("/integrations/whatsapp", json={"name": "Main number", **DEMO})
    # Then it is stored as validated, with Meta's profile, an ETag and a Location
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "validated" and body["version"] == 1
    assert body["phone_profile"]["verified_name"] == "Demo Shop 1"
    assert body["token_facts"]["scopes"]
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"/integrations/whatsapp/{body['id']}"
    assert sim.VALID_TOKEN not in created.text and "access_token" not in body

    # An expired token is refused with the fix
    expired = tenant_a.post(
        "/integrations/whatsapp",
        json={
            "name": "Second",
            **DEMO,
            "phone_number_id": sim.DEMO_PHONE_NUMBER_IDS[1],
            "access_token": sim.EXPIRED_TOKEN,
        },
    )
    assert expired.status_code == 422
    assert expired.headers["content-type"] == "application/problem+json"
    [problem] = expired.json()["errors"]
    assert problem["code"] == "token_expired" and problem["meta_code"] == 190 and problem["meta_subcode"] == 463
    assert "Generate new token" in problem["fix"]

    # List and read
    listed = tenant_a.get("/integrations/whatsapp", params={"limit": 10})
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]
    one = tenant_a.get(f"/integrations/whatsapp/{body['id']}")
    assert one.status_code == 200 and one.headers["etag"] == '"1"'

    # Update needs the ETag; a stale one is refused
    path = f"/integrations/whatsapp/{body['id']}"
    assert tenant_a.put(path, json={"name": "Renamed"}).status_code == 428
    renamed = tenant_a.put(path, json={"name": "Renamed"}, headers={"If-Match": '"1"'})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed" and renamed.headers["etag"] == '"2"'
    stale = tenant_a.put(path, json={"name": "Again"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["etag"] == '"2"'

    # Delete, then it is gone
    deleted = tenant_a.delete(path)
    assert deleted.status_code == 204, deleted.text
    assert tenant_a.get(path).status_code == 404

    # The audit trail was written for every change
    kept = tenant_a.post("/integrations/whatsapp", json={"name": "Kept", **DEMO}).json()
    tenant_a.put(f"/integrations/whatsapp/{kept['id']}", json={"name": "Kept 2"}, headers={"If-Match": '"1"'})
    audit = tenant_a.get(f"/integrations/whatsapp/{kept['id']}/audit")
    assert audit.status_code == 200
    assert [event["action"] for event in audit.json()["items"]] == ["integration.updated", "integration.created"]
    assert audit.json()["items"][0]["actor"] == f"user-of-{tenant_a.tenant_id}"
    assert sim.VALID_TOKEN not in audit.text


def test_requests_without_a_valid_jwt_are_refused_by_the_gateway(stack: LocalStack) -> None:
    import httpx

    with httpx.Client(base_url=stack.api_url) as anonymous:
        assert anonymous.get("/integrations/whatsapp").status_code == 401
        assert anonymous.get("/integrations/whatsapp", headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
        expired = stack.tokens.issue("tenant-x", ttl_seconds=-60)
        assert (
            anonymous.get("/integrations/whatsapp", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
        )


def test_meta_trouble_answers_503_with_retry_after_and_stores_nothing(tenant_a: Api) -> None:
    for token in (sim.RATE_LIMITED_TOKEN, sim.GRAPH_5XX_TOKEN):
        answer = tenant_a.post("/integrations/whatsapp", json={"name": "x", **DEMO, "access_token": token})
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["retry-after"]) > 0
    assert tenant_a.get("/integrations/whatsapp").json()["items"] == []


def test_a_phone_number_taken_by_another_tenant_is_409(tenant_a: Api, tenant_b: Api) -> None:
    assert tenant_a.post("/integrations/whatsapp", json={"name": "A", **DEMO}).status_code == 201
    taken = tenant_b.post("/integrations/whatsapp", json={"name": "B", **DEMO})
    assert taken.status_code == 409 and taken.json()["code"] == "phone_number_already_connected"


def test_list_pages_and_filters(tenant_a: Api) -> None:
    for index, phone in enumerate(sim.DEMO_PHONE_NUMBER_IDS[:5]):
        assert (
            tenant_a.post(
                "/integrations/whatsapp", json={"name": f"n{index}", **DEMO, "phone_number_id": phone}
            ).status_code
            == 201
        )
    seen, cursor = [], None
    while True:
        page = tenant_a.get("/integrations/whatsapp", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        seen += [item["name"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["n4", "n3", "n2", "n1", "n0"]
    assert tenant_a.get("/integrations/whatsapp", params={"status": "connected"}).json()["items"] == []
    assert tenant_a.get("/integrations/whatsapp", params={"cursor": "garbage"}).status_code == 400
