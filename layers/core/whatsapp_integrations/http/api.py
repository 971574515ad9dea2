"""The resolver every HTTP function uses: validation on, one problem shape for every error."""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from whatsapp_integrations.domain import errors
from whatsapp_integrations.domain.caller import Caller, Origin
from whatsapp_integrations.domain.text import storable_text
from whatsapp_integrations.http.cursors import BadCursor
from whatsapp_integrations.http.problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemItem,
    item_from_validation_problem,
    problem_response,
    problem_type,
)
from whatsapp_integrations.observability import logger
from whatsapp_integrations.settings import Settings

_DOMAIN_STATUS: dict[type[errors.DomainError], tuple[int, str]] = {
    errors.IntegrationNotFound: (404, "Integration not found"),
    errors.PhoneNumberAlreadyConnected: (409, "Phone number already connected"),
    errors.VersionMismatch: (412, "Stale version"),
    errors.PreconditionRequired: (428, "If-Match required"),
    errors.InvalidState: (409, "Invalid state"),
    errors.AppSecretRequired: (409, "App secret required"),
    errors.MalformedWebhook: (400, "Malformed webhook"),
    errors.WebhookUnauthenticated: (401, "Unauthenticated webhook"),
    errors.MessageNotFound: (404, "Message not found"),
    errors.EvolutionUnconfirmed: (503, "Evolution unavailable"),
    errors.HandshakeRefused: (403, "Verification refused"),
    errors.QueueUnavailable: (503, "Queue unavailable"),
    errors.GatewayUnavailable: (503, "WhatsApp gateway unavailable"),
    errors.TestMessageRejected: (422, "Test message refused"),
    errors.CredentialsRejected: (422, "Credentials rejected"),
    errors.RateLimited: (429, "Too many requests"),
    errors.MetaUnavailable: (503, "Meta unavailable"),
    errors.DatabaseUnavailable: (503, "Database unavailable"),
}


class MissingTenantClaim(Exception):
    pass


class IntegrationsResolver(APIGatewayHttpResolver):
    """Refuses bodies that are too large or not text before anything parses them (Powertools' request
    validation runs before any middleware, and crashes on a base64 body that is not UTF-8)."""

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__(enable_validation=True)
        self._max_body_bytes = max_body_bytes
        self._invocation = threading.local()

    # Powertools keeps the current event in a class attribute: right for Lambda (one invocation per process),
    # wrong wherever invocations share a process (the local stack's execution environments run as threads).
    # Kept per thread, each invocation only ever sees its own event and claims.
    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEventV2:
        return self._invocation.event  # type: ignore[no-any-return]

    @current_event.setter
    def current_event(self, event: APIGatewayProxyEventV2) -> None:
        self._invocation.event = event

    def _to_proxy_event(self, event: dict) -> APIGatewayProxyEventV2:  # type: ignore[type-arg]
        self.current_event = APIGatewayProxyEventV2(event, json_deserializer=_json_body)
        return self.current_event

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        refusal = self._refusal(event)
        if refusal is None:
            return super().resolve(event, context)
        status, code, title, detail = refusal
        problem = Problem(
            type=problem_type(code),
            title=title,
            status=status,
            code=code,
            detail=detail,
            request_id=(event.get("requestContext") or {}).get("requestId"),
        )
        return {
            "statusCode": status,
            "headers": {"Content-Type": PROBLEM_CONTENT_TYPE},
            "body": problem.model_dump_json(exclude_none=True),
            "isBase64Encoded": False,
        }

    def _refusal(self, event: Mapping[str, Any]) -> tuple[int, str, str, str] | None:
        body = event.get("body") or ""
        if not event.get("isBase64Encoded"):
            size = len(body.encode())
        else:
            try:
                decoded = base64.b64decode(body, validate=True)
                decoded.decode("utf-8")
                size = len(decoded)
            except (binascii.Error, UnicodeDecodeError):
                return 400, "malformed_json", "Malformed JSON", "The body is not UTF-8 encoded JSON."
        if size > self._max_body_bytes:
            return 413, "body_too_large", "Body too large", f"The body must be at most {self._max_body_bytes} bytes."
        if size and not _is_json(_header(event, "content-type")):
            return (
                415,
                "unsupported_media_type",
                "Unsupported media type",
                "Send the body as JSON with Content-Type: application/json.",
            )
        return None


def _header(event: Mapping[str, Any], name: str) -> str:
    headers = event.get("headers") or {}
    return str(next((value for key, value in headers.items() if key.lower() == name), ""))


def _is_json(content_type: str) -> bool:
    """application/json or a +json type, with or without parameters; nothing else is parsed (multipart, forms)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def build_api(settings: Settings, *, max_body_bytes: int | None = None) -> IntegrationsResolver:
    app = IntegrationsResolver(max_body_bytes or settings.max_request_body_bytes)
    _register_error_handlers(app)
    app.use(middlewares=[_tenant_request_quota(settings)])
    return app


def _json_body(text: str) -> Any:
    """json.loads, with its one ValueError that is not a JSONDecodeError (an integer of more digits than Python
    converts, 4,300) raised as one, so Powertools' validation answers it as the malformed JSON it is."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        raise json.JSONDecodeError(str(error), text, 0) from None


def _tenant_request_quota(settings: Settings) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response[Any]]:
    """Every request of a tenant that may change something counts against its quota, before it runs."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        authorizer = app.current_event.request_context.authorizer
        if app.current_event.request_context.http.method not in _READS and authorizer.jwt_claim:
            from whatsapp_integrations.services import default_services
            from whatsapp_integrations.usecases.request_quota import take_request_quota

            take_request_quota(caller(app, settings), default_services())
        return next_middleware(app)

    return middleware


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


# API Gateway hands a list claim over as "[a b]": only a plain, non-empty id is a tenant.
_TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@|+-]{0,199}")


def caller(app: APIGatewayHttpResolver, settings: Settings) -> Caller:
    """The tenant comes only from the verified JWT claims, never from the request body or path."""
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    tenant_id = claims.get(settings.tenant_claim)
    if not isinstance(tenant_id, str) or not _TENANT_ID.fullmatch(tenant_id):
        raise MissingTenantClaim()
    actor = claims.get("sub")
    origin = request_origin(app)
    return Caller(
        tenant_id=tenant_id,
        actor=storable_text(str(actor)) if actor else "unknown",  # the audit trail stores it
        request_id=origin.request_id,
        source_ip=origin.source_ip,
        user_agent=origin.user_agent,
    )


def request_origin(app: APIGatewayHttpResolver, actor: str = "anonymous") -> Origin:
    """Where a request came from, as API Gateway saw it (for the audit trail)."""
    context = app.current_event.request_context
    return Origin(actor, context.request_id, context.http.source_ip or None, context.http.user_agent or None)


# Where the tenants' integrations live in the API (every route of the integrations functions starts with it)
INTEGRATIONS_PATH = "/integrations/whatsapp"

# An entity tag as this API sends it: the version in quotes, strong or weak ("3", W/"3").
IF_MATCH_PATTERN = r'^(W/)?"([0-9]{1,9})"$'


def if_match_version(value: str | None, *, required: bool) -> int | None:
    """The version an If-Match header names; anything else is the client's mistake (400). An empty header is no
    condition at all (RFC 9110 has no empty If-Match), as if it were absent."""
    if value is None or not value.strip():
        if required:
            raise errors.PreconditionRequired()
        return None
    match = re.fullmatch(IF_MATCH_PATTERN, value.strip())
    if match is None:
        raise InvalidIfMatch()
    return int(match.group(2))


class InvalidIfMatch(Exception):
    pass


class InvalidPathParameter(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def message_id(raw: str) -> str:
    """A wamid from its path segment (still URL-encoded: Meta's wamids are base64, with + / =)."""
    wamid = unquote(raw)
    if not 1 <= len(wamid) <= 256 or "\x00" in wamid:
        raise InvalidPathParameter("wamid", "A WhatsApp message id has 1 to 256 characters and no NUL.")
    return wamid


def etag(version: int) -> str:
    return f'"{version}"'


def _register_error_handlers(app: APIGatewayHttpResolver) -> None:
    def request_id() -> str | None:
        return app.current_event.request_context.request_id

    @app.exception_handler(errors.DomainError)
    def domain_error(error: errors.DomainError) -> Response[Any]:
        status, title = _DOMAIN_STATUS.get(type(error), (400, "Request refused"))
        headers = {}
        retry_after = getattr(error, "retry_after_seconds", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        elif isinstance(error, errors.DatabaseUnavailable | errors.EvolutionUnconfirmed | errors.QueueUnavailable):
            headers["Retry-After"] = "5"
        if isinstance(error, errors.VersionMismatch):
            headers["ETag"] = etag(error.current_version)
        items = (
            [item_from_validation_problem(p) for p in error.problems]
            if isinstance(error, errors.CredentialsRejected | errors.TestMessageRejected)
            else []
        )
        logger.info(
            "request refused",
            extra={"problem_code": error.code, "status": status, "problem_codes": [item.code for item in items]},
        )
        return problem_response(
            status, error.code, title, error.detail, request_id=request_id(), errors=items, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        details = list(error.errors())
        if any(tuple(detail.get("loc", ()))[:1] == ("response",) for detail in details):
            return _internal_error(error, request_id())  # our answer broke its own schema: our bug, not the client's
        if any(detail.get("type") == "json_invalid" for detail in details):
            return problem_response(
                400, "malformed_json", "Malformed JSON", "The body is not valid JSON.", request_id=request_id()
            )
        if any(tuple(detail.get("loc", ())) == ("header", "if-match") for detail in details if _missing(detail)):
            precondition_required: Response[Any] = domain_error(errors.PreconditionRequired())
            return precondition_required  # RFC 6585: a missing required condition is 428, not 400
        items = _items_from_pydantic(details)
        return problem_response(
            400,
            "invalid_request",
            "Invalid request",
            "The request does not match the API: " + "; ".join(f"{i.field}: {i.message}" for i in items),
            request_id=request_id(),
            errors=items,
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
        return problem_response(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "Send the body as JSON with Content-Type: application/json.",
            request_id=request_id(),
        )

    @app.exception_handler(BadCursor)
    def bad_cursor(_: BadCursor) -> Response[Any]:
        return problem_response(
            400,
            "invalid_cursor",
            "Invalid cursor",
            "The cursor is not one this API returned; start again without it.",
            request_id=request_id(),
            errors=[
                ProblemItem(field="query.cursor", code="invalid_cursor", message="Not a cursor returned by this API.")
            ],
        )

    @app.exception_handler(InvalidIfMatch)
    def invalid_if_match(_: InvalidIfMatch) -> Response[Any]:
        return problem_response(
            400,
            "invalid_if_match",
            "Invalid If-Match",
            'If-Match must be the ETag this API returned, e.g. "3".',
            request_id=request_id(),
        )

    @app.exception_handler(InvalidPathParameter)
    def invalid_path(error: InvalidPathParameter) -> Response[Any]:
        return problem_response(
            400,
            "invalid_request",
            "Invalid request",
            f"The request does not match the API: path.{error.name}: {error.message}",
            request_id=request_id(),
            errors=[ProblemItem(field=f"path.{error.name}", code="invalid_path_parameter", message=error.message)],
        )

    @app.exception_handler(MissingTenantClaim)
    def missing_tenant(_: MissingTenantClaim) -> Response[Any]:
        return problem_response(
            403,
            "tenant_claim_missing",
            "No tenant",
            "The access token carries no usable tenant claim: it must be one non-empty id (letters, digits and "
            "._:@|+- , at most 200 characters), not a list.",
            request_id=request_id(),
        )

    @app.exception_handler(RecursionError)
    def nested_too_deep(_: RecursionError) -> Response[Any]:
        return problem_response(
            400, "malformed_json", "Malformed JSON", "The body is nested too deeply.", request_id=request_id()
        )

    @app.not_found
    def route_not_found(_: Exception) -> Response[Any]:
        return problem_response(404, "route_not_found", "Not found", "No such route.", request_id=request_id())

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[Any]:
        if isinstance(error, _aws_failures()):
            logger.error("AWS call failed", extra={"error_type": type(error).__name__})
            return problem_response(
                503,
                "dependency_unavailable",
                "Service unavailable",
                "A cloud service we depend on failed. Nothing was stored; retry shortly.",
                request_id=request_id(),
                headers={"Retry-After": "5"},
            )
        return _internal_error(error, request_id())


# Where the AWS SDK's and Powertools parameters' errors live: looked up only among the modules already imported, since
# a function that never imported boto3 cannot raise them, and naming them here would cost every cold start boto3's
# import (GET and list use no AWS client at all).
_AWS_FAILURES = {
    "botocore.exceptions": ("ClientError", "BotoCoreError"),
    "aws_lambda_powertools.utilities.parameters.exceptions": ("GetParameterError",),
}


def _aws_failures() -> tuple[type[BaseException], ...]:
    return tuple(
        getattr(sys.modules[module], name)
        for module, names in _AWS_FAILURES.items()
        if module in sys.modules
        for name in names
    )


def _internal_error(error: Exception, request_id: str | None) -> Response[Any]:
    logger.exception("unexpected error", extra={"error_type": type(error).__name__})
    return problem_response(
        500,
        "internal_error",
        "Internal error",
        "Something went wrong on our side. Retry later, and quote the request_id.",
        request_id=request_id,
    )


def _missing(detail: Mapping[str, Any]) -> bool:
    return detail.get("type") == "missing"


# An optional field is a union (its type or None): pydantic names the branch in the location ("none",
# "function-after[...]", "TemplateInput"), which means nothing to a client. Our fields are snake_case.
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")
_BRANCH_TAGS = frozenset({"none", "str", "int", "float", "bool", "list", "dict"})


def _items_from_pydantic(details: list[dict[str, Any]]) -> list[ProblemItem]:
    """One item per problem, located by the client's field names; the "or None" half of an optional field's
    union is left out when the field has a real problem."""
    items: dict[tuple[str, str], ProblemItem] = {}
    for detail in details:
        item = _item_from_pydantic(detail)
        items.setdefault((item.field, item.code), item)
    real = [field for field, code in items if code != "none_required"]
    return [
        item
        for (field, code), item in items.items()
        if code != "none_required" or not any(other == field or other.startswith(f"{field}.") for other in real)
    ]


def _item_from_pydantic(detail: dict[str, Any]) -> ProblemItem:
    location = [
        str(part)
        for part in detail.get("loc", ())
        if isinstance(part, int) or (_FIELD_NAME.fullmatch(str(part)) and part not in _BRANCH_TAGS)
    ]
    if location[:1] == ["body"] and len(location) > 1:
        location = location[1:]
    return ProblemItem(
        field=".".join(location) or "body",
        code=str(detail.get("type", "invalid")),
        message=str(detail.get("msg", "invalid value")),
    )
