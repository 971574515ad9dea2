"""Small pieces every route function shares when it renders a result."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema

from whatsapp_integrations.domain.evolution_instance import WEBHOOK_SECRET_HEADER
from whatsapp_integrations.domain.meta_webhook import SIGNATURE_HEADER
from whatsapp_integrations.http.api import IF_MATCH_PATTERN, INTEGRATIONS_PATH, etag

if TYPE_CHECKING:
    from whatsapp_integrations.domain.integration import Integration, StatusChange, WebhookActivity
    from whatsapp_integrations.http.schemas import ConnectionStatusResponse

# The conditional request headers, as the routes declare them (API Gateway hands header names over lowercased).
IfMatch = Annotated[
    str,
    Header(
        description='The ETag of your last read, e.g. "3": the change applies only to that version (412 otherwise)',
        json_schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]
OptionalIfMatch = Annotated[
    str | SkipJsonSchema[None],  # optional, but never null: a header has a value or is absent
    Header(
        description='The ETag of your last read, e.g. "3": the removal applies only to that version (412 otherwise)',
        json_schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]
# Opaque: only a next_cursor this API returned is accepted (400 invalid_cursor otherwise).
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="next_cursor of the previous page",
        json_schema_extra={"pattern": "^[A-Za-z0-9_-]{1,200}$"},
    ),
]
PageSize = Annotated[int, Query(ge=1, le=100, description="Page size")]
HistoryQuery = Annotated[int, Query(ge=0, le=50, description="How many recent transitions to include")]

# The webhooks' proofs of origin (their routes have no JWT): checked by the use case on every request.
WebhookSecret = Annotated[
    str | SkipJsonSchema[None],
    Header(
        alias=WEBHOOK_SECRET_HEADER.lower(),
        description="The integration's webhook secret, as we configured it on its Evolution instance",
    ),
]
MetaSignature = Annotated[
    str | SkipJsonSchema[None],
    Header(
        alias=SIGNATURE_HEADER,
        description="sha256=<HMAC-SHA256 of the raw body with the integration's app secret>, as Meta signs",
    ),
]
IfNoneMatch = Annotated[
    str | SkipJsonSchema[None],
    Header(description="The ETag of your last read: 304 without a body while it is still current"),
]


def json_response(body: BaseModel, status_code: int = 200, headers: dict[str, Any] | None = None) -> Response[str]:
    """The body serialised by pydantic-core in one step. A model handed to Powertools instead is validated again,
    turned into a dict and walked by its JSON encoder: more than the one-row read behind a GET costs. The answers'
    shapes are still checked, by the API contract test against docs/openapi.json."""
    return Response(
        status_code=status_code, content_type="application/json", body=body.model_dump_json(), headers=headers
    )


def integration_response(integration: Integration, status_code: int = 200) -> Response[str]:
    headers: dict[str, Any] = {"ETag": etag(integration.version)}
    if status_code == 201:
        headers["Location"] = f"{INTEGRATIONS_PATH}/{integration.id}"
    from whatsapp_integrations.http.schemas import IntegrationResponse  # here: validate takes INTEGRATIONS_PATH only

    return json_response(IntegrationResponse.of(integration), status_code, headers)


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
    from whatsapp_integrations.http.schemas import ConnectionStatusResponse

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


def conditional(if_none_match: str | None, response: Response[Any]) -> Response[Any]:
    """304 Not Modified, without a body, when the client's If-None-Match names the answer's ETag."""
    current = (response.headers or {}).get("ETag")
    if isinstance(current, str) and matches_if_none_match(if_none_match, current):
        return Response(status_code=304, headers={"ETag": current})
    return response
