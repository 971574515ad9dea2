"""The 405 function: its method table is the template's route table, and it answers RFC 9457 problems with Allow."""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from types import ModuleType
from typing import Any

import pytest

from local.cfn_yaml import load_template
from local.gateway import LambdaContext
from tests.conftest import ROOT

FUNCTION = "MethodNotAllowedFunction"


@pytest.fixture(scope="module")
def function() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "unit_method_not_allowed", ROOT / "functions/method_not_allowed/app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def template_routes() -> tuple[dict[str, set[str]], dict[str, str]]:
    """The template's method routes by path, and the function behind each ANY route."""
    methods: dict[str, set[str]] = defaultdict(set)
    any_routes: dict[str, str] = {}
    for name, resource in load_template(ROOT / "template.yaml")["Resources"].items():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            path, method = event["Properties"]["Path"], event["Properties"]["Method"].upper()
            if method == "ANY":
                any_routes[path] = name
            else:
                methods[path].add(method)
    return dict(methods), any_routes


def sample(case: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / "method_not_allowed" / f"{case}.json").read_text())


def invoke(function: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = function.lambda_handler(event, LambdaContext(FUNCTION, "req-405"))
    return result


def allowed(result: dict[str, Any]) -> list[str]:
    return [method.strip() for method in result["headers"]["Allow"].split(",")]


def test_the_method_table_is_the_templates_route_table(function: ModuleType) -> None:
    # Given the template's routes
    methods, any_routes = template_routes()
    # When they are compared with the function's table
    table = {path: set(path_methods) for path, path_methods in function.ROUTES.items()}
    # Then the table lists every path with exactly its methods, and every known path has its ANY route to the
    # function (and no other path has one: an unknown path stays API Gateway's 404)
    assert table == methods
    assert any_routes == dict.fromkeys(methods, FUNCTION)


def test_another_method_on_a_known_path_is_a_405_with_allow(function: ModuleType) -> None:
    # Given PATCH on an integration (the API renames with PUT)
    event = sample("patch_integration")
    # When the function answers it
    result = invoke(function, event)
    body = json.loads(result["body"])
    # Then it is a 405 problem with the path's methods in Allow, OPTIONS included
    assert result["statusCode"] == 405
    assert result["headers"]["Content-Type"] == "application/problem+json"
    assert allowed(result) == ["GET", "PUT", "DELETE", "OPTIONS"]
    assert body == {
        "type": "urn:whatsapp-integrations:problem:method_not_allowed",
        "title": "Method not allowed",
        "status": 405,
        "detail": "PATCH is not allowed on /integrations/whatsapp/{integration_id}; it serves GET, PUT, DELETE.",
        "code": "method_not_allowed",
        "request_id": event["requestContext"]["requestId"],
        "errors": [],
    }


def test_get_on_a_post_only_route_names_post(function: ModuleType) -> None:
    # Given GET on connect, When answered, Then 405 and Allow names POST
    result = invoke(function, sample("get_connect"))
    assert result["statusCode"] == 405 and allowed(result) == ["POST", "OPTIONS"]


def test_options_answers_204_with_allow(function: ModuleType) -> None:
    # Given a plain OPTIONS (no CORS preflight) on the list path
    result = invoke(function, sample("options_integrations"))
    # Then 204, no body, and the path's methods
    assert result["statusCode"] == 204 and result["body"] == ""
    assert allowed(result) == ["GET", "POST", "OPTIONS"]


@pytest.mark.parametrize(
    ("route_key", "method"),
    [("ANY /integrations/whatsapp/{integration_id}/unknown", "PATCH"), ("ANY /integrations/whatsapp", "GET")],
)
def test_a_route_the_table_does_not_know_is_a_deployment_mismatch(
    function: ModuleType, route_key: str, method: str
) -> None:
    # Given an ANY route missing from the table, or a method the path serves (its own route should have won)
    event = sample("get_connect")
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    event["requestContext"]["http"]["method"] = method
    # When the function is invoked with it
    result = invoke(function, event)
    # Then it answers route_not_found rather than a 405 that contradicts its own Allow header
    assert result["statusCode"] == 404
    assert json.loads(result["body"])["code"] == "route_not_found"
    assert "Allow" not in result["headers"]
