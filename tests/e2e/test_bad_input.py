"""Hostile and careless input gets a clear 4xx in the problem shape, never a 500, and nothing stored is lost."""

from __future__ import annotations

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local import graph_simulator as sim
from local.stack import LocalStack
from tests.e2e.conftest import Api

DEMO = {
    "name": "Main",
    "phone_number_id": sim.DEMO_PHONE_NUMBER_IDS[0],
    "waba_id": sim.DEMO_WABA_ID,
    "access_token": sim.VALID_TOKEN,
}


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b'{"name": ', "application/json", 400, "malformed_json"),
        (b"[]", "application/json", 400, "invalid_request"),
        (
            b'{"name": "x", "phone_number_id": 1, "waba_id": null, "access_token": "EAA", "extra": 1}',
            "application/json",
            400,
            "invalid_request",
        ),
        (b"name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"--b\r\n\r\nx\r\n--b--", "multipart/form-data", 415, "unsupported_media_type"),
        (
            b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--",
            "multipart/form-data; boundary=b",
            415,
            "unsupported_media_type",
        ),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "malformed_json"),
        (b"hello", "text/plain", 415, "unsupported_media_type"),
        (b'{"name": "' + b"x" * 40_000 + b'"}', "application/json", 413, "body_too_large"),
        (b"\xff\xfe\x00garbage", "application/json", 400, "malformed_json"),
    ],
)
def test_bad_bodies_on_create(tenant_a: Api, content: bytes, content_type: str, status: int, code: str) -> None:
    answer = tenant_a.post("/integrations/whatsapp", content=content, headers={"Content-Type": content_type})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code and answer.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/integrations/whatsapp/not-a-uuid",
        "/integrations/whatsapp/1%27%20OR%201=1",
        "/integrations/whatsapp/not-a-uuid/audit",
    ],
)
def test_bad_ids_are_400(tenant_a: Api, path: str) -> None:
    answer = tenant_a.get(path)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_request"


def test_unknown_ids_are_404(tenant_a: Api) -> None:
    answer = tenant_a.get("/integrations/whatsapp/00000000-0000-4000-8000-000000000000")
    assert answer.status_code == 404 and answer.json()["code"] == "integration_not_found"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "1000"},
        {"limit": "ten"},
        {"status": "nope"},
        {"cursor": "%%%"},
        {"cursor": "x" * 300},
    ],
)
def test_bad_query_parameters_are_400(tenant_a: Api, params: dict[str, str]) -> None:
    answer = tenant_a.get("/integrations/whatsapp", params=params)
    assert answer.status_code == 400, answer.text


def test_a_failed_update_keeps_what_was_stored(tenant_a: Api) -> None:
    created = tenant_a.post("/integrations/whatsapp", json=DEMO).json()
    path = f"/integrations/whatsapp/{created['id']}"
    for body, headers, status in [
        ({"access_token": sim.EXPIRED_TOKEN}, {"If-Match": '"1"'}, 422),
        ({"name": ""}, {"If-Match": '"1"'}, 400),
        ({}, {"If-Match": '"1"'}, 400),
        ({"name": None}, {"If-Match": '"1"'}, 400),
        ({"name": "x"}, {"If-Match": "yesterday"}, 400),
        ({"tenant_id": "tenant-b"}, {"If-Match": '"1"'}, 400),
    ]:
        answer = tenant_a.put(path, json=body, headers=headers)
        assert answer.status_code == status, (body, answer.text)
    assert tenant_a.get(path).json() == created


def test_no_secret_is_ever_echoed(tenant_a: Api) -> None:
    answers = [
        tenant_a.post("/integrations/whatsapp", json=DEMO),
        tenant_a.post(
            "/integrations/whatsapp/validate",
            json={**DEMO, "app_id": sim.DEMO_APP_ID, "app_secret": sim.DEMO_APP_SECRET},
        ),
        tenant_a.post("/integrations/whatsapp/validate", json={**DEMO, "app_secret": sim.DEMO_APP_SECRET, "name": 5}),
        tenant_a.post("/integrations/whatsapp/validate", json={**DEMO, "access_token": sim.EXPIRED_TOKEN}),
        tenant_a.get("/integrations/whatsapp"),
    ]
    for answer in answers:
        assert answer.status_code < 500
        assert sim.VALID_TOKEN not in answer.text and sim.DEMO_APP_SECRET not in answer.text
        assert sim.EXPIRED_TOKEN not in answer.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
form_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values | st.text(max_size=200),
        "phone_number_id": json_values | st.from_regex(r"[0-9+ ()-]{0,25}", fullmatch=True),
        "waba_id": json_values | st.from_regex(r"[0-9]{0,22}", fullmatch=True),
        "access_token": json_values | st.sampled_from([sim.VALID_TOKEN, sim.EXPIRED_TOKEN, "EAA", ""]),
        "app_id": json_values,
        "app_secret": json_values,
    },
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=form_fields | json_values)
def test_arbitrary_json_never_gets_a_500(tenant_a: Api, body: object) -> None:
    # Given any JSON a careless or hostile client may send to the form's endpoints
    for path in ("/integrations/whatsapp/validate", "/integrations/whatsapp"):
        answer = tenant_a.post(path, json=body)
        # Then the answer is a success or a documented problem, never a server error
        assert answer.status_code in (200, 201, 400, 409, 413, 422, 429), answer.text
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["code"]


@pytest.mark.parametrize("path", ["/integrations/whatsapp", "/integrations/whatsapp/validate"])
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"]
)
def test_only_json_bodies_are_taken(tenant_a: Api, path: str, content_type: str) -> None:
    # Given a well-formed form body (with or without a boundary)
    answer = tenant_a.post(path, content=b"--x\r\n\r\nname=Main\r\n--x--", headers={"Content-Type": content_type})
    # Then it is refused as a media type this API does not take, before anything reads it
    assert (answer.status_code, answer.json()["code"]) == (415, "unsupported_media_type")


def test_a_put_takes_only_json_too(tenant_a: Api) -> None:
    created = tenant_a.post("/integrations/whatsapp", json=DEMO).json()
    answer = tenant_a.put(
        f"/integrations/whatsapp/{created['id']}",
        content=b"name=x",
        headers={"Content-Type": "multipart/form-data", "If-Match": '"1"'},
    )
    assert (answer.status_code, answer.json()["code"]) == (415, "unsupported_media_type")


def test_a_nul_in_a_field_is_refused_before_meta_or_kms_is_called(tenant_a: Api, stack: LocalStack) -> None:
    # Given a create whose name holds a NUL (PostgreSQL could not store it)
    graph = stack.graph_simulator
    assert graph is not None
    graph.reset_calls()
    answer = tenant_a.post("/integrations/whatsapp", json={**DEMO, "name": "Main\u0000line"})
    # Then it is a 400 naming the field, and Meta was never asked
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "name"
    assert graph.calls == []
    assert (
        tenant_a.post("/integrations/whatsapp/validate", json={**DEMO, "access_token": "EAA\u0000x" * 5}).status_code
        == 400
    )


@pytest.mark.parametrize("wamid", ["wamid.%00x", "w" * 257])
def test_a_bad_message_id_in_the_path_is_400(tenant_a: Api, wamid: str) -> None:
    created = tenant_a.post("/integrations/whatsapp", json=DEMO).json()
    answer = tenant_a.get(f"/integrations/whatsapp/{created['id']}/messages/{wamid}")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "path.wamid"


@pytest.mark.parametrize("claim", [["tenant-a", "tenant-b"], "", "  ", "x" * 201, "tenant a"])
def test_a_tenant_claim_that_is_not_one_plain_id_is_403(stack: LocalStack, claim: object) -> None:
    # Given a valid token whose tenant claim is a list, empty, too long or not a string
    claims = jwt.decode(stack.tokens.issue("placeholder"), options={"verify_signature": False})
    forged = stack.tokens.sign({**claims, "tenant_id": claim})
    # When it calls the API, then it is refused as carrying no usable tenant
    answer = httpx.get(f"{stack.api_url}/integrations/whatsapp", headers={"Authorization": f"Bearer {forged}"})
    assert (answer.status_code, answer.json()["code"]) == (403, "tenant_claim_missing")
