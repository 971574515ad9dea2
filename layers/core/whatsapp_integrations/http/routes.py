"""Small pieces every route function shares when it renders a result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.http.api import etag
from whatsapp_integrations.http.schemas import IntegrationResponse

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
