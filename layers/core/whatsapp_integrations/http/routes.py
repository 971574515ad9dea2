"""Small pieces every route function shares when it renders a result."""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from whatsapp_integrations.domain.integration import Integration, StatusChange, WebhookActivity
from whatsapp_integrations.http.api import etag
from whatsapp_integrations.http.schemas import ConnectionStatusResponse, IntegrationResponse

INTEGRATIONS_PATH = "/integrations/whatsapp"
# The OpenAPI entry of a 304 (no body, so no content).
NOT_MODIFIED: OpenAPIResponse = {
    "description": "Not modified: the ETag sent in If-None-Match is still current (no body)",
    "content": {},
}


def integration_response(integration: Integration, status_code: int = 200) -> Response[IntegrationResponse]:
    headers: dict[str, Any] = {"ETag": etag(integration.version)}
    if status_code == 201:
        headers["Location"] = f"{INTEGRATIONS_PATH}/{integration.id}"
    return Response(
        status_code=status_code,
        content_type="application/json",
        body=IntegrationResponse.of(integration),
        headers=headers,
    )


def status_response(
    integration: Integration,
    history: list[StatusChange],
    *,
    accepted: bool,
    body_etag: bool = False,
    activity: WebhookActivity | None = None,
) -> Response[ConnectionStatusResponse]:
    """202 while work is queued or under way, 200 when there is nothing to do.

    `body_etag`: a weak ETag of the body instead of the version, because a status changes without a version
    bump (last_checked_at, Evolution's state); GET status sends it so pollers can ask If-None-Match.
    """
    body = ConnectionStatusResponse.of(integration, history, activity)
    return Response(
        status_code=202 if accepted else 200,
        content_type="application/json",
        body=body,
        headers={
            "ETag": status_body_etag(body) if body_etag else etag(integration.version),
            "Location": f"{INTEGRATIONS_PATH}/{integration.id}/status",
        },
    )


def status_body_etag(body: ConnectionStatusResponse) -> str:
    return f'W/"{hashlib.sha256(body.model_dump_json().encode()).hexdigest()[:32]}"'


def matches_if_none_match(header: str | None, current_etag: str) -> bool:
    """RFC 9110's weak comparison: W/ is ignored on both sides; `*` matches any current representation."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    opaque = current_etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in header.split(","))


def conditional(app: APIGatewayHttpResolver, response: Response[Any]) -> Response[Any]:
    """304 Not Modified, without a body, when the client's If-None-Match names the answer's ETag."""
    headers = app.current_event.headers
    current = (response.headers or {}).get("ETag")
    if isinstance(current, str) and matches_if_none_match(
        headers.get("if-none-match") or headers.get("If-None-Match"), current
    ):
        return Response(status_code=304, headers={"ETag": current})
    return response
