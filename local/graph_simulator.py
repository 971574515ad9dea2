r"""SIMULATOR of Meta's Graph API: a test double, not Meta's service.

It serves the small part of ``https://graph.facebook.com`` that our credential validation, webhook wiring and
Evolution's sends call, and it plays Meta's webhook sender, so tests, benchmarks and the local stack run without
network access or real Meta credentials. Every response carries the headers ``X-Simulator: graph-api`` and
``Server: GraphSimulator/1.0 (simulator of Meta's Graph API)``. Paths are accepted with any version prefix
(``/v25.0/...``) or none. Behaviour follows ``/work/shared/reference/meta-cloud-api.md`` (A1-A5).

Routes:

* ``GET /debug_token?input_token=...``: the bearer is the token itself or an app token.
* ``GET /oauth/access_token?grant_type=client_credentials&client_id=...&client_secret=...``
* ``GET /{phone_number_id}?fields=...`` and ``GET /{waba_id}?fields=...``; ``webhook_configuration`` holds
  ``phone_number``, ``whatsapp_business_account`` and ``application`` (each only when set, so ``{}`` at first);
  ``health_status`` follows the per-entity health (see the controls).
* ``POST /{phone_number_id}`` with ``webhook_configuration`` = ``{"override_callback_uri", "verify_token"}`` (a JSON
  body, or a form/query parameter holding JSON): the phone-number override. Needs the app's
  ``whatsapp_business_account`` subscription with the ``messages`` field (else 100 "Before override the current
  callback uri, ..."), then runs the verification handshake; ``"override_callback_uri": ""`` removes it.
* ``GET /{waba_id}/phone_numbers?fields=...&limit=N&after=CURSOR`` (default limit 25)
* ``GET /{waba_id}/message_templates[?name=&language=&status=]``: the template registry (``hello_world``/``en_US``,
  UTILITY, APPROVED, on the demo WABA only).
* ``GET|POST|DELETE /{waba_id}/subscribed_apps``: POST without ``override_callback_uri`` subscribes the app and
  removes the WABA override; with ``override_callback_uri`` + ``verify_token`` it checks the same precondition as
  the phone override and runs the handshake.
* ``GET|POST|DELETE /{app_id}/subscriptions`` (app token only: ``app_id|app_secret`` or the issued
  ``DEMO_APP_ACCESS_TOKEN``; other tokens get 400 code 15 "This method must be called with an app access_token").
  POST takes ``object=whatsapp_business_account``, ``callback_url``, ``verify_token``, ``fields`` (comma-separated or
  a list) and optional ``include_values``, runs the handshake, then replaces the callback URL and verify token and
  adds the fields (one callback per app); DELETE takes ``object`` and optional ``fields`` (only those removed).
* ``POST /{phone_number_id}/messages``: a wamid for every accepted send (kept in ``sent_messages``), Meta's
  errors for the special recipients and unknown templates below, then (auto statuses) ``sent`` + ``delivered``, or
  ``failed``, posted as signed webhooks.

The token comes from ``Authorization: Bearer <token>`` or the ``access_token`` parameter. When an
``appsecret_proof`` parameter is present it must equal hex HMAC-SHA256(key=app secret, msg=token).
Errors use Graph's envelope: ``{"error": {"message", "type": "OAuthException", "code", "error_subcode" (only when
there is one), "error_data" (only when there is one), "is_transient", "fbtrace_id"}}``.

Demo credentials (the ``Constant`` column names this module's constants):

| Constant | Value | Behaviour |
|---|---|---|
| `DEMO_WABA_ID` | `200000000000001` | "Demo WABA"; owns the 9 demo numbers and the `hello_world`/`en_US` template |
| `DEMO_PHONE_NUMBER_IDS` | `100000000000001` ... `100000000000009` | "+1 555-010-000N", "Demo Shop N" |
| `FOREIGN_WABA_ID` | `200000000000099` | "Foreign WABA"; lists only the foreign number; no templates |
| `FOREIGN_PHONE_NUMBER_ID` | `100000000000099` | Readable, but not in the demo WABA |
| `DEMO_APP_ID` | `300000000000001` | "Demo App"; every demo token belongs to it |
| `DEMO_APP_SECRET` | `demo-app-secret-0123456789abcdef` | App token: `DEMO_APP_ID\|DEMO_APP_SECRET`; signs webhooks |
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

Special recipients of ``POST /{phone_number_id}/messages`` (``to`` compared by its digits; any other recipient is
accepted and gets ``sent`` then ``delivered``):

| Constant | `to` | Behaviour |
|---|---|---|
| `NOT_ALLOWED_RECIPIENT` | `15550131030` | 400, code 131030 "Recipient phone number not in allowed list" |
| `PAIR_RATE_LIMITED_RECIPIENT` | `15550131056` | 400, code 131056 pair rate limit, transient |
| `OUTSIDE_WINDOW_RECIPIENT` | `15550131047` | text accepted, then a `failed` status with 131047; templates deliver |
| `UNDELIVERABLE_RECIPIENT` | `15550131026` | accepted (wamid), then a `failed` status with 131026 |

A template send whose name and language are not an APPROVED template of the number's WABA fails with 400, code
132001 "Template name does not exist in the translation" (PAUSED: 132015, DISABLED: 132016).

Webhooks, as Meta sends them: a POST of ``{"object": "whatsapp_business_account", "entry": [{"id": <WABA>,
"changes": [{"field": "messages", "value": {"messaging_product", "metadata": {"display_phone_number",
"phone_number_id"}, "contacts"?, "messages"? | "statuses"?, "errors"?}}]}]}``, serialised like Meta's (compact, non-
ASCII as ``\uXXXX``, ``/`` as ``\/``: re-serialising the parsed JSON does not give the signed bytes), with ``X-Hub-
Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``, ``X-Hub-Signature: sha1=<...>`` and ``User-Agent:
facebookexternalua``. They go to the effective URL of the number: phone override, else WABA override, else the app
callback (fields other than ``messages`` and the other override-able fields always go to the app callback), and only
if the app's subscription has the field and the app is subscribed to the WABA (``subscribed_apps``); otherwise
nothing is posted and the reason is reported. Meta's retries of non-200 answers are not simulated. The verification
handshake is ``GET <url>?hub.mode=subscribe&hub.challenge=<10 digits>&hub.verify_token=<token>``; it passes only on
HTTP 200 whose body is exactly the challenge, within ``handshake_timeout_seconds`` (6 s like Meta), else 400 code
2200 "(#2200) Callback verification failed with the following errors: ..." and nothing changes. Plain ``http://``
URLs are accepted (Meta requires HTTPS).

Auto statuses (on by default; ``auto_statuses=False``, ``--no-auto-statuses`` or the control turn them off): after
each accepted send a thread posts, ``status_delay_seconds`` apart, ``sent`` then ``delivered`` (or only ``failed``
with 131047/131026 for the special recipients) with ``timestamp``, ``recipient_id``, ``pricing`` (template:
billable ``regular``/``utility``; text: ``free_customer_service``/``service``), the send's
``biz_opaque_callback_data``, and ``conversation`` on ``sent`` only when the app's ``messages`` field version is
older than v24.0 (Meta omits it from v24.0 webhooks).

Simulator-only test controls (Meta has nothing like them), in process and over HTTP; control requests are neither
recorded, delayed nor failed:

* ``fail_next(status, error_code, count=1, error_subcode=None)`` / ``POST /__simulator__/fail_next`` with
  ``{"status", "error_code", "count"?, "error_subcode"?, "message"?}``: the next Graph requests fail.
* ``set_phone_field(id, field, value)`` / ``POST /__simulator__/phone/{id}`` ``{"field", "value"}``.
* ``set_health(entity_type, can_send_message, entity_id=None, additional_info=None, errors=None)`` /
  ``POST /__simulator__/health`` ``{"entity_type": PHONE_NUMBER|WABA|BUSINESS|APP, "id"?, "can_send_message":
  AVAILABLE|LIMITED|BLOCKED, "additional_info"?: [str], "errors"?: [{"error_code", "error_description",
  "possible_solution"}]}``; overall ``can_send_message`` is BLOCKED if any entity is, else LIMITED if any is.
* ``set_app_subscription(callback_url=DEMO_APP_CALLBACK_URL, fields=("messages",), verify_token=..., version=...)``
  / ``POST /__simulator__/app_subscription`` ``{"callback_url"?, "fields"?, "verify_token"?, "version"?}`` (no
  handshake); ``clear_app_subscription()`` / ``DELETE /__simulator__/app_subscription``.
* ``set_override(object_id, url)`` / ``POST /__simulator__/override/{id}`` ``{"url": str|null}``: a phone or WABA
  override without precondition or handshake (a WABA id also subscribes the app to that WABA).
* ``add_template(name, language, waba_id=DEMO_WABA_ID, category="UTILITY", status="APPROVED")`` / ``POST
  /__simulator__/templates`` ``{"name", "language", "waba_id"?, "category"?, "status"?}``.
* ``effective_callback(phone_number_id, field="messages")``: ``{"url", "level", "reason"}`` of the routing above.
* ``post_webhook(...)`` / ``POST /__simulator__/webhooks`` (keys as the keyword arguments): build, sign and post a
  Meta webhook now; answers the delivery record ``{"seq", "origin", "delivered", "url", "level", "reason",
  "status", "response", "error", "payload", "raw", "headers", "at"}``. ``GET|DELETE /__simulator__/webhooks``
  read or clear every delivery record (auto statuses included); ``wait_for_webhooks(timeout)`` waits for them.
* ``set_auto_statuses(enabled, delay_seconds=None)`` / ``POST /__simulator__/auto_statuses`` ``{"enabled",
  "delay_seconds"?}``.
* ``GET /__simulator__/handshakes``: every verification handshake (``url``, ``verify_token``, ``challenge``,
  ``status``, ``response``, ``error``, ``ok``).
* ``GET|DELETE /__simulator__/calls`` read or clear the recorded calls; ``reset()`` / ``POST /__simulator__/reset``
  restores the initial state (no app subscription, no WABA subscription or override, all AVAILABLE, only
  ``hello_world``, auto statuses as constructed) and drops pending auto statuses.

Run it standalone with ``python -m local.graph_simulator --port 8091``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import itertools
import json
import re
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, auto
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from local.serving import serve_in_thread

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
DEMO_APP_VERIFY_TOKEN = "demo-app-verify-token"
DEMO_TEMPLATE_NAME = "hello_world"
DEMO_TEMPLATE_LANGUAGE = "en_US"
DEMO_CONTACT_NAME = "Simulated Contact"

VALID_TOKEN = "EAADEMOVALIDTOKEN0000000000000000000000000000"
VALID_TOKEN_PREFIX = "EAADEMOVALID"
EXPIRING_TOKEN = "EAADEMOEXPIRINGTOKEN000000000000000000000000"
EXPIRED_TOKEN = "EAADEMOEXPIREDTOKEN00000000000000000000000000"
NO_MESSAGING_SCOPE_TOKEN = "EAADEMONOSCOPETOKEN00000000000000000000000000"
USER_TOKEN = "EAADEMOUSERTOKEN000000000000000000000000000000"
RATE_LIMITED_TOKEN = "EAADEMORATELIMITED00000000000000000000000000"
GRAPH_5XX_TOKEN = "EAADEMOGRAPH5XX0000000000000000000000000000000"
REQUIRES_PROOF_TOKEN = "EAADEMOREQUIRESPROOF0000000000000000000000000"

NOT_ALLOWED_RECIPIENT = "15550131030"
PAIR_RATE_LIMITED_RECIPIENT = "15550131056"
OUTSIDE_WINDOW_RECIPIENT = "15550131047"
UNDELIVERABLE_RECIPIENT = "15550131026"

WEBHOOK_OBJECT = "whatsapp_business_account"
GRAPH_WEBHOOK_VERSION = "v25.0"
HANDSHAKE_TIMEOUT_SECONDS = 6.0
WEBHOOK_USER_AGENT = "facebookexternalua"
HEALTH_ENTITY_TYPES = ("PHONE_NUMBER", "WABA", "BUSINESS", "APP")
# Fields whose webhooks follow the WABA and phone-number overrides; every other field goes to the app callback.
OVERRIDABLE_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "calls",
        "consumer_profile",
        "messaging_handovers",
        "standby",
        "group_lifecycle_update",
        "group_participants_update",
        "group_settings_update",
        "group_status_update",
        "smb_message_echoes",
        "smb_app_state_sync",
        "history",
        "account_settings_update",
    }
)
WEBHOOK_FIELDS = OVERRIDABLE_FIELDS | {
    "message_template_status_update",
    "message_template_quality_update",
    "message_template_components_update",
    "template_category_update",
    "account_update",
    "account_review_update",
    "account_alerts",
    "phone_number_name_update",
    "phone_number_quality_update",
    "business_capability_update",
    "security",
    "flows",
    "user_preferences",
    "business_status_update",
    "partner_solutions",
    "payment_configuration_update",
    "automatic_events",
    "tracking_events",
}

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
_VERSION_PREFIX = re.compile(r"^/(v\d+(?:\.\d+)?)(?=/|$)")
_BRACED = re.compile(r"\{[^{}]*\}")
_TRACE_ALPHABET = string.ascii_letters + string.digits
_ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
_RESPONSE_EXCERPT = 2000
_CAN_SEND = ("AVAILABLE", "LIMITED", "BLOCKED")
_TEMPLATE_FAILURES: Mapping[str, int] = {"PAUSED": 132015, "DISABLED": 132016}
# (title, details) of the errors Meta reports asynchronously in statuses[].errors[]
_ASYNC_ERRORS: Mapping[int, tuple[str, str]] = {
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    131026: ("Message undeliverable", "Message Undeliverable."),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131050: (
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp "
        "from your business.",
        "The recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
    ),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
}
_DEFAULT_BLOCKING_ERROR: JsonObject = {
    "error_code": 141010,
    "error_description": "The Business has not passed business verification.",
    "possible_solution": "Visit business settings and start or resolve the business verification request.",
}

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


def webhook_signature(raw_body: bytes, app_secret: str = DEMO_APP_SECRET) -> str:
    """Return the ``X-Hub-Signature-256`` value Meta sends: ``sha256=`` + hex HMAC-SHA256 of the raw body bytes."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def meta_json(payload: Any) -> bytes:
    """Serialise like Meta's webhooks: compact, non-ASCII escaped as ``\\uXXXX`` and ``/`` escaped as ``\\/``."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def async_error(code: int, details: str | None = None) -> JsonObject:
    """An item of ``statuses[].errors`` as Meta writes it (known titles for 131047, 131026, 131049, 131050,
    131000; a generic one otherwise)."""
    title, known_details = _ASYNC_ERRORS.get(code, ("Message failed to send", "Message failed to send."))
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or known_details},
        "href": _ERROR_HREF,
    }


def _copy(value: JsonObject) -> JsonObject:
    """A deep copy of JSON data."""
    copied: JsonObject = json.loads(json.dumps(value))
    return copied


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


class _GraphError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        subcode: int | None = None,
        is_transient: bool | None = None,
        error_data: JsonObject | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.is_transient = code in _TRANSIENT_CODES if is_transient is None else is_transient
        self.error_data = error_data

    def envelope(self) -> JsonObject:
        error: JsonObject = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.error_data is not None:
            error["error_data"] = self.error_data
        error["is_transient"] = self.is_transient
        error["fbtrace_id"] = "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(22))
        return {"error": error}


def _send_error(status: int, code: int, message: str, details: str) -> _GraphError:
    """A Cloud API send error: ``(#code) message`` with ``error_data.details``."""
    error_data = {"messaging_product": "whatsapp", "details": details}
    return _GraphError(status, code, f"(#{code}) {message}", error_data=error_data)


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


def _needs_messages_subscription() -> _GraphError:
    return _invalid_parameter(
        "Before override the current callback uri, your app must be subscribed to receive messages for "
        "WhatsApp Business Account"
    )


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


def _phone_profile(phone_id: str, suffix: str, name: str) -> JsonObject:
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
    }


_PHONE_OWNERS: Mapping[str, str] = {
    **dict.fromkeys(DEMO_PHONE_NUMBER_IDS, DEMO_WABA_ID),
    FOREIGN_PHONE_NUMBER_ID: FOREIGN_WABA_ID,
}


def _initial_phones() -> dict[str, JsonObject]:
    phones = {
        phone_id: _phone_profile(phone_id, f"000{n}", f"Demo Shop {n}")
        for n, phone_id in enumerate(DEMO_PHONE_NUMBER_IDS, start=1)
    }
    phones[FOREIGN_PHONE_NUMBER_ID] = _phone_profile(FOREIGN_PHONE_NUMBER_ID, "0099", "Foreign Shop")
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
    def version(self) -> str | None:
        match = _VERSION_PREFIX.match(self.path)
        return match.group(1) if match else None

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


def _initial_templates() -> dict[str, list[JsonObject]]:
    hello_world: JsonObject = {
        "name": DEMO_TEMPLATE_NAME,
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {
                "type": "BODY",
                "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp "
                "message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test "
                "with us.",
            },
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
        ],
        "language": DEMO_TEMPLATE_LANGUAGE,
        "status": "APPROVED",
        "category": "UTILITY",
        "id": "600000000000001",
    }
    return {DEMO_WABA_ID: [hello_world], FOREIGN_WABA_ID: []}


def _field_names(raw: Any) -> list[str]:
    """``fields`` as Graph takes it: ``"a,b"``, a JSON list in a string, or a list."""
    if isinstance(raw, str) and raw.strip().startswith("["):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _invalid_parameter("Param fields must be a list of field names") from None
    names = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise _invalid_parameter("Param fields must be a list of field names")
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


def _truthy(raw: Any) -> bool:
    return raw is True or (isinstance(raw, str) and raw.lower() in ("true", "1"))


def _callback_url(params: Mapping[str, Any], name: str) -> str:
    url = params.get(name)
    if not isinstance(url, str) or not url:
        raise _invalid_parameter(f"The parameter {name} is required")
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.hostname or len(url) > 200:
        raise _invalid_parameter(f"Param {name} must be a valid URL of at most 200 characters")
    return url


def _verify_token(params: Mapping[str, Any]) -> str:
    token = params.get("verify_token")
    if not isinstance(token, str) or not token:
        raise _invalid_parameter("The parameter verify_token is required")
    return token


def _version_number(version: str) -> float:
    try:
        return float(version.lstrip("v"))
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class _HttpResult:
    status: int | None
    reason: str
    body: bytes
    curl_errno: int | None = None
    error: str | None = None


def _http(method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float) -> _HttpResult:
    """One HTTP exchange, failures described the way Meta's verifier (curl) reports them."""
    split = urlsplit(url)
    host = split.hostname or ""
    secure = split.scheme == "https"
    port = split.port or (443 if secure else 80)
    connection_class = http.client.HTTPSConnection if secure else http.client.HTTPConnection
    target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    started = time.monotonic()
    try:
        connection = connection_class(host, port, timeout=timeout)
    except ValueError as error:
        return _HttpResult(None, "", b"", 3, f"URL using bad/illegal format or missing URL: {error}")
    try:
        connection.request(method, target, body=body, headers=dict(headers))
        response = connection.getresponse()
        answer = _HttpResult(response.status, response.reason, response.read())
        if time.monotonic() - started > timeout:
            # A socket waits in whole milliseconds, so a fast answer can beat a shorter timeout: the deadline is the
            # whole exchange's, as for Meta's verifier.
            raise TimeoutError
        return answer
    except TimeoutError:
        elapsed = round((time.monotonic() - started) * 1000)
        return _HttpResult(None, "", b"", 28, f"Operation timed out after {elapsed} milliseconds with 0 bytes received")
    except ConnectionRefusedError:
        return _HttpResult(None, "", b"", 7, f"Failed to connect to {host} port {port}: Connection refused")
    except socket.gaierror:
        return _HttpResult(None, "", b"", 6, f"Could not resolve host: {host}")
    except (OSError, http.client.HTTPException) as error:
        return _HttpResult(None, "", b"", 56, f"Failure when receiving data from the peer ({type(error).__name__})")
    finally:
        connection.close()


def _excerpt(raw: bytes) -> str:
    return raw[:_RESPONSE_EXCERPT].decode("utf-8", "replace")


@dataclass
class _AppSubscription:
    callback_url: str
    verify_token: str
    fields: dict[str, str]  # field name -> webhook version
    include_values: bool = False

    def view(self) -> JsonObject:
        fields = [{"name": name, "version": version} for name, version in self.fields.items()]
        return {"object": WEBHOOK_OBJECT, "callback_url": self.callback_url, "active": True, "fields": fields}


@dataclass(frozen=True)
class _Destination:
    """Where a webhook goes: the URL and its level, or why nothing is posted; the version of the field."""

    url: str | None
    level: str | None
    reason: str | None
    version: str = GRAPH_WEBHOOK_VERSION


_CHANGE_KEYS = frozenset({"phone_number_id", "field", "statuses", "messages", "contacts", "errors", "value"})
_WEBHOOK_CONTROL_KEYS = _CHANGE_KEYS | {"waba_id", "changes", "entries", "sign", "signing_secret", "url"}


class GraphSimulator:
    """Simulator of Meta's Graph API (test double) serving on a loopback HTTP port in a daemon thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_seconds: float = 0.0,
        *,
        auto_statuses: bool = True,
        status_delay_seconds: float = 0.05,
        handshake_timeout_seconds: float = HANDSHAKE_TIMEOUT_SECONDS,
        webhook_timeout_seconds: float = 10.0,
    ) -> None:
        self.latency_seconds = latency_seconds
        self.status_delay_seconds = status_delay_seconds
        self.handshake_timeout_seconds = handshake_timeout_seconds
        self.webhook_timeout_seconds = webhook_timeout_seconds
        self.calls: list[tuple[str, str]] = []
        self.sent_messages: list[dict[str, str]] = []
        self.webhook_deliveries: list[JsonObject] = []
        self.handshakes: list[JsonObject] = []
        self._initial_auto_statuses = (auto_statuses, status_delay_seconds)
        self._auto_statuses = auto_statuses
        self._host = host
        self._lock = threading.RLock()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._seq = 0
        self._cancelled = threading.Event()
        self._failures: list[Callable[[], _GraphError]] = []
        self._phones = _initial_phones()
        self._waba_subscriptions: dict[str, str | None] = {}  # WABA id -> its override (None: subscribed, none)
        self._phone_overrides: dict[str, str] = {}
        self._app_subscription: _AppSubscription | None = None
        self._health: dict[tuple[str, str], JsonObject] = {}
        self._templates = _initial_templates()
        self._template_ids = itertools.count(600000000000002)
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    def start(self) -> GraphSimulator:
        if self._thread is not None:
            raise RuntimeError("the Graph API simulator is already running")
        self._thread = serve_in_thread(self._server, "graph-simulator")
        return self

    def stop(self) -> None:
        self._cancelled.set()
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
        """Simulator-only: back to the initial state: no calls, sent messages, queued failures, profile changes,
        subscriptions, overrides, health changes, added templates or webhook records; pending auto statuses are
        dropped and auto statuses are as constructed."""
        with self._lock:
            self._cancelled.set()
            self._cancelled = threading.Event()
            self.calls.clear()
            self.sent_messages.clear()
            self.webhook_deliveries.clear()
            self.handshakes.clear()
            self._failures.clear()
            self._phones = _initial_phones()
            self._waba_subscriptions.clear()
            self._phone_overrides.clear()
            self._app_subscription = None
            self._health.clear()
            self._templates = _initial_templates()
            self._template_ids = itertools.count(600000000000002)
            self._auto_statuses, self.status_delay_seconds = self._initial_auto_statuses

    # ------------------------------------------------------------------------------ simulator-only controls

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

    def set_health(
        self,
        entity_type: str,
        can_send_message: str,
        entity_id: str | None = None,
        *,
        additional_info: Sequence[str] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Simulator-only: set one entity's ``can_send_message`` (AVAILABLE clears it). LIMITED carries
        ``additional_info`` and BLOCKED ``errors`` (defaults are made up when not given). ``entity_id`` defaults to
        the demo business or app for BUSINESS and APP; PHONE_NUMBER and WABA need it."""
        kind, state = entity_type.upper(), can_send_message.upper()
        if kind not in HEALTH_ENTITY_TYPES or state not in _CAN_SEND:
            raise ValueError(f"entity_type must be one of {HEALTH_ENTITY_TYPES} and can_send_message of {_CAN_SEND}")
        ident = entity_id or {"BUSINESS": DEMO_BUSINESS_ID, "APP": DEMO_APP_ID}.get(kind, "")
        known: Mapping[str, Collection[str]] = {
            "PHONE_NUMBER": _PHONE_OWNERS,
            "WABA": _WABAS,
            "BUSINESS": (DEMO_BUSINESS_ID,),
            "APP": (DEMO_APP_ID,),
        }
        if ident not in known[kind]:
            raise KeyError(f"{kind} {ident}".strip())
        entry: JsonObject = {"can_send_message": state}
        if additional_info is not None or state == "LIMITED":
            info = list(additional_info or [f"Messaging of this {kind} is limited (set by the Graph API simulator)."])
            if not all(isinstance(item, str) for item in info):
                raise ValueError("additional_info must be a list of strings")
            entry["additional_info"] = info
        if errors is not None or state == "BLOCKED":
            entry["errors"] = [_blocking_error(item) for item in (errors or [_DEFAULT_BLOCKING_ERROR])]
        with self._lock:
            if state == "AVAILABLE":
                self._health.pop((kind, ident), None)
            else:
                self._health[(kind, ident)] = entry

    def set_app_subscription(
        self,
        callback_url: str = DEMO_APP_CALLBACK_URL,
        fields: Iterable[str] = ("messages",),
        *,
        verify_token: str = DEMO_APP_VERIFY_TOKEN,
        version: str = GRAPH_WEBHOOK_VERSION,
        include_values: bool = False,
    ) -> None:
        """Simulator-only: the app's ``whatsapp_business_account`` subscription as if set in the App Dashboard (no
        handshake), replacing any; e.g. ``fields=("account_update",)`` for "has a callback, but not messages"."""
        names = list(dict.fromkeys(fields))
        unknown = sorted(set(names) - WEBHOOK_FIELDS)
        if not names or unknown:
            raise ValueError(f"fields must be a non-empty list of webhook fields; unknown: {unknown}")
        with self._lock:
            self._app_subscription = _AppSubscription(
                callback_url, verify_token, dict.fromkeys(names, version), include_values
            )

    def clear_app_subscription(self) -> None:
        """Simulator-only: the app has no ``whatsapp_business_account`` subscription (the initial state)."""
        with self._lock:
            self._app_subscription = None

    def set_override(self, object_id: str, url: str | None) -> None:
        """Simulator-only: set (or, with None, remove) a phone-number or WABA override with no precondition and no
        handshake, e.g. another platform's; a WABA id also subscribes the app to that WABA."""
        with self._lock:
            if object_id in _PHONE_OWNERS:
                if url:
                    self._phone_overrides[object_id] = url
                else:
                    self._phone_overrides.pop(object_id, None)
            elif object_id in _WABAS:
                self._waba_subscriptions[object_id] = url or None
            else:
                raise KeyError(object_id)

    def add_template(
        self,
        name: str,
        language: str,
        *,
        waba_id: str = DEMO_WABA_ID,
        category: str = "UTILITY",
        status: str = "APPROVED",
    ) -> JsonObject:
        """Simulator-only: add (or replace) a template without parameters in a WABA's registry."""
        if waba_id not in _WABAS:
            raise KeyError(waba_id)
        with self._lock:
            templates = [t for t in self._templates[waba_id] if (t["name"], t["language"]) != (name, language)]
            template: JsonObject = {
                "name": name,
                "parameter_format": "POSITIONAL",
                "components": [{"type": "BODY", "text": f"{name} ({language}), a template of the simulator"}],
                "language": language,
                "status": status.upper(),
                "category": category.upper(),
                "id": str(next(self._template_ids)),
            }
            self._templates[waba_id] = [*templates, template]
            return dict(template)

    def set_auto_statuses(self, enabled: bool, delay_seconds: float | None = None) -> None:
        """Simulator-only: turn the statuses posted after each accepted send on or off."""
        with self._lock:
            self._auto_statuses = enabled
            if delay_seconds is not None:
                if delay_seconds < 0:
                    raise ValueError("delay_seconds must not be negative")
                self.status_delay_seconds = delay_seconds

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """Simulator-only: wait until no auto status is pending or being posted; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def effective_callback(self, phone_number_id: str, field: str = "messages") -> JsonObject:
        """Where Meta would post a webhook of ``field`` for this number now: ``{"url", "level", "reason"}``, with
        level ``phone_number``, ``whatsapp_business_account`` or ``application``, or url None and the reason."""
        if phone_number_id not in _PHONE_OWNERS:
            raise KeyError(phone_number_id)
        destination = self._destination(phone_number_id, None, field)
        return {"url": destination.url, "level": destination.level, "reason": destination.reason}

    def post_webhook(
        self,
        phone_number_id: str | None = None,
        *,
        statuses: Sequence[Mapping[str, Any]] | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        contacts: Sequence[Any] | None = None,
        errors: Sequence[Any] | None = None,
        field: str = "messages",
        value: Mapping[str, Any] | None = None,
        waba_id: str | None = None,
        changes: Sequence[Mapping[str, Any]] | None = None,
        entries: Sequence[Mapping[str, Any]] | None = None,
        sign: bool = True,
        signing_secret: str | None = None,
        url: str | None = None,
    ) -> JsonObject:
        """Simulator-only: post a webhook as Meta does, now, and return the delivery record.

        One change is described by ``phone_number_id`` plus ``statuses`` / ``messages`` / ``contacts`` / ``errors``
        (or a raw ``value`` for another ``field``); ``changes=[{...}, ...]`` puts several such dicts in one entry
        and ``entries=[{"id"?, "changes": [...]}, ...]`` several entries in one POST. A status item needs ``id``
        and ``status``; ``recipient_id`` defaults to the recipient of that wamid's send, ``timestamp`` to now,
        ``error_code: N`` expands to Meta's ``errors`` item, other keys (``pricing``, ``conversation``,
        ``biz_opaque_callback_data``, ``errors``...) are kept as given. A message item needs ``from``; ``text: "hi"``
        means a text message, ``id`` and ``timestamp`` are made up. ``contacts`` defaults to the sender with a
        profile for messages and to none for statuses (``[{"wa_id": ...}]`` is a contact without profile). The body
        is signed with the app secret, another ``signing_secret`` (forged) or not at all (``sign=False``), and goes
        to the number's effective URL (of the first change) or to ``url``."""
        if entries is None:
            if changes is None:
                single: JsonObject = {"phone_number_id": phone_number_id, "field": field}
                given = {"statuses": statuses, "messages": messages, "contacts": contacts, "errors": errors}
                single |= {name: item for name, item in given.items() if item is not None}
                if value is not None:
                    single["value"] = value
                changes = [single]
            entries = [{"id": waba_id, "changes": changes} if waba_id else {"changes": changes}]
        payload, first_phone, first_waba, first_field = self._payload(entries)
        if url is not None:
            destination = _Destination(url, "explicit", None)
        else:
            destination = self._destination(first_phone, first_waba, first_field)
        return self._deliver(payload, destination, "control", sign=sign, signing_secret=signing_secret)

    # ------------------------------------------------------------------------------------- dispatch

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
                return {"GET": partial(self._node, kind, node_id), "POST": partial(self._update_node, kind, node_id)}
            case (waba_id, "phone_numbers"):
                return {"GET": partial(self._phone_numbers, kind, waba_id)}
            case (waba_id, "message_templates"):
                return {"GET": partial(self._message_templates, kind, waba_id)}
            case (phone_id, "messages"):
                return {"POST": partial(self._send_message, kind, phone_id)}
            case (waba_id, "subscribed_apps"):
                return {
                    "GET": partial(self._subscribed_apps, kind, waba_id),
                    "POST": partial(self._subscribe_app, kind, waba_id),
                    "DELETE": partial(self._unsubscribe_app, kind, waba_id),
                }
            case (app_id, "subscriptions"):
                return {
                    "GET": partial(self._app_subscriptions, kind, app_id),
                    "POST": partial(self._subscribe_app_webhooks, kind, app_id),
                    "DELETE": partial(self._unsubscribe_app_webhooks, kind, app_id),
                }
            case _:
                return {}

    # ------------------------------------------------------------------------------ tokens and nodes

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
        node = self._waba_view(node_id) if node_type == _WABA_NODE else self._phone_view(node_id)
        return _select(node, _requested_fields(request.query.get("fields"), _DEFAULT_FIELDS[node_type]), node_type)

    def _phone_view(self, phone_id: str) -> JsonObject:
        waba_id = _PHONE_OWNERS[phone_id]
        with self._lock:
            view = dict(self._phones[phone_id])
            configuration: JsonObject = {}
            if phone_id in self._phone_overrides:
                configuration["phone_number"] = self._phone_overrides[phone_id]
            if self._waba_subscriptions.get(waba_id):
                configuration["whatsapp_business_account"] = self._waba_subscriptions[waba_id]
            if self._app_subscription is not None:
                configuration["application"] = self._app_subscription.callback_url
            health = self._health_view(
                ("PHONE_NUMBER", phone_id), ("WABA", waba_id), ("BUSINESS", DEMO_BUSINESS_ID), ("APP", DEMO_APP_ID)
            )
        view.setdefault("webhook_configuration", configuration)
        view.setdefault("health_status", health)
        return view

    def _waba_view(self, waba_id: str) -> JsonObject:
        with self._lock:
            health = self._health_view(("WABA", waba_id), ("BUSINESS", DEMO_BUSINESS_ID), ("APP", DEMO_APP_ID))
        return {**_WABAS[waba_id], "health_status": health}

    def _health_view(self, *entities: tuple[str, str]) -> JsonObject:
        views = [
            {"entity_type": kind, "id": ident, **self._health.get((kind, ident), {"can_send_message": "AVAILABLE"})}
            for kind, ident in entities
        ]
        states = {view["can_send_message"] for view in views}
        overall = next((state for state in ("BLOCKED", "LIMITED") if state in states), "AVAILABLE")
        return {"can_send_message": overall, "entities": json.loads(json.dumps(views))}

    def _update_node(self, kind: _Kind, node_id: str, request: _Request) -> JsonObject:
        """``POST /{phone_number_id}`` with ``webhook_configuration``: the phone-number override."""
        self._require_visible(kind, request.method, node_id, _PHONE_OWNERS.keys())
        raw = request.params.get("webhook_configuration")
        if raw is None:
            raise _invalid_parameter("The parameter webhook_configuration is required")
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = None
        if not isinstance(raw, dict):
            raise _invalid_parameter("Param webhook_configuration must be a JSON object")
        uri = raw.get("override_callback_uri")
        if not isinstance(uri, str):
            raise _invalid_parameter("Param webhook_configuration[override_callback_uri] must be a string")
        if uri == "":
            with self._lock:
                self._phone_overrides.pop(node_id, None)
            return {"success": True}
        url = _callback_url(raw, "override_callback_uri")
        token = _verify_token(raw)
        if not self._app_receives_messages():
            raise _needs_messages_subscription()
        self._handshake(url, token)
        with self._lock:
            self._phone_overrides[node_id] = url
        return {"success": True}

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

    def _message_templates(self, kind: _Kind, waba_id: str, request: _Request) -> JsonObject:
        self._require_visible(kind, request.method, waba_id, _WABAS)
        filters = {name: request.query.get(name) for name in ("name", "language", "status")}
        with self._lock:
            data = [
                dict(template)
                for template in self._templates[waba_id]
                if all(wanted in (None, "", template[name]) for name, wanted in filters.items())
            ]
        if not data:
            return {"data": []}
        return {
            "data": data,
            "paging": {"cursors": {"before": _cursor(data[0]["id"]), "after": _cursor(data[-1]["id"])}},
        }

    # ------------------------------------------------------------------------------------- sending

    def _send_message(self, kind: _Kind, phone_id: str, request: _Request) -> JsonObject:
        """Cloud API send: a wamid for every accepted message (what Evolution's sendText relays)."""
        self._require_visible(kind, request.method, phone_id, _PHONE_OWNERS.keys())
        body = request.body
        recipient = body.get("to")
        if body.get("messaging_product") != "whatsapp" or not isinstance(recipient, str) or not recipient:
            raise _invalid_parameter("The parameters messaging_product and to are required")
        digits = _digits(recipient)
        message_type = body.get("type", "text")
        if not isinstance(message_type, str):
            raise _invalid_parameter("Param type must be a string")
        if digits == NOT_ALLOWED_RECIPIENT:
            reason = "Recipient phone number not in allowed list"
            raise _send_error(400, 131030, reason, reason)
        if digits == PAIR_RATE_LIMITED_RECIPIENT:
            details = (
                "Message failed to send because there were too many messages sent from this phone number to the "
                "same phone number in a short period of time."
            )
            raise _send_error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit", details)
        pricing: JsonObject = {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_customer_service",
            "category": "service",
        }
        if message_type == "template":
            category = self._template_for(phone_id, body.get("template"))["category"].lower()
            pricing = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": category}
        wamid = "wamid." + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(28))
        opaque = body.get("biz_opaque_callback_data")
        with self._lock:
            sent = {"phone_number_id": phone_id, "to": recipient, "wamid": wamid, "type": message_type}
            self.sent_messages.append(sent)
        self._after_send(phone_id, digits, wamid, message_type, pricing, opaque if isinstance(opaque, str) else None)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": recipient, "wa_id": digits}],
            "messages": [{"id": wamid}],
        }

    def _template_for(self, phone_id: str, template: Any) -> JsonObject:
        name = template.get("name") if isinstance(template, dict) else None
        language = template.get("language") if isinstance(template, dict) else None
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(name, str) or not isinstance(code, str):
            raise _invalid_parameter("Param template must have a name and a language code")
        with self._lock:
            found = next(
                (t for t in self._templates[_PHONE_OWNERS[phone_id]] if (t["name"], t["language"]) == (name, code)),
                None,
            )
        status = str(found["status"]) if found is not None else ""
        if found is not None and status == "APPROVED":
            return found
        if status in _TEMPLATE_FAILURES:
            title = "Template is Paused" if status == "PAUSED" else "Template is Disabled"
            raise _send_error(400, _TEMPLATE_FAILURES[status], title, f"template {name} ({code}) is {status}")
        details = f"template name ({name}) does not exist in {code}"
        raise _send_error(400, 132001, "Template name does not exist in the translation", details)

    # ---------------------------------------------------------------------------- WABA subscriptions

    def _subscribed_apps(self, kind: _Kind, waba_id: str, request: _Request) -> JsonObject:
        self._require_visible(kind, request.method, waba_id, _WABAS)
        with self._lock:
            subscribed = waba_id in self._waba_subscriptions
            override = self._waba_subscriptions.get(waba_id)
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
        if override:
            url = _callback_url(params, "override_callback_uri")
            token = _verify_token(params)
            if not self._app_receives_messages():
                raise _needs_messages_subscription()
            self._handshake(url, token)
        with self._lock:
            self._waba_subscriptions[waba_id] = override or None
        return {"success": True}

    def _unsubscribe_app(self, kind: _Kind, waba_id: str, request: _Request) -> JsonObject:
        self._require_visible(kind, request.method, waba_id, _WABAS)
        with self._lock:
            self._waba_subscriptions.pop(waba_id, None)
        return {"success": True}

    # ----------------------------------------------------------------------------- app subscriptions

    @staticmethod
    def _require_app(kind: _Kind, app_id: str, method: str) -> None:
        if app_id != DEMO_APP_ID:
            raise _unknown_object(method, app_id)
        if kind is not _Kind.APP:
            raise _GraphError(400, 15, "(#15) This method must be called with an app access_token.")

    def _app_subscriptions(self, kind: _Kind, app_id: str, request: _Request) -> JsonObject:
        self._require_app(kind, app_id, request.method)
        with self._lock:
            subscription = self._app_subscription
            return {"data": [] if subscription is None else [subscription.view()]}

    def _subscribe_app_webhooks(self, kind: _Kind, app_id: str, request: _Request) -> JsonObject:
        self._require_app(kind, app_id, request.method)
        params = request.params
        subscribed_object = params.get("object")
        if not subscribed_object:
            raise _invalid_parameter("The parameter object is required")
        if subscribed_object != WEBHOOK_OBJECT:
            raise _invalid_parameter(f"The Graph API simulator only simulates the object {WEBHOOK_OBJECT}")
        url = _callback_url(params, "callback_url")
        token = _verify_token(params)
        names = _field_names(params.get("fields") or "")
        if not names:
            raise _invalid_parameter("The parameter fields is required")
        unknown = [name for name in names if name not in WEBHOOK_FIELDS]
        if unknown:
            raise _invalid_parameter(f"Invalid field name(s) for {WEBHOOK_OBJECT}: {', '.join(unknown)}")
        self._handshake(url, token)
        version = request.version or GRAPH_WEBHOOK_VERSION
        with self._lock:
            previous = self._app_subscription
            fields = dict(previous.fields) if previous is not None else {}
            fields.update(dict.fromkeys(names, version))
            self._app_subscription = _AppSubscription(url, token, fields, _truthy(params.get("include_values")))
        return {"success": True}

    def _unsubscribe_app_webhooks(self, kind: _Kind, app_id: str, request: _Request) -> JsonObject:
        self._require_app(kind, app_id, request.method)
        params = request.params
        if params.get("object") not in (None, "", WEBHOOK_OBJECT):
            return {"success": True}
        names = _field_names(params.get("fields") or "")
        with self._lock:
            subscription = self._app_subscription
            if subscription is not None and names:
                for name in names:
                    subscription.fields.pop(name, None)
            if subscription is not None and (not names or not subscription.fields):
                self._app_subscription = None
        return {"success": True}

    def _app_receives_messages(self) -> bool:
        with self._lock:
            return self._app_subscription is not None and "messages" in self._app_subscription.fields

    def _handshake(self, url: str, verify_token: str) -> None:
        """Meta's verification request, synchronous; raises 2200 unless the answer is 200 + the challenge."""
        challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
        query = urlencode({"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token})
        target = f"{url}{'&' if urlsplit(url).query else '?'}{query}"
        headers = {"User-Agent": WEBHOOK_USER_AGENT, "Accept": "*/*"}
        result = _http("GET", target, headers, None, self.handshake_timeout_seconds)
        ok = result.status == 200 and result.body == challenge.encode()
        record: JsonObject = {
            "url": url,
            "verify_token": verify_token,
            "challenge": challenge,
            "status": result.status,
            "response": _excerpt(result.body),
            "error": result.error,
            "ok": ok,
            "at": time.time(),
        }
        with self._lock:
            self.handshakes.append(record)
        if ok:
            return
        if result.status is None:
            detail = (
                f"curl_errno = {result.curl_errno}; curl_error = {result.error}; "
                "HTTP Status Code = 0; HTTP Message = Unknown Response"
            )
        elif result.status != 200:
            detail = f"HTTP Status Code = {result.status}; HTTP Message = {result.reason}"
        else:
            received = _excerpt(result.body)[:100]
            detail = (
                f'HTTP Status Code = 200; HTTP Message = OK; Response does not match challenge, expected value="'
                f'{challenge}", received="{received}"'
            )
        raise _GraphError(400, 2200, f"(#2200) Callback verification failed with the following errors: {detail}")

    # ------------------------------------------------------------------------------------- webhooks

    def _destination(self, phone_id: str | None, waba_id: str | None, field: str) -> _Destination:
        with self._lock:
            subscription = self._app_subscription
            if subscription is None or field not in subscription.fields:
                reason = f"the app has no {WEBHOOK_OBJECT} subscription with the field {field}"
                return _Destination(None, None, reason)
            version = subscription.fields[field]
            waba = _PHONE_OWNERS.get(phone_id or "", waba_id)
            if waba not in self._waba_subscriptions:
                reason = f"the app is not subscribed to the WABA {waba} (POST /{waba}/subscribed_apps)"
                return _Destination(None, None, reason, version)
            if field in OVERRIDABLE_FIELDS:
                if phone_id in self._phone_overrides:
                    return _Destination(self._phone_overrides[phone_id], "phone_number", None, version)
                waba_override = self._waba_subscriptions.get(waba or "")
                if waba_override:
                    return _Destination(waba_override, "whatsapp_business_account", None, version)
            return _Destination(subscription.callback_url, "application", None, version)

    def _payload(self, entries: Sequence[Mapping[str, Any]]) -> tuple[JsonObject, str | None, str | None, str]:
        """Meta's envelope for ``entries``; also the phone number, WABA and field of the first change."""
        built: list[JsonObject] = []
        firsts: list[tuple[str | None, str | None, str]] = []
        if not entries:
            raise ValueError("a webhook needs at least one entry")
        for entry in entries:
            specs = entry.get("changes") if isinstance(entry, Mapping) else None
            if not isinstance(specs, list | tuple) or not specs:
                raise ValueError("every entry needs a non-empty list of changes")
            changes = [self._change(spec) for spec in specs]
            entry_id = entry.get("id") or next((_PHONE_OWNERS[p] for _, p, _ in changes if p), None)
            if not isinstance(entry_id, str):
                raise ValueError("an entry without a phone_number_id needs an id (the WABA id)")
            built.append({"id": entry_id, "changes": [change for change, _, _ in changes]})
            firsts.extend((phone, entry_id, change_field) for _, phone, change_field in changes)
        phone, waba, first_field = firsts[0]
        return {"object": WEBHOOK_OBJECT, "entry": built}, phone, waba, first_field

    def _change(self, spec: Any) -> tuple[JsonObject, str | None, str]:
        if not isinstance(spec, Mapping):
            raise ValueError("a change must be an object")
        unknown = sorted(set(spec) - _CHANGE_KEYS)
        if unknown:
            raise ValueError(f"unknown keys in a change: {unknown}; use {sorted(_CHANGE_KEYS)}")
        field_name = spec.get("field") or "messages"
        phone_id = spec.get("phone_number_id")
        if not isinstance(field_name, str) or (phone_id is not None and not isinstance(phone_id, str)):
            raise ValueError("field and phone_number_id must be strings")
        if phone_id is not None and phone_id not in _PHONE_OWNERS:
            raise KeyError(phone_id)
        if spec.get("value") is not None:
            if not isinstance(spec["value"], Mapping):
                raise ValueError("value must be an object")
            return {"value": json.loads(json.dumps(spec["value"])), "field": field_name}, phone_id, field_name
        if phone_id is None:
            raise ValueError("a change needs a phone_number_id (or a raw value)")
        with self._lock:
            display = _digits(str(self._phones[phone_id]["display_phone_number"]))
        value: JsonObject = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": display, "phone_number_id": phone_id},
        }
        messages = [self._message_item(item) for item in spec.get("messages") or []]
        statuses = [self._status_item(item) for item in spec.get("statuses") or []]
        contacts = spec.get("contacts")
        if contacts is None and messages:
            contacts = [{"profile": {"name": DEMO_CONTACT_NAME}, "wa_id": messages[0]["from"]}]
        if contacts:
            value["contacts"] = json.loads(json.dumps(list(contacts)))
        if messages:
            value["messages"] = messages
        if statuses:
            value["statuses"] = statuses
        if spec.get("errors"):
            value["errors"] = [async_error(item) if isinstance(item, int) else dict(item) for item in spec["errors"]]
        return {"value": value, "field": field_name}, phone_id, field_name

    def _status_item(self, spec: Any) -> JsonObject:
        if (
            not isinstance(spec, Mapping)
            or not isinstance(spec.get("id"), str)
            or not isinstance(spec.get("status"), str)
        ):
            raise ValueError("a status needs a string id (the wamid) and a string status")
        wamid: str = spec["id"]
        recipient = spec.get("recipient_id") or self._recipient_of(wamid)
        if recipient is None:
            raise ValueError(f"no send of {wamid} is known: give recipient_id")
        item: JsonObject = {
            "id": wamid,
            "status": spec["status"],
            "timestamp": str(spec.get("timestamp") or int(time.time())),
            "recipient_id": recipient,
        }
        extra = {name: value for name, value in spec.items() if name not in item and name != "error_code"}
        if "error_code" in spec and "errors" not in spec:
            extra["errors"] = [spec["error_code"]]
        if "errors" in extra:
            extra["errors"] = [async_error(error) if isinstance(error, int) else error for error in extra["errors"]]
        item.update(json.loads(json.dumps(extra)))
        return item

    def _message_item(self, spec: Any) -> JsonObject:
        if not isinstance(spec, Mapping) or not isinstance(spec.get("from"), str):
            raise ValueError("a message needs a string from")
        item: JsonObject = {
            "from": spec["from"],
            "id": spec.get("id") or "wamid." + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(28)),
            "timestamp": str(spec.get("timestamp") or int(time.time())),
        }
        rest = {name: value for name, value in spec.items() if name not in item}
        if isinstance(rest.get("text"), str):
            rest = {"type": "text", **rest, "text": {"body": rest["text"]}}
        if not isinstance(rest.get("type"), str):
            raise ValueError("a message needs a type (or text)")
        item.update(json.loads(json.dumps(rest)))
        return item

    def _recipient_of(self, wamid: str) -> str | None:
        with self._lock:
            sent = next((message for message in self.sent_messages if message["wamid"] == wamid), None)
        return _digits(sent["to"]) if sent is not None else None

    def _deliver(
        self,
        payload: JsonObject,
        destination: _Destination,
        origin: str,
        *,
        sign: bool = True,
        signing_secret: str | None = None,
        cancelled: threading.Event | None = None,
    ) -> JsonObject:
        raw = meta_json(payload)
        headers = {"Content-Type": "application/json", "User-Agent": WEBHOOK_USER_AGENT}
        if sign:
            secret = (signing_secret or DEMO_APP_SECRET).encode()
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(secret, raw, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
        record: JsonObject = {
            "origin": origin,
            "delivered": False,
            "url": destination.url,
            "level": destination.level,
            "reason": destination.reason,
            "status": None,
            "response": None,
            "error": None,
            "payload": payload,
            "raw": raw.decode(),
            "headers": headers,
            "at": time.time(),
        }
        if destination.url is not None:
            result = _http("POST", destination.url, headers, raw, self.webhook_timeout_seconds)
            record["status"], record["error"] = result.status, result.error
            record["response"] = _excerpt(result.body) if result.status is not None else None
            record["delivered"] = result.status == 200
        with self._lock:
            self._seq += 1
            record = {"seq": self._seq, **record}
            if cancelled is None or not cancelled.is_set():
                self.webhook_deliveries.append(record)
        return _copy(record)

    def _after_send(
        self, phone_id: str, recipient: str, wamid: str, message_type: str, pricing: JsonObject, opaque: str | None
    ) -> None:
        with self._lock:
            if not self._auto_statuses:
                return
            cancelled, delay = self._cancelled, self.status_delay_seconds
        plan: list[tuple[str, int | None]] = [("sent", None), ("delivered", None)]
        if recipient == UNDELIVERABLE_RECIPIENT:
            plan = [("failed", 131026)]
        elif recipient == OUTSIDE_WINDOW_RECIPIENT and message_type != "template":
            plan = [("failed", 131047)]
        with self._idle:
            self._in_flight += 1
        job = partial(self._post_statuses, phone_id, recipient, wamid, plan, pricing, opaque, cancelled, delay)
        threading.Thread(target=job, name="graph-simulator-statuses", daemon=True).start()

    def _post_statuses(
        self,
        phone_id: str,
        recipient: str,
        wamid: str,
        plan: Sequence[tuple[str, int | None]],
        pricing: JsonObject,
        opaque: str | None,
        cancelled: threading.Event,
        delay: float,
    ) -> None:
        try:
            for status, error_code in plan:
                if cancelled.wait(delay):
                    return
                destination = self._destination(phone_id, None, "messages")
                item: JsonObject = {"id": wamid, "status": status, "recipient_id": recipient}
                if opaque is not None:
                    item["biz_opaque_callback_data"] = opaque
                if status == "sent" and _version_number(destination.version) < 24:
                    item["conversation"] = {
                        "id": secrets.token_hex(16),
                        "expiration_timestamp": str(int(time.time()) + _DAY),
                        "origin": {"type": pricing["category"]},
                    }
                if error_code is None:
                    item["pricing"] = dict(pricing)
                else:
                    item["errors"] = [async_error(error_code)]
                payload, _, _, _ = self._payload([{"changes": [{"phone_number_id": phone_id, "statuses": [item]}]}])
                self._deliver(payload, destination, "auto", cancelled=cancelled)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    # ------------------------------------------------------------------------------ control routes

    def _control(self, request: _Request) -> JsonObject:
        try:
            return self._control_action(request)
        except KeyError as error:
            raise _GraphError(404, 100, f"The simulator has no object {error}") from None
        except (ValueError, TypeError) as error:
            raise _invalid_parameter(str(error)) from None

    def _control_action(self, request: _Request) -> JsonObject:
        body = request.body
        match request.method, request.segments[1:]:
            case "POST", ("fail_next",):
                self._control_fail_next(body)
            case "POST", ("phone", phone_id):
                self._control_phone(phone_id, body)
            case "POST", ("health",):
                self._control_health(body)
            case "POST", ("app_subscription",):
                self._control_app_subscription(body)
            case "DELETE", ("app_subscription",):
                self.clear_app_subscription()
            case "POST", ("override", object_id):
                url = body.get("url")
                if url is not None and not isinstance(url, str):
                    raise ValueError("url must be a string or null")
                self.set_override(object_id, url)
            case "POST", ("templates",):
                return {"success": True, "template": self._control_template(body)}
            case "POST", ("webhooks",):
                unknown = sorted(set(body) - _WEBHOOK_CONTROL_KEYS)
                if unknown:
                    raise ValueError(f"unknown keys {unknown}; use {sorted(_WEBHOOK_CONTROL_KEYS)}")
                if not isinstance(body.get("sign", True), bool):
                    raise ValueError("sign must be true or false")
                return self.post_webhook(**body)
            case "GET", ("webhooks",):
                with self._lock:
                    return {"data": json.loads(json.dumps(self.webhook_deliveries))}
            case "DELETE", ("webhooks",):
                with self._lock:
                    self.webhook_deliveries.clear()
            case "POST", ("auto_statuses",):
                enabled, delay = body.get("enabled"), body.get("delay_seconds")
                if not isinstance(enabled, bool) or not (delay is None or isinstance(delay, int | float)):
                    raise ValueError('Send {"enabled": true|false, "delay_seconds"?: number}')
                self.set_auto_statuses(enabled, None if delay is None else float(delay))
            case "GET", ("handshakes",):
                with self._lock:
                    return {"data": json.loads(json.dumps(self.handshakes))}
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

    def _control_health(self, body: Mapping[str, Any]) -> None:
        entity_type, state, entity_id = body.get("entity_type"), body.get("can_send_message"), body.get("id")
        info, errors = body.get("additional_info"), body.get("errors")
        if not isinstance(entity_type, str) or not isinstance(state, str):
            raise ValueError('Send {"entity_type", "can_send_message", "id"?, "additional_info"?, "errors"?}')
        if entity_id is not None and not isinstance(entity_id, str):
            raise ValueError("id must be a string")
        if (info is not None and not isinstance(info, list)) or (errors is not None and not isinstance(errors, list)):
            raise ValueError("additional_info and errors must be lists")
        self.set_health(entity_type, state, entity_id, additional_info=info, errors=errors)

    def _control_app_subscription(self, body: Mapping[str, Any]) -> None:
        callback_url = body.get("callback_url", DEMO_APP_CALLBACK_URL)
        verify_token = body.get("verify_token", DEMO_APP_VERIFY_TOKEN)
        version = body.get("version", GRAPH_WEBHOOK_VERSION)
        if not all(isinstance(value, str) for value in (callback_url, verify_token, version)):
            raise ValueError("callback_url, verify_token and version must be strings")
        fields = _field_names(body.get("fields", ["messages"]))
        self.set_app_subscription(callback_url, fields, verify_token=verify_token, version=version)

    def _control_template(self, body: Mapping[str, Any]) -> JsonObject:
        values = {name: body.get(name, default) for name, default in _TEMPLATE_DEFAULTS.items()}
        if not all(isinstance(value, str) for value in values.values()):
            raise ValueError('Send {"name", "language", "waba_id"?, "category"?, "status"?} as strings')
        return self.add_template(
            values["name"],
            values["language"],
            waba_id=values["waba_id"],
            category=values["category"],
            status=values["status"],
        )


_TEMPLATE_DEFAULTS: Mapping[str, str | None] = {
    "name": None,
    "language": None,
    "waba_id": DEMO_WABA_ID,
    "category": "UTILITY",
    "status": "APPROVED",
}


def _blocking_error(item: Any) -> JsonObject:
    if (
        not isinstance(item, Mapping)
        or not isinstance(item.get("error_code"), int)
        or not isinstance(item.get("error_description"), str)
        or not isinstance(item.get("possible_solution"), str)
    ):
        raise ValueError("each error needs error_code (int), error_description and possible_solution (strings)")
    return {name: item[name] for name in ("error_code", "error_description", "possible_solution")}


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
    parser.add_argument("--no-auto-statuses", action="store_true", help="post no statuses after accepted sends")
    parser.add_argument("--status-delay", type=float, default=0.05, help="seconds between auto statuses")
    parser.add_argument("--handshake-timeout", type=float, default=HANDSHAKE_TIMEOUT_SECONDS)
    args = parser.parse_args(argv)
    simulator = GraphSimulator(
        args.host,
        args.port,
        args.latency,
        auto_statuses=not args.no_auto_statuses,
        status_delay_seconds=args.status_delay,
        handshake_timeout_seconds=args.handshake_timeout,
    ).start()
    print(simulator.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
