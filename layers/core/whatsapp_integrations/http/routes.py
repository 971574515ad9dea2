"""Small pieces every route function shares when it renders a result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from whatsapp_integrations.domain.integration import Integration, StatusChange
from whatsapp_integrations.http.api import etag
from whatsapp_integrations.http.schemas import ConnectionStatusResponse, IntegrationResponse

INTEGRATIONS_PATH = "/integrations/whatsapp"


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
    integration: Integration, history: list[StatusChange], *, accepted: bool
) -> Response[ConnectionStatusResponse]:
    """202 while work is queued or under way, 200 when there is nothing to do."""
    return Response(
        status_code=202 if accepted else 200,
        content_type="application/json",
        body=ConnectionStatusResponse.of(integration, history),
        headers={"ETag": etag(integration.version), "Location": f"{INTEGRATIONS_PATH}/{integration.id}/status"},
    )
