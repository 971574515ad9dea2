"""Bad input answers 4xx in the documented problem shape before any use case runs (so no I/O happens)."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError, EndpointConnectionError

from local.gateway import LambdaContext, http_api_event
from tests.conftest import ROOT

TOKEN = "EAADEMOVALIDTOKEN0000000000000000000000000000"
CLAIMS = {"sub": "user-1", "tenant_id": "tenant-a"}


def load_function(folder: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"unit_fn_{folder}", ROOT / "functions" / folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _quota_without_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tenant request quota lives in PostgreSQL (tests/integration/test_request_quota.py); here it admits all."""
    admit_all = lambda caller, services: None  # noqa: E731
    monkeypatch.setattr("whatsapp_integrations.usecases.request_quota.take_request_quota", admit_all)


@pytest.fixture(scope="module")
def create_function() -> ModuleType:
    return load_function("create_integration")


@pytest.fixture(scope="module")
def list_function() -> ModuleType:
    return load_function("list_integrations")


@pytest.fixture(scope="module")
def get_function() -> ModuleType:
    return load_function("get_integration")


def invoke(module: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    result = module.lambda_handler(event, LambdaContext("unit", event["requestContext"]["requestId"]))
    return result["statusCode"], json.loads(result["body"]), result.get("headers", {})


def post(body: bytes, claims: dict[str, str] | None = None, content_type: str = "application/json") -> dict[str, Any]:
    return http_api_event(
        "POST /integrations/whatsapp",
        "POST",
        "/integrations/whatsapp",
        body=body,
        headers={"content-type": content_type},
        claims=CLAIMS if claims is None else claims,
    )


def assert_problem(status: int, body: dict[str, Any], headers: dict[str, str], expected_status: int, code: str) -> None:
    assert status == expected_status
    assert headers.get("Content-Type") == "application/problem+json"
    assert body["status"] == expected_status
    assert body["code"] == code
    assert body["type"] == f"urn:whatsapp-integrations:problem:{code}"
    assert body["title"] and body["detail"] and body["request_id"]


def valid_body(**overrides: Any) -> bytes:
    return json.dumps(
        {
            "name": "Main",
            "phone_number_id": "100000000000001",
            "waba_id": "200000000000001",
            "access_token": TOKEN,
            **overrides,
        }
    ).encode()


def test_malformed_json_is_400(create_function: ModuleType) -> None:
    # Given a body cut in half
    # When it is posted
    status, body, headers = invoke(create_function, post(b'{"name": '))
    # Then the answer is a 400 problem that says so
    assert_problem(status, body, headers, 400, "malformed_json")


def test_an_integer_too_long_for_python_is_malformed_json(create_function: ModuleType) -> None:
    # Given a number of 5,000 digits, more than Python converts to an int
    status, body, headers = invoke(create_function, post(b'{"name": 1' + b"0" * 5000 + b"}"))
    # Then it is the client's malformed JSON, not our 500
    assert_problem(status, body, headers, 400, "malformed_json")


def test_unknown_fields_and_wrong_types_name_the_field_without_echoing_values(create_function: ModuleType) -> None:
    status, body, headers = invoke(create_function, post(valid_body(colour="red", waba_id=12, access_token=["x"])))
    assert_problem(status, body, headers, 400, "invalid_request")
    assert {item["field"] for item in body["errors"]} >= {"colour", "waba_id", "access_token"}
    assert "red" not in json.dumps(body)


def test_a_secret_never_comes_back_in_a_validation_error(create_function: ModuleType) -> None:
    # Given a request whose token is fine but whose name is too long
    status, body, _ = invoke(create_function, post(valid_body(name="n" * 500)))
    # Then the problem names the field and the token appears nowhere
    assert status == 400
    assert TOKEN not in json.dumps(body)


def test_an_oversized_body_is_413(create_function: ModuleType) -> None:
    status, body, headers = invoke(create_function, post(valid_body(name="x" * 20_000)))
    assert_problem(status, body, headers, 413, "body_too_large")


def test_a_body_that_is_not_json_is_415(create_function: ModuleType) -> None:
    status, body, headers = invoke(create_function, post(b"name=x", content_type="text/plain"))
    assert_problem(status, body, headers, 415, "unsupported_media_type")


def test_a_token_without_tenant_claim_is_403(create_function: ModuleType) -> None:
    status, body, headers = invoke(create_function, post(valid_body(), claims={"sub": "user-1"}))
    assert_problem(status, body, headers, 403, "tenant_claim_missing")


def test_locally_malformed_credentials_are_422_with_fixes(create_function: ModuleType) -> None:
    # Given a phone number typed into the phone number ID field
    status, body, headers = invoke(create_function, post(valid_body(phone_number_id="+1 555 010 0000")))
    # Then the answer lists the problem with its fix, before any call to Meta
    assert_problem(status, body, headers, 422, "credentials_rejected")
    [item] = body["errors"]
    assert item["field"] == "phone_number_id" and item["code"] == "phone_number_instead_of_id" and item["fix"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "status=sleeping"])
def test_bad_query_parameters_are_400(list_function: ModuleType, query: str) -> None:
    key, value = query.split("=")
    event = http_api_event(
        "GET /integrations/whatsapp", "GET", "/integrations/whatsapp", raw_query=query, claims=CLAIMS
    )
    event["queryStringParameters"] = {key: value}
    status, body, headers = invoke(list_function, event)
    assert_problem(status, body, headers, 400, "invalid_request")
    assert body["errors"][0]["field"] == f"query.{key}"


def test_a_bad_cursor_is_400(list_function: ModuleType) -> None:
    event = http_api_event(
        "GET /integrations/whatsapp",
        "GET",
        "/integrations/whatsapp",
        raw_query="cursor=bm90LWEtY3Vyc29y",
        claims=CLAIMS,
    )
    event["queryStringParameters"] = {"cursor": "bm90LWEtY3Vyc29y"}
    status, body, headers = invoke(list_function, event)
    assert_problem(status, body, headers, 400, "invalid_cursor")


def test_an_id_that_is_not_a_uuid_is_400(get_function: ModuleType) -> None:
    event = http_api_event(
        "GET /integrations/whatsapp/{integration_id}",
        "GET",
        "/integrations/whatsapp/42",
        path_parameters={"integration_id": "42"},
        claims=CLAIMS,
    )
    status, body, headers = invoke(get_function, event)
    assert_problem(status, body, headers, 400, "invalid_request")
    assert body["errors"][0]["field"] == "path.integration_id"


@pytest.fixture(scope="module")
def update_function() -> ModuleType:
    return load_function("update_integration")


def put(body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    integration_id = "00000000-0000-4000-8000-000000000001"
    return http_api_event(
        "PUT /integrations/whatsapp/{integration_id}",
        "PUT",
        f"/integrations/whatsapp/{integration_id}",
        body=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers if headers is not None else {"if-match": '"1"'})},
        path_parameters={"integration_id": integration_id},
        claims=CLAIMS,
    )


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "a\u0000b"}, "name", "value_error"),
        ({"waba_id": 5}, "waba_id", "string_type"),
        ({"access_token": ["EAA"]}, "access_token", "string_type"),
    ],
)
def test_an_optional_field_s_problem_names_the_field_alone(
    update_function: ModuleType, body: dict[str, Any], field: str, code: str
) -> None:
    # Given a PUT whose optional field is wrong (pydantic sees a union: the type, or None)
    # When it is sent
    status, answer, headers = invoke(update_function, put(body))
    # Then the only item names the client's field, not pydantic's union branches
    assert_problem(status, answer, headers, 400, "invalid_request")
    assert [(item["field"], item["code"]) for item in answer["errors"]] == [(field, code)]


@pytest.mark.parametrize(
    ("if_match", "status", "code"), [(None, 428, "precondition_required"), ("3", 400, "invalid_if_match")]
)
def test_if_match_is_required_and_must_be_an_entity_tag(
    update_function: ModuleType, if_match: str | None, status: int, code: str
) -> None:
    # Given a PUT without If-Match, or with a version that is not quoted like the ETag this API sends
    headers = {} if if_match is None else {"if-match": if_match}
    # When it is sent, Then it is refused before anything is read
    answer_status, answer, answer_headers = invoke(update_function, put({"name": "New"}, headers))
    assert_problem(answer_status, answer, answer_headers, status, code)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (ClientError({"Error": {"Code": "ThrottlingException"}}, "Encrypt"), 503),
        (EndpointConnectionError(endpoint_url="https://kms.us-east-1.amazonaws.com"), 503),
        (GetParameterError("the secret could not be read"), 503),
        (RuntimeError("a bug"), 500),
    ],
)
def test_a_failing_cloud_service_is_503_and_anything_else_500(
    get_function: ModuleType, monkeypatch: pytest.MonkeyPatch, failure: Exception, expected: int
) -> None:
    # Given a use case that fails with an AWS SDK, a Powertools parameters or any other error
    def fail(*_: Any) -> None:
        raise failure

    monkeypatch.setattr(get_function, "get_integration", fail)
    # When an integration is read
    event = http_api_event(
        "GET /integrations/whatsapp/{integration_id}",
        "GET",
        "/integrations/whatsapp/5f0c8e2a-9d41-4b7e-8a36-1c2d3e4f5a6b",
        path_parameters={"integration_id": "5f0c8e2a-9d41-4b7e-8a36-1c2d3e4f5a6b"},
        claims=CLAIMS,
    )
    status, body, headers = invoke(get_function, event)
    # Then a cloud service's failure is a retryable 503, anything else a 500
    assert status == expected
    assert body["code"] == ("dependency_unavailable" if expected == 503 else "internal_error")
    assert (headers.get("Retry-After") == "5") == (expected == 503)
