"""What docs/openapi.json says a route answers: the statuses, bodies and headers every route shares, in one place.

A route names its own success and the problems only it can answer; the rest is added here because it holds for
every route: 400 (bad input), 503 (a dependency is down) and what API Gateway answers before our code runs (401
without a valid JWT, 403 without the route's scope, 429 when throttled), in its own `{"message": ...}` shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader

from whatsapp_integrations.http.problems import PROBLEM_CONTENT_TYPE, Problem

GATEWAY_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "GatewayMessage",
    "description": "API Gateway's own answer, before any function runs",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}

HEADERS: dict[str, OpenAPIResponseHeader] = {
    "ETag": {
        "description": 'The version as a strong ETag ("3"), or a weak ETag of the body for a status; send it back '
        "in If-Match (writes) or If-None-Match (reads)",
        "schema": {"type": "string"},
    },
    "Location": {"description": "Where the resource (or its status) can be read", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "string"}},
}

_PROBLEMS: dict[int, str] = {
    400: "The request is malformed (JSON, types, unknown fields, ids, cursors, If-Match); `errors` names each field",
    401: "No valid JWT: missing, expired, or not from the configured issuer and audience (API Gateway answers)",
    403: "The token lacks the scope this route needs (API Gateway answers), or carries no usable tenant claim",
    404: "No such integration (or message) for this tenant",
    409: "Conflict with the integration's state, or its phone number is used by another live integration",
    412: "The If-Match version is stale; the ETag header carries the current one",
    413: "The body is larger than allowed",
    415: "The body is not JSON",
    422: "Meta refused: `errors` lists each problem with its fix",
    428: "If-Match is required",
    429: "Too many requests: API Gateway throttling, or this tenant's quota; see Retry-After",
    503: "A dependency (database, Meta, Evolution or a queue) is unavailable; nothing was lost; see Retry-After",
}
_PROBLEM_HEADERS: dict[int, tuple[str, ...]] = {412: ("ETag",), 429: ("Retry-After",), 503: ("Retry-After",)}


def success(
    status: int, description: str, *, model: type | None = None, headers: Iterable[str] = ()
) -> dict[int, OpenAPIResponse]:
    """A 2xx or 304. `model` None: the route's return annotation is the body; 204 and 304 have none."""
    response: OpenAPIResponse = {"description": description}
    if status in (204, 304):
        response["content"] = {}
    elif model is not None:
        response["content"] = {"application/json": {"model": model}}
    if headers:
        response["headers"] = {name: HEADERS[name] for name in headers}
    return {status: response}


def responses(
    *successes: dict[int, OpenAPIResponse],
    problems: Iterable[int] = (),
    authorized: bool = True,
    described: Mapping[int, str] | None = None,
) -> dict[int, OpenAPIResponse]:
    """Every answer of a route: its successes, its own problems (`described` words them for this route), and what
    every route can answer."""
    own = set(problems)
    # API Gateway answers before our code: 401/403 on a route with the JWT authorizer, 429 when throttled and 413
    # beyond its payload limit, in its {"message": ...} shape.
    gateway = {401, 403, 429} if authorized else {429}
    if 413 in own:
        gateway.add(413)
    statuses = own | {400, 503} | gateway
    documented: dict[int, OpenAPIResponse] = {}
    for answer in successes:
        documented.update(answer)
    for status in sorted(statuses):
        content: dict[str, Any] = {}
        ours = status in own or status in {400, 503} or (status == 403 and authorized)  # 403: no tenant claim
        if ours:
            content[PROBLEM_CONTENT_TYPE] = {"model": Problem}
        if status in gateway:
            content["application/json"] = {"schema": GATEWAY_MESSAGE_SCHEMA}
        description = (described or {}).get(status, _PROBLEMS[status])
        response: OpenAPIResponse = {"description": description, "content": content}
        if status in _PROBLEM_HEADERS:
            response["headers"] = {name: HEADERS[name] for name in _PROBLEM_HEADERS[status]}
        documented[status] = response
    return documented


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A request body the route reads itself (its raw bytes are what a signature covers), as `openapi_extensions`."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


def evolution_webhook_body(*, event_in_path: bool) -> dict[str, Any]:
    """Evolution's webhook envelope, as domain.evolution_webhook.parse_webhook reads it."""
    text = {"type": "string", "minLength": 1}
    return json_body(
        {
            "type": "object",
            "required": ["instance"] if event_in_path else ["event", "instance"],
            "properties": {
                "event": {**text, "description": "e.g. messages.update; the path names it in the byEvents form"},
                "instance": {**text, "description": "The Evolution instance the event is about"},
                "data": {"description": "The event's payload, as Evolution sends it"},
                "apikey": {"type": "string", "writeOnly": True, "description": "Global webhooks only"},
            },
        },
        "Evolution's envelope; an event of a kind we do not use is answered 200 and ignored",
    )


META_WEBHOOK_BODY = json_body(
    {
        "type": "object",
        "required": ["object", "entry"],
        "properties": {
            "object": {"type": "string", "description": "whatsapp_business_account"},
            "entry": {"type": "array", "items": {"type": "object"}, "description": "One per WABA, with its changes"},
        },
    },
    "Meta's notification, exactly as signed in X-Hub-Signature-256",
)
