r"""SIMULATOR of Meta's Graph API: a test double, not Meta's service.

It serves the small part of ``https://graph.facebook.com`` that our credential validation calls, so
tests, benchmarks and the local stack run without network access or real Meta credentials. Every
response carries the headers ``X-Simulator: graph-api`` and ``Server: GraphSimulator/1.0 (simulator
of Meta's Graph API)``. Paths are accepted with any version prefix (``/v25.0/...``) or none.

Routes:

* ``GET /debug_token?input_token=...``: the bearer is the token itself or an app token.
* ``GET /oauth/access_token?grant_type=client_credentials&client_id=...&client_secret=...``
* ``GET /{phone_number_id}?fields=...`` and ``GET /{waba_id}?fields=...``
* ``GET /{waba_id}/phone_numbers?fields=...&limit=N&after=CURSOR`` (default limit 25)
* ``POST /{phone_number_id}/messages`` (a wamid for every send; kept in ``sent_messages``)
* ``GET|POST|DELETE /{waba_id}/subscribed_apps`` (in-memory state per WABA; the callback
  verification handshake that Meta runs on ``override_callback_uri`` is not simulated)

The token comes from ``Authorization: Bearer <token>`` or the ``access_token`` parameter. When an
``appsecret_proof`` parameter is present it must equal hex HMAC-SHA256(key=app secret, msg=token).
Errors use Graph's envelope: ``{"error": {"message", "type": "OAuthException", "code",
"error_subcode" (only when there is one), "is_transient", "fbtrace_id"}}``.

Demo credentials (the ``Constant`` column names this module's constants):

| Constant | Value | Behaviour |
|---|---|---|
| `DEMO_WABA_ID` | `200000000000001` | "Demo WABA"; owns the 9 demo numbers |
| `DEMO_PHONE_NUMBER_IDS` | `100000000000001` ... `100000000000009` | "+1 555-010-000N", "Demo Shop N" |
| `FOREIGN_WABA_ID` | `200000000000099` | "Foreign WABA"; lists only the foreign number |
| `FOREIGN_PHONE_NUMBER_ID` | `100000000000099` | Readable, but not in the demo WABA |
| `DEMO_APP_ID` | `300000000000001` | "Demo App" |
| `DEMO_APP_SECRET` | `demo-app-secret-0123456789abcdef` | App token: `DEMO_APP_ID\|DEMO_APP_SECRET` |
| `VALID_TOKEN` | `EAADEMOVALIDTOKEN0000000000000000000000000000` | SYSTEM_USER, never expires (1) |
| `EXPIRING_TOKEN` | `EAADEMOEXPIRINGTOKEN000000000000000000000000` | SYSTEM_USER, expires in 30 days |
| `EXPIRED_TOKEN` | `EAADEMOEXPIREDTOKEN00000000000000000000000000` | Every call: 401, 190/463 |
| `NO_MESSAGING_SCOPE_TOKEN` | `EAADEMONOSCOPETOKEN00000000000000000000000000` | Valid, no messaging scope (2) |
| `USER_TOKEN` | `EAADEMOUSERTOKEN000000000000000000000000000000` | Valid, `type` is `USER` |
| `RATE_LIMITED_TOKEN` | `EAADEMORATELIMITED00000000000000000000000000` | Every call: 400, 80007, transient |
| `GRAPH_5XX_TOKEN` | `EAADEMOGRAPH5XX0000000000000000000000000000000` | Every call: 500, code 2, transient |
| `REQUIRES_PROOF_TOKEN` | `EAADEMOREQUIRESPROOF0000000000000000000000000` | Valid only with `appsecret_proof` (3) |
| (any other token) | | 401, code 190, "Invalid OAuth access token - Cannot parse access token" |

(1) Scopes `whatsapp_business_management`, `whatsapp_business_messaging`, `business_management`; any
token starting with `EAADEMOVALID` behaves the same. (2) `scopes` lacks `whatsapp_business_messaging`.
(3) Every call without `appsecret_proof` fails with 400, code 100.

Simulator-only test controls (Meta has nothing like them): ``GraphSimulator.fail_next`` and
``POST /__simulator__/fail_next`` with ``{"status", "error_code", "count"?, "error_subcode"?,
"message"?}`` make the next requests fail; ``GraphSimulator.set_phone_field`` and ``POST
/__simulator__/phone/{id}`` with ``{"field", "value"}`` change a number's profile;
``GET|DELETE /__simulator__/calls`` read or clear the recorded calls; ``POST /__simulator__/reset``
restores the initial state. Control requests are neither recorded, delayed nor failed.

Run it standalone with ``python -m local.graph_simulator --port 8091``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, auto
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

JsonObject = dict[str, Any]

DEMO_WABA_ID = "200000000000001"
DEMO_PHONE_NUMBER_IDS: tuple[str, ...] = tuple(f"10000000000000{n}" for n in range(1, 10))
FOREIGN_WABA_ID = "200000000000099"
FOREIGN_PHONE_NUMBER_ID = "100000000000099"
DEMO_APP_ID = "300000000000001"
DEMO_APP_SECRET = "demo-app-secret-0123456789abcdef"
DEMO_APP_NAME = "Demo App"
DEMO_APP_ACCESS_TOKEN = f"{DEMO_APP_ID}|DemoAppAccessTokenOpaque00001"
DEMO_SYSTEM_USER_ID = "400000000000001"
DEMO_USER_ID = "400000000000002"
DEMO_BUSINESS_ID = "500000000000001"
DEMO_APP_CALLBACK_URL = "https://app.example.com/meta/webhook"

VALID_TOKEN = "EAADEMOVALIDTOKEN0000000000000000000000000000"
VALID_TOKEN_PREFIX = "EAADEMOVALID"
EXPIRING_TOKEN = "EAADEMOEXPIRINGTOKEN000000000000000000000000"
EXPIRED_TOKEN = "EAADEMOEXPIREDTOKEN00000000000000000000000000"
NO_MESSAGING_SCOPE_TOKEN = "EAADEMONOSCOPETOKEN00000000000000000000000000"
USER_TOKEN = "EAADEMOUSERTOKEN000000000000000000000000000000"
RATE_LIMITED_TOKEN = "EAADEMORATELIMITED00000000000000000000000000"
GRAPH_5XX_TOKEN = "EAADEMOGRAPH5XX0000000000000000000000000000000"
REQUIRES_PROOF_TOKEN = "EAADEMOREQUIRESPROOF0000000000000000000000000"

SIMULATOR_HEADER = ("X-Simulator", "graph-api")
SERVER_HEADER = "GraphSimulator/1.0 (simulator of Meta's Graph API)"

_CONTROL_PREFIX = "__simulator__"
_DAY = 86_400
_DEFAULT_PAGE_LIMIT = 25
_PHONE_NODE = "WhatsAppBusinessPhoneNumber"
_WABA_NODE = "WhatsAppBusinessAccount"
_ALL_SCOPES = ("whatsapp_business_management", "whatsapp_business_messaging", "business_management")
_TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056, 131057, 133004})
_CANNOT_PARSE = "Invalid OAuth access token - Cannot parse access token"
_VERSION_PREFIX = re.compile(r"^/v\d+(?:\.\d+)?(?=/|$)")
_BRACED = re.compile(r"\{[^{}]*\}")
_TRACE_ALPHABET = string.ascii_letters + string.digits

_DEFAULT_FIELDS: Mapping[str, tuple[str, ...]] = {
    _PHONE_NODE: ("display_phone_number", "verified_name", "quality_rating"),
    _WABA_NODE: ("name", "timezone_id", "message_template_namespace"),
}
_PHONE_LIST_FIELDS = (
    "display_phone_number",
    "verified_name",
    "status",
    "platform_type",
    "quality_rating",
    "code_verification_status",
)


def appsecret_proof(token: str, app_secret: str = DEMO_APP_SECRET) -> str:
    """Return Graph's ``appsecret_proof`` for ``token``: hex HMAC-SHA256 keyed with the app secret."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


class _GraphError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        subcode: int | None = None,
        is_transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.is_transient = code in _TRANSIENT_CODES if is_transient is None else is_transient

    def envelope(self) -> JsonObject:
        error: JsonObject = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.is_transient
        error["fbtrace_id"] = "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(22))
        return {"error": error}


def _unknown_object(method: str, object_id: str) -> _GraphError:
    message = (
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    )
    return _GraphError(400, 100, message, subcode=33)


def _unknown_path(request: _Request) -> _GraphError:
    return _GraphError(400, 100, f"Unknown path components: /{'/'.join(request.segments)}")


def _invalid_parameter(message: str) -> _GraphError:
    return _GraphError(400, 100, f"(#100) {message}")


def _format_time(timestamp: int) -> str:
    return time.strftime("%A, %d-%b-%y %H:%M:%S UTC", time.gmtime(timestamp))


def _expired_message(now: int) -> str:
    return (
        f"Error validating access token: Session has expired on {_format_time(now - _DAY)}. "
        f"The current time is {_format_time(now)}."
    )


class _Kind(Enum):
    SYSTEM_USER = auto()
    EXPIRING = auto()
    EXPIRED = auto()
    NO_MESSAGING_SCOPE = auto()
    USER = auto()
    RATE_LIMITED = auto()
    GRAPH_5XX = auto()
    REQUIRES_PROOF = auto()
    APP = auto()
    BAD_APP = auto()
    INVALID = auto()


_NAMED_TOKENS: Mapping[str, _Kind] = {
    EXPIRING_TOKEN: _Kind.EXPIRING,
    EXPIRED_TOKEN: _Kind.EXPIRED,
    NO_MESSAGING_SCOPE_TOKEN: _Kind.NO_MESSAGING_SCOPE,
    USER_TOKEN: _Kind.USER,
    RATE_LIMITED_TOKEN: _Kind.RATE_LIMITED,
    GRAPH_5XX_TOKEN: _Kind.GRAPH_5XX,
    REQUIRES_PROOF_TOKEN: _Kind.REQUIRES_PROOF,
    f"{DEMO_APP_ID}|{DEMO_APP_SECRET}": _Kind.APP,
    DEMO_APP_ACCESS_TOKEN: _Kind.APP,
}


def _classify(token: str) -> _Kind:
    if token in _NAMED_TOKENS:
        return _NAMED_TOKENS[token]
    if token.startswith(VALID_TOKEN_PREFIX):
        return _Kind.SYSTEM_USER
    return _Kind.BAD_APP if "|" in token else _Kind.INVALID


def _bad_app_token() -> _GraphError:
    return _GraphError(400, 190, "Error validating application. Invalid application secret.")


def _token_failure(kind: _Kind) -> _GraphError | None:
    match kind:
        case _Kind.INVALID:
            return _GraphError(401, 190, _CANNOT_PARSE)
        case _Kind.BAD_APP:
            return _bad_app_token()
        case _Kind.EXPIRED:
            return _GraphError(401, 190, _expired_message(int(time.time())), subcode=463)
        case _Kind.RATE_LIMITED:
            message = (
                "(#80007) There have been too many calls to this WhatsApp Business account. Wait a bit and try again."
            )
            return _GraphError(400, 80007, message, is_transient=True)
        case _Kind.GRAPH_5XX:
            return _GraphError(500, 2, "Service temporarily unavailable", is_transient=True)
        case _:
            return None


def _check_proof(proof: object, token: str, kind: _Kind) -> None:
    if proof is None:
        if kind is _Kind.REQUIRES_PROOF:
            raise _GraphError(400, 100, "API calls from the server require an appsecret_proof argument")
        return
    if not isinstance(proof, str) or not hmac.compare_digest(proof, appsecret_proof(token)):
        raise _GraphError(400, 100, "Invalid appsecret_proof provided in the API argument")


def _scope_fields(scopes: Sequence[str]) -> JsonObject:
    granular = [
        {"scope": scope, "target_ids": [DEMO_WABA_ID, FOREIGN_WABA_ID]}
        if scope.startswith("whatsapp_")
        else {"scope": scope}
        for scope in scopes
    ]
    return {"scopes": list(scopes), "granular_scopes": granular}


def _system_user_info(now: int) -> JsonObject:
    return {
        "app_id": DEMO_APP_ID,
        "type": "SYSTEM_USER",
        "application": DEMO_APP_NAME,
        "data_access_expires_at": 0,
        "expires_at": 0,
        "is_valid": True,
        "issued_at": now - 7 * _DAY,
        **_scope_fields(_ALL_SCOPES),
        "user_id": DEMO_SYSTEM_USER_ID,
    }


def _token_variation(kind: _Kind, now: int) -> JsonObject:
    match kind:
        case _Kind.EXPIRING:
            return {"expires_at": now + 30 * _DAY, "issued_at": now - 30 * _DAY}
        case _Kind.EXPIRED:
            error = {"code": 190, "message": _expired_message(now), "subcode": 463}
            return {"expires_at": now - _DAY, "issued_at": now - 61 * _DAY, "is_valid": False, "error": error}
        case _Kind.NO_MESSAGING_SCOPE:
            return _scope_fields(("whatsapp_business_management", "business_management"))
        case _Kind.USER:
            expiries = {"expires_at": now + 60 * _DAY, "data_access_expires_at": now + 90 * _DAY}
            return {"type": "USER", **expiries, "user_id": DEMO_USER_ID}
        case _:
            return {}


def _token_info(kind: _Kind, now: int) -> JsonObject:
    if kind is _Kind.APP:
        return {"app_id": DEMO_APP_ID, "type": "APP", "application": DEMO_APP_NAME, "is_valid": True, "scopes": []}
    if kind in (_Kind.INVALID, _Kind.BAD_APP):
        return {"error": {"code": 190, "message": _CANNOT_PARSE}, "is_valid": False, "scopes": []}
    return _system_user_info(now) | _token_variation(kind, now)


def _health(*entities: tuple[str, str]) -> JsonObject:
    return {
        "can_send_message": "AVAILABLE",
        "entities": [{"entity_type": kind, "id": ident, "can_send_message": "AVAILABLE"} for kind, ident in entities],
    }


def _phone_profile(phone_id: str, waba_id: str, suffix: str, name: str) -> JsonObject:
    return {
        "id": phone_id,
        "display_phone_number": f"+1 555-010-{suffix}",
        "verified_name": name,
        "quality_rating": "GREEN",
        "quality_score": {"score": "GREEN"},
        "code_verification_status": "VERIFIED",
        "name_status": "APPROVED",
        "new_name_status": "NONE",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "status": "CONNECTED",
        "whatsapp_business_manager_messaging_limit": "TIER_2K",
        "messaging_limit_tier": "TIER_2K",
        "account_mode": "LIVE",
        "is_official_business_account": False,
        "is_pin_enabled": False,
        "is_preverified_number": False,
        "is_on_biz_app": False,
        "last_onboarded_time": "2026-01-15T10:00:00+0000",
        "country_code": "US",
        "country_dial_code": "1",
        "search_visibility": "VISIBLE",
        "certificate": None,
        "new_certificate": None,
        "eligibility_for_api_business_global_search": None,
        "health_status": _health(
            ("PHONE_NUMBER", phone_id), ("WABA", waba_id), ("BUSINESS", DEMO_BUSINESS_ID), ("APP", DEMO_APP_ID)
        ),
    }


_PHONE_OWNERS: Mapping[str, str] = {
    **dict.fromkeys(DEMO_PHONE_NUMBER_IDS, DEMO_WABA_ID),
    FOREIGN_PHONE_NUMBER_ID: FOREIGN_WABA_ID,
}


def _initial_phones() -> dict[str, JsonObject]:
    phones = {
        phone_id: _phone_profile(phone_id, DEMO_WABA_ID, f"000{n}", f"Demo Shop {n}")
        for n, phone_id in enumerate(DEMO_PHONE_NUMBER_IDS, start=1)
    }
    phones[FOREIGN_PHONE_NUMBER_ID] = _phone_profile(FOREIGN_PHONE_NUMBER_ID, FOREIGN_WABA_ID, "0099", "Foreign Shop")
    return phones


def _waba_profile(waba_id: str, name: str, namespace: str) -> JsonObject:
    return {
        "id": waba_id,
        "name": name,
        "currency": "USD",
        "timezone_id": "1",
        "message_template_namespace": namespace,
        "owner_business_info": {"id": DEMO_BUSINESS_ID, "name": "Demo Business"},
        "business_verification_status": "verified",
        "account_review_status": "APPROVED",
        "country": "US",
        "ownership_type": "SELF",
        "health_status": _health(("WABA", waba_id), ("BUSINESS", DEMO_BUSINESS_ID), ("APP", DEMO_APP_ID)),
    }


_WABAS: Mapping[str, JsonObject] = {
    DEMO_WABA_ID: _waba_profile(DEMO_WABA_ID, "Demo WABA", "d3m0a1b2_c3d4_e5f6_a7b8_c9d0e1f2a3b4"),
    FOREIGN_WABA_ID: _waba_profile(FOREIGN_WABA_ID, "Foreign WABA", "f0re1a1b_c3d4_e5f6_a7b8_c9d0e1f2a3b4"),
}


def _requested_fields(raw: str | None, default: Sequence[str]) -> list[str]:
    if not raw:
        return list(default)
    while (flattened := _BRACED.sub("", raw)) != raw:
        raw = flattened
    return [name.strip() for name in raw.split(",") if name.strip()]


def _select(node: Mapping[str, Any], fields: Sequence[str], node_type: str) -> JsonObject:
    for name in fields:
        if name not in node:
            raise _invalid_parameter(f"Tried accessing nonexisting field ({name}) on node type ({node_type})")
    return {name: node[name] for name in dict.fromkeys(["id", *fields]) if node[name] is not None}


def _cursor(object_id: str) -> str:
    return base64.urlsafe_b64encode(f"cursor:{object_id}".encode()).decode().rstrip("=")


def _page_start(ids: Sequence[str], after: str | None) -> int:
    if after is None:
        return 0
    for index, object_id in enumerate(ids):
        if hmac.compare_digest(_cursor(object_id), after):
            return index + 1
    raise _invalid_parameter("The after cursor is invalid")


def _page_limit(raw: str | None) -> int:
    if raw is None:
        return _DEFAULT_PAGE_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise _invalid_parameter("Param limit must be a positive integer")
    return int(raw)


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    query: Mapping[str, str]
    raw_body: bytes
    content_type: str
    authorization: str
    host: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(part for part in _VERSION_PREFIX.sub("", self.path).split("/") if part)

    @property
    def body(self) -> JsonObject:
        if not self.raw_body.strip():
            return {}
        if "json" not in self.content_type:
            return dict(parse_qsl(self.raw_body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            parsed = json.loads(self.raw_body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise _invalid_parameter("The request body must be a JSON object")
        return parsed

    @property
    def params(self) -> JsonObject:
        return {**self.query, **self.body}

    @property
    def token(self) -> str | None:
        scheme, _, credentials = self.authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
        token = self.params.get("access_token")
        return token if isinstance(token, str) and token else None


@dataclass(frozen=True)
class _Response:
    status: int
    body: JsonObject


_Route = Callable[[_Request], JsonObject]


def _int_field(body: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid_parameter(f"Param {name} must be an integer")
    return value


class GraphSimulator:
    """Simulator of Meta's Graph API (test double) serving on a loopback HTTP port in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_seconds: float = 0.0) -> None:
        self.latency_seconds = latency_seconds
        self.calls: list[tuple[str, str]] = []
        self.sent_messages: list[dict[str, str]] = []
        self._host = host
        self._lock = threading.Lock()
        self._failures: list[Callable[[], _GraphError]] = []
        self._phones = _initial_phones()
        self._overrides: dict[str, str | None] = {}
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    def start(self) -> GraphSimulator:
        if self._thread is not None:
            raise RuntimeError("the Graph API simulator is already running")
        self._thread = threading.Thread(
            target=partial(self._server.serve_forever, poll_interval=0.05), name="graph-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> GraphSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._server.server_port}"

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def reset(self) -> None:
        """Simulator-only: forget calls, sent messages, queued failures, profile changes and subscriptions."""
        with self._lock:
            self.calls.clear()
            self.sent_messages.clear()
            self._failures.clear()
            self._phones = _initial_phones()
            self._overrides.clear()

    def fail_next(
        self,
        status: int,
        error_code: int,
        count: int = 1,
        error_subcode: int | None = None,
        *,
        message: str | None = None,
        is_transient: bool | None = None,
    ) -> None:
        """Simulator-only: make the next ``count`` Graph requests fail with this error envelope."""
        if count < 0:
            raise ValueError("count must not be negative")
        text = message or f"(#{error_code}) Failure injected by the Graph API simulator"
        error = partial(_GraphError, status, error_code, text, subcode=error_subcode, is_transient=is_transient)
        with self._lock:
            self._failures.extend([error] * count)

    def set_phone_field(self, phone_number_id: str, field: str, value: Any) -> None:
        """Simulator-only: change one field of a phone number's profile, e.g. ``quality_rating``."""
        with self._lock:
            if phone_number_id not in self._phones:
                raise KeyError(phone_number_id)
            self._phones[phone_number_id][field] = value

    def _handle(self, request: _Request) -> _Response:
        if request.segments[:1] == (_CONTROL_PREFIX,):
            return self._answer(self._control, request)
        with self._lock:
            self.calls.append((request.method, request.path))
        if self.latency_seconds > 0:
            time.sleep(self.latency_seconds)
        return self._answer(self._graph, request)

    @staticmethod
    def _answer(handler: _Route, request: _Request) -> _Response:
        try:
            return _Response(200, handler(request))
        except _GraphError as error:
            return _Response(error.status, error.envelope())

    def _graph(self, request: _Request) -> JsonObject:
        with self._lock:
            injected = self._failures.pop(0) if self._failures else None
        if injected is not None:
            raise injected()
        if request.segments == ("oauth", "access_token"):
            return self._dispatch({"GET": self._app_access_token}, request)
        return self._dispatch(self._routes(request.segments, self._authenticate(request)), request)

    @staticmethod
    def _dispatch(routes: Mapping[str, _Route], request: _Request) -> JsonObject:
        handler = routes.get(request.method)
        if handler is None:
            raise _unknown_path(request)
        return handler(request)

    @staticmethod
    def _authenticate(request: _Request) -> _Kind:
        token = request.token
        if token is None:
            raise _GraphError(400, 104, "An access token is required to request this resource.")
        kind = _classify(token)
        failure = _token_failure(kind)
        if failure is not None:
            raise failure
        _check_proof(request.params.get("appsecret_proof"), token, kind)
        return kind

    def _routes(self, segments: tuple[str, ...], kind: _Kind) -> Mapping[str, _Route]:
        match segments:
            case ("debug_token",):
                return {"GET": self._debug_token}
            case (node_id,):
                return {"GET": partial(self._node, kind, node_id)}
            case (waba_id, "phone_numbers"):
                return {"GET": partial(self._phone_numbers, kind, waba_id)}
            case (phone_id, "messages"):
                return {"POST": partial(self._send_message, kind, phone_id)}
            case (waba_id, "subscribed_apps"):
                return {
                    "GET": partial(self._subscribed_apps, kind, waba_id),
                    "POST": partial(self._subscribe_app, kind, waba_id),
                    "DELETE": partial(self._unsubscribe_app, kind, waba_id),
                }
            case _:
                return {}

    @staticmethod
    def _debug_token(request: _Request) -> JsonObject:
        input_token = request.params.get("input_token")
        if not isinstance(input_token, str) or not input_token:
            raise _invalid_parameter("The parameter input_token is required")
        return {"data": _token_info(_classify(input_token), int(time.time()))}

    @staticmethod
    def _app_access_token(request: _Request) -> JsonObject:
        params = request.params
        if params.get("grant_type") != "client_credentials":
            raise _invalid_parameter("Only grant_type=client_credentials is supported by the simulator")
        if params.get("client_id") != DEMO_APP_ID:
            raise _GraphError(400, 101, "Error validating application. Invalid application ID.")
        client_secret = params.get("client_secret")
        if not isinstance(client_secret, str) or not hmac.compare_digest(client_secret, DEMO_APP_SECRET):
            # Graph reports a wrong client secret with the generic code 1, which is otherwise a transient error.
            raise _GraphError(400, 1, "Error validating client secret.", is_transient=False)
        return {"access_token": DEMO_APP_ACCESS_TOKEN, "token_type": "bearer"}

    @staticmethod
    def _require_visible(kind: _Kind, method: str, object_id: str, known: Collection[str]) -> None:
        if kind is _Kind.APP or object_id not in known:
            raise _unknown_object(method, object_id)

    def _node(self, kind: _Kind, node_id: str, request: _Request) -> JsonObject:
        self._require_visible(kind, request.method, node_id, _WABAS.keys() | _PHONE_OWNERS.keys())
        node_type = _WABA_NODE if node_id in _WABAS else _PHONE_NODE
        node = _WABAS[node_id] if node_type == _WABA_NODE else self._phone_view(node_id)
        return _select(node, _requested_fields(request.query.get("fields"), _DEFAULT_FIELDS[node_type]), node_type)

    def _send_message(self, kind: _Kind, phone_id: str, request: _Request) -> JsonObject:
        """Cloud API send: a wamid for every accepted message (what Evolution's sendText relays)."""
        self._require_visible(kind, request.method, phone_id, _PHONE_OWNERS.keys())
        body = request.body
        recipient = body.get("to")
        if body.get("messaging_product") != "whatsapp" or not isinstance(recipient, str) or not recipient:
            raise _invalid_parameter("The parameters messaging_product and to are required")
        wamid = "wamid." + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(28))
        with self._lock:
            self.sent_messages.append({"phone_number_id": phone_id, "to": recipient, "wamid": wamid})
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": recipient, "wa_id": recipient}],
            "messages": [{"id": wamid}],
        }

    def _phone_view(self, phone_id: str) -> JsonObject:
        with self._lock:
            view = dict(self._phones[phone_id])
            override = self._overrides.get(_PHONE_OWNERS[phone_id])
        configuration: JsonObject = {"application": DEMO_APP_CALLBACK_URL}
        if override:
            configuration["whatsapp_business_account"] = override
        view.setdefault("webhook_configuration", configuration)
        return view

    def _phone_numbers(self, kind: _Kind, waba_id: str, request: _Request) -> JsonObject:
        self._require_visible(kind, request.method, waba_id, _WABAS)
        ids = [phone_id for phone_id, owner in _PHONE_OWNERS.items() if owner == waba_id]
        start = _page_start(ids, request.query.get("after"))
        limit = _page_limit(request.query.get("limit"))
        fields = _requested_fields(request.query.get("fields"), _PHONE_LIST_FIELDS)
        page = [_select(self._phone_view(phone_id), fields, _PHONE_NODE) for phone_id in ids[start : start + limit]]
        if not page:
            return {"data": []}
        paging: JsonObject = {"cursors": {"before": _cursor(page[0]["id"]), "after": _cursor(page[-1]["id"])}}
        if start + limit < len(ids):
            paging["next"] = self._next_url(request, paging["cursors"]["after"])
        return {"data": page, "paging": paging}

    @staticmethod
    def _next_url(request: _Request, after: str) -> str:
        query = {name: value for name, value in request.query.items() if name not in ("after", "before")}
        return f"http://{request.host}{request.path}?{urlencode({**query, 'after': after})}"

    def _subscribed_apps(self, kind: _Kind, waba_id: str, request: _Request) -> JsonObject:
        self._require_visible(kind, request.method, waba_id, _WABAS)
        with self._lock:
            subscribed = waba_id in self._overrides
            override = self._overrides.get(waba_id)
        if not subscribed:
            return {"data": []}
        app = {
            "id": DEMO_APP_ID,
            "name": DEMO_APP_NAME,
            "link": f"https://www.facebook.com/games/?app_id={DEMO_APP_ID}",
        }
        entry: JsonObject = {"whatsapp_business_api_data": app}
        if override:
            entry["override_callback_uri"] = override
        return {"data": [entry]}

    def _subscribe_app(self, kind: _Kind, waba_id: str, request: _Request) -> JsonObject:
        self._require_visible(kind, request.method, waba_id, _WABAS)
        params = request.params
        override = params.get("override_callback_uri")
        if override is not None and not isinstance(override, str):
            raise _invalid_parameter("Param override_callback_uri must be a URL")
        if override and not params.get("verify_token"):
            raise _invalid_parameter("The parameter verify_token is required")
        with self._lock:
            self._overrides[waba_id] = override or None
        return {"success": True}

    def _unsubscribe_app(self, kind: _Kind, waba_id: str, request: _Request) -> JsonObject:
        self._require_visible(kind, request.method, waba_id, _WABAS)
        with self._lock:
            self._overrides.pop(waba_id, None)
        return {"success": True}

    def _control(self, request: _Request) -> JsonObject:
        match request.method, request.segments[1:]:
            case "POST", ("fail_next",):
                self._control_fail_next(request.body)
            case "POST", ("phone", phone_id):
                self._control_phone(phone_id, request.body)
            case "POST", ("reset",):
                self.reset()
            case "GET", ("calls",):
                with self._lock:
                    return {"data": [list(call) for call in self.calls]}
            case "DELETE", ("calls",):
                self.reset_calls()
            case _:
                raise _unknown_path(request)
        return {"success": True}

    def _control_fail_next(self, body: Mapping[str, Any]) -> None:
        subcode = body.get("error_subcode")
        message = body.get("message")
        self.fail_next(
            _int_field(body, "status"),
            _int_field(body, "error_code"),
            count=max(_int_field(body, "count", 1), 0),
            error_subcode=None if subcode is None else _int_field(body, "error_subcode"),
            message=message if isinstance(message, str) else None,
        )

    def _control_phone(self, phone_id: str, body: Mapping[str, Any]) -> None:
        field = body.get("field")
        if not isinstance(field, str) or "value" not in body:
            raise _invalid_parameter('Send a JSON body {"field": ..., "value": ...}')
        try:
            self.set_phone_field(phone_id, field, body["value"])
        except KeyError:
            raise _GraphError(404, 100, f"The simulator has no phone number with ID '{phone_id}'") from None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: GraphSimulator) -> None:
        super().__init__(address, _RequestHandler)
        self.simulator = simulator


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, keep-alive clients wait ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return SERVER_HEADER

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        if not isinstance(self.server, _Server):
            raise TypeError("the Graph API simulator handler needs its own server class")
        fallback_host = urlsplit(self.server.simulator.base_url).netloc
        self._write(self.server.simulator._handle(self._read_request(fallback_host)))

    def _read_request(self, fallback_host: str) -> _Request:
        length = int(self.headers.get("Content-Length") or 0)
        split = urlsplit(self.path)
        return _Request(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            raw_body=self.rfile.read(length) if length > 0 else b"",
            content_type=self.headers.get("Content-Type") or "",
            authorization=self.headers.get("Authorization") or "",
            host=self.headers.get("Host") or fallback_host,
        )

    def _write(self, response: _Response) -> None:
        payload = json.dumps(response.body, separators=(",", ":")).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header(*SIMULATOR_HEADER)
        self.end_headers()
        self.wfile.write(payload)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m local.graph_simulator", description="Serve the simulator of Meta's Graph API (a test double)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to sleep before every Graph answer")
    args = parser.parse_args(argv)
    simulator = GraphSimulator(args.host, args.port, args.latency).start()
    print(simulator.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
