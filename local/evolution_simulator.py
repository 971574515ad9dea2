r"""SIMULATOR of Evolution API 2.3.7: a TEST DOUBLE, not Evolution API itself.

It imitates the HTTP contract of Evolution API v2 (release 2.3.7) for instances of integration
``WHATSAPP-BUSINESS`` as written down in ``/work/shared/reference/evolution-api-v2.md`` (sections 1 and 3-11),
so tests, benchmarks and the local stack can provision instances and receive Evolution's webhooks without a
real Evolution server, PostgreSQL, Redis or Meta. Every response carries ``X-Simulator: evolution-api`` and
``Server: EvolutionSimulator/1.0 (simulator of Evolution API 2.3.7)``. State lives in memory only.

Routes (auth header ``apikey``: the global key on every route; an instance's token, which for
``WHATSAPP-BUSINESS`` is the Meta access token given at create, on routes with ``/{instanceName}`` for that
instance only; guard order instance-exists 404 -> name-in-use 403 -> apikey 401):

* ``GET /`` (no auth): version info, ``"version": "2.3.7"``.
* ``POST /instance/create`` (global key only) -> 201.
* ``GET /instance/fetchInstances[?instanceName=&instanceId=&number=]`` (global key or an instance token).
* ``GET /instance/connectionState/{name}``, ``GET /instance/connect/{name}``, ``POST /instance/restart/{name}``.
* ``DELETE /instance/logout/{name}``, ``DELETE /instance/delete/{name}``.
* ``POST /webhook/set/{name}`` (nested ``{"webhook": {...}}`` body) -> 201, ``GET /webhook/find/{name}``.
* ``POST /message/sendText/{name}``, ``POST /message/sendTemplate/{name}`` -> 201 (also for Graph errors).
* ``POST /chat/findStatusMessage/{name}`` with ``{"where": {"id": "<wamid>"}}``.
* ``GET|POST /webhook/meta`` (no auth), as 2.3.7 does it (reference section 9):

  - GET: 200 with ``hub.challenge`` as text when ``hub.verify_token`` is the one global token
    (``WA_BUSINESS_TOKEN_WEBHOOK``, default ``evolution``, constructor ``meta_verify_token``), else 200
    ``Error, wrong validation token``; ``hub.mode`` is not checked.
  - POST: no signature check; answers 200 ``{"status": "success"}`` at once and processes afterwards (in a thread;
    ``wait_for_deliveries`` waits for it too). Only ``object == whatsapp_business_account``; a first change of field
    ``message_template_status_update`` is dropped (no templates here). For every entry, the instance is the first
    whose ``number`` equals that entry's ``changes[0].value.metadata.phone_number_id``, and that instance reads only
    ``entry[0].changes[0].value`` of the whole payload: other changes and entries are lost, and an entry routed to
    another instance hands it the first entry's value. Then ``contacts[0].profile.name`` is read (a contact without
    ``profile`` crashes the handler: nothing is emitted), ``messages[0]`` only becomes ``messages.upsert`` +
    ``contacts.upsert|update`` (text, button, interactive and media), and every item of ``statuses[]`` becomes
    ``messages.update`` (upper-cased) when its wamid is known to that instance.
* Anything else: 404 ``["Cannot <METHOD> <url>"]``.

Errors use Evolution's envelope ``{"status": N, "error": "<Reason Phrase>", "response": {"message": ...}}``:
an array of strings for 400/403/404, the bare string ``"Unauthorized"`` for 401, a nested array ``[[...]]``
for JSON-schema failures and a string for 500.

``sendText``/``sendTemplate`` call ``POST {graph_url}/v25.0/{number}/messages`` with ``Authorization: Bearer
<instance token>`` when ``graph_url`` is given: a Graph ``error`` object comes back as HTTP 201 with that object
as the body, a network failure or an answer without ``error`` and without ``messages[0].id`` as 400
``TypeError: Cannot read properties of undefined (reading 'message')``. Without ``graph_url`` the simulator
makes up the wamid itself.

Webhooks go to the instance's configured URL only (no global webhook): envelope ``{event, instance, data,
destination, date_time, server_url, apikey}``, headers ``Content-Type``, ``Accept``, ``User-Agent: axios/1.7.9``
plus every custom header (a ``jwt_key`` header becomes ``Authorization: Bearer <HS256 JWT>``), one thread per
event (concurrent, unordered), retries with exponential backoff and jitter, 400/401/403/404/422 never retried.
``date_time`` is UTC (the real server writes local time with a ``Z``).

Simulator-only test controls (Evolution has nothing like them), in process and over HTTP; control requests
are neither recorded, delayed nor failed:

* ``fail_next(path_prefix, status, count=1, body=None)`` / ``POST /__simulator__/fail_next`` ``{"path_prefix",
  "status", "count"?, "body"?}``: answer the next matching API requests with that status without doing anything.
* ``delay_next(path_prefix, seconds, count=1)`` / ``POST /__simulator__/delay_next``: sleep first, then do the
  operation (a client that timed out still finds the operation done).
* ``lose_next_response(path_prefix, count=1)`` / ``POST /__simulator__/lose_next_response``: do the operation,
  then close the connection without answering.
* ``delete_behind_our_back(name)`` / ``POST /__simulator__/delete/{name}``: like ``DELETE /instance/delete``.
* ``set_webhook_behind_our_back(name, webhook)`` / ``POST /__simulator__/webhook/{name}`` (the inner webhook object).
* ``emit_status(name, wamid, status)`` / ``POST /__simulator__/status`` ``{"instance", "wamid", "status"}``.
* ``emit_inbound(name, from_number, text)`` / ``POST /__simulator__/inbound`` ``{"instance", "from_number", "text",
  "push_name"?}``.
* ``simulate_restart()`` / ``POST /__simulator__/restart``: an Evolution restart (states back to ``open``,
  pending webhook retries lost); ``reset()`` / ``POST /__simulator__/reset``: forget everything.
* ``GET /__simulator__/deliveries``, ``GET /__simulator__/instances``, ``GET|DELETE /__simulator__/calls``.

Only ``WHATSAPP-BUSINESS`` is simulated: ``WHATSAPP-BAILEYS`` and ``EVOLUTION`` are rejected with a 400 that
names the simulator. Run it standalone with ``python -m local.evolution_simulator --port 8092 --api-key K``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import hashlib
import hmac
import http.client
import json
import random
import re
import secrets
import socket
import string
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.serving import serve_in_thread

JsonObject = dict[str, Any]

EVOLUTION_VERSION = "2.3.7"
CLIENT_NAME = "evolution_exchange"
WA_BUSINESS_TOKEN_WEBHOOK = "evolution"
GRAPH_VERSION = "v25.0"
WEBHOOK_USER_AGENT = "axios/1.7.9"
BUSINESS = "WHATSAPP-BUSINESS"
INTEGRATIONS = ("WHATSAPP-BAILEYS", BUSINESS, "EVOLUTION")
SIMULATOR_HEADER = ("X-Simulator", "evolution-api")
SERVER_HEADER = "EvolutionSimulator/1.0 (simulator of Evolution API 2.3.7)"

EVENTS: tuple[str, ...] = (
    "APPLICATION_STARTUP",
    "QRCODE_UPDATED",
    "MESSAGES_SET",
    "MESSAGES_UPSERT",
    "MESSAGES_EDITED",
    "MESSAGES_UPDATE",
    "MESSAGES_DELETE",
    "SEND_MESSAGE",
    "SEND_MESSAGE_UPDATE",
    "CONTACTS_SET",
    "CONTACTS_UPSERT",
    "CONTACTS_UPDATE",
    "PRESENCE_UPDATE",
    "CHATS_SET",
    "CHATS_UPSERT",
    "CHATS_UPDATE",
    "CHATS_DELETE",
    "GROUPS_UPSERT",
    "GROUP_UPDATE",
    "GROUP_PARTICIPANTS_UPDATE",
    "CONNECTION_UPDATE",
    "LABELS_EDIT",
    "LABELS_ASSOCIATION",
    "CALL",
    "TYPEBOT_START",
    "TYPEBOT_CHANGE_STATUS",
    "REMOVE_INSTANCE",
    "LOGOUT_INSTANCE",
    "INSTANCE_CREATE",
    "INSTANCE_DELETE",
    "STATUS_INSTANCE",
)
NON_RETRYABLE_STATUSES = frozenset({400, 401, 403, 404, 422})

_CONTROL_PREFIX = "__simulator__"
_JITTER_FACTOR = 0.2
_GRAPH_TIMEOUT_SECONDS = 30.0
_CONNECT_WAIT_SECONDS = 2.0
_NUMBER_PATTERN = r"^\d+[\.@\w-]+"
_LENGTH_ERROR = "Cannot read properties of undefined (reading 'length')"
_GRAPH_TYPE_ERROR = "TypeError: Cannot read properties of undefined (reading 'message')"
_INJECTED = "Failure injected by the Evolution API simulator"
_ALNUM = string.ascii_lowercase + string.digits
_WAMID_ALPHABET = string.ascii_uppercase + string.digits
_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_WEBHOOK_ECHO = (
    ("url", "webhookUrl"),
    ("headers", "webhookHeaders"),
    ("byEvents", "webhookByEvents"),
    ("base64", "webhookBase64"),
)
_WEBHOOK_COLUMNS = (("headers", "headers"), ("byEvents", "webhookByEvents"), ("base64", "webhookBase64"))
_SETTING_BOOLEANS = ("rejectCall", "groupsIgnore", "alwaysOnline", "readMessages", "readStatus", "syncFullHistory")


# --------------------------------------------------------------------------------------------------- errors


class _ApiError(Exception):
    """An error Evolution renders with its envelope."""

    def __init__(self, status: int, message: Any) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message

    def envelope(self) -> JsonObject:
        return {"status": self.status, "error": _reason(self.status), "response": {"message": self.message}}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _bad_request(message: str) -> _ApiError:
    return _ApiError(400, [message])


def _schema_error(messages: list[str]) -> _ApiError:
    return _ApiError(400, [messages])


def _unauthorized() -> _ApiError:
    return _ApiError(401, "Unauthorized")


def _default_failure_body(status: int) -> JsonObject:
    if status == 401:
        return _unauthorized().envelope()
    return _ApiError(status, _INJECTED if status >= 500 else [_INJECTED]).envelope()


# ------------------------------------------------------------------------------------------ JSON "schemas"


@dataclass(frozen=True)
class _Prop:
    kind: str
    pattern: str | None = None
    enum_items: tuple[str, ...] | None = None
    description: str | None = None


_TYPE_CHECKS: Mapping[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
}

_NUMBER_DEFINITION = _Prop("string", description="Invalid format")
_CREATE_SCHEMA: Mapping[str, _Prop] = {
    "instanceName": _Prop("string"),
    "token": _Prop("string"),
    "number": _Prop("string", pattern=_NUMBER_PATTERN),
    "businessId": _Prop("string"),
    "qrcode": _Prop("boolean"),
    **{name: _Prop("boolean") for name in _SETTING_BOOLEANS},
    "msgCall": _Prop("string"),
    "wavoipToken": _Prop("string"),
    "webhookUrl": _Prop("string"),
    "webhookByEvents": _Prop("boolean"),
    "webhookBase64": _Prop("boolean"),
    "webhookEvents": _Prop("array", enum_items=EVENTS),
}
_WEBHOOK_SCHEMA: Mapping[str, _Prop] = {
    "enabled": _Prop("boolean"),
    "url": _Prop("string"),
    "headers": _Prop("object"),
    "byEvents": _Prop("boolean"),
    "base64": _Prop("boolean"),
    "events": _Prop("array", enum_items=EVENTS),
}
_TEXT_SCHEMA: Mapping[str, _Prop] = {
    "number": _NUMBER_DEFINITION,
    "text": _Prop("string"),
    "delay": _Prop("integer", description="Enter a value in milliseconds"),
    "quoted": _Prop("object"),
    "linkPreview": _Prop("boolean"),
    "mentionsEveryOne": _Prop("boolean"),
}
_TEMPLATE_SCHEMA: Mapping[str, _Prop] = {
    "number": _NUMBER_DEFINITION,
    "name": _Prop("string"),
    "language": _Prop("string"),
    "components": _Prop("array"),
    "webhookUrl": _Prop("string"),
}


def _validate(value: Any, schema: Mapping[str, _Prop], required: Sequence[str], path: str = "") -> list[str]:
    """Mimic the ``jsonschema`` npm package as Evolution uses it: stacks without the leading ``instance.``."""
    where = path or "instance"
    if not isinstance(value, dict):
        return [f"{where} is not of a type(s) object"]
    errors: list[str] = []
    for name, prop in schema.items():
        if name in value:
            errors.extend(_validate_prop(value[name], prop, f"{path}.{name}" if path else name))
    errors.extend(f'{where} requires property "{name}"' for name in required if name not in value)
    return errors


def _validate_prop(value: Any, prop: _Prop, path: str) -> list[str]:
    if not _TYPE_CHECKS[prop.kind](value):
        return [prop.description or f"{path} is not of a type(s) {prop.kind}"]
    errors: list[str] = []
    if prop.pattern is not None and not re.match(prop.pattern, value, re.ASCII):
        errors.append(prop.description or f"{path} does not match pattern {json.dumps(prop.pattern)}")
    if prop.enum_items is not None:
        allowed = ",".join(prop.enum_items)
        errors.extend(
            f"{path}[{index}] is not one of enum values: {allowed}"
            for index, item in enumerate(value)
            if item not in prop.enum_items
        )
    return errors


def _validate_webhook_body(body: Any) -> list[str]:
    errors = _validate(body, {}, ["webhook"])
    if errors or not isinstance(body, dict):
        return errors
    return _validate(body["webhook"], _WEBHOOK_SCHEMA, ["enabled", "url"], path="webhook")


# --------------------------------------------------------------------------------------------------- helpers


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cuid() -> str:
    return "c" + "".join(secrets.choice(_ALNUM) for _ in range(24))


def _new_wamid() -> str:
    return "wamid." + "".join(secrets.choice(_WAMID_ALPHABET) for _ in range(40))


def _js_truthy(value: Any) -> bool:
    return value is not None and value is not False and value != "" and not (type(value) in (int, float) and value == 0)


def _format_mx_or_ar(number: str) -> str:
    if number[:2] in ("52", "54") and len(number) == 13:
        return number[:2] + number[3:]
    return number


def _format_br(number: str) -> str:
    match = re.fullmatch(r"(\d{2})(\d{2})\d(\d{8})", number)
    if match is None or match.group(1) != "55":
        return number
    if int(match.group(3)[0]) < 7 or int(match.group(2)) < 31:
        return number
    return match.group(1) + match.group(2) + match.group(3)


def create_jid(number: str) -> str:
    """Evolution's ``createJid``: the ``remoteJid`` a number becomes (BR/MX/AR mobile normalisation included)."""
    number = re.sub(r":\d+", "", number, count=1)
    if any(suffix in number for suffix in ("@g.us", "@s.whatsapp.net", "@lid", "@broadcast")):
        return number
    number = re.sub(r"\s", "", number).replace("+", "").replace("(", "").replace(")", "")
    number = number.split(":")[0].split("@")[0]
    if "-" in number and len(number) >= 24:
        return re.sub(r"[^\d-]", "", number) + "@g.us"
    number = re.sub(r"\D", "", number)
    if len(number) >= 18:
        return f"{number}@g.us"
    return f"{_format_br(_format_mx_or_ar(number))}@s.whatsapp.net"


def retry_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): ``min(base*2^(n-1), cap)`` ±20 %, >= base."""
    delay: float = min(base * 2.0 ** (attempt - 1), cap)
    jitter = delay * _JITTER_FACTOR * ((rng or random).random() * 2 - 1)
    return max(base, delay + jitter)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _webhook_jwt(key: str) -> str:
    now = int(time.time())
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook"}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class _HttpResult:
    status: int | None
    error: str | None
    body: bytes = b""


def _post_json(url: str, headers: Mapping[str, str], payload: bytes, timeout: float) -> _HttpResult:
    split = urlsplit(url)
    host = split.hostname or ""
    connection_class = http.client.HTTPSConnection if split.scheme == "https" else http.client.HTTPConnection
    target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    try:
        connection = connection_class(host, split.port, timeout=timeout)
    except ValueError as error:
        return _HttpResult(None, f"Invalid URL: {error}")
    try:
        connection.request("POST", target, body=payload, headers=dict(headers))
        response = connection.getresponse()
        return _HttpResult(response.status, None, response.read())
    except TimeoutError:
        return _HttpResult(None, f"timeout of {round(timeout * 1000)}ms exceeded")
    except ConnectionRefusedError:
        return _HttpResult(None, f"connect ECONNREFUSED {host}:{split.port or connection.port}")
    except (OSError, http.client.HTTPException) as error:
        return _HttpResult(None, f"{type(error).__name__}: {error}")
    finally:
        connection.close()


# ------------------------------------------------------------------------------------------------- state


@dataclass
class _Message:
    message_id: str
    wamid: str
    remote_jid: str
    from_me: bool
    webhook_url: str | None = None
    updates: list[JsonObject] = field(default_factory=list)


@dataclass
class _Instance:
    id: str
    name: str
    token: str
    number: str | None
    business_id: str | None
    integration: str
    settings: JsonObject
    setting_id: str
    created_at: str
    state: str = "open"
    webhook: JsonObject | None = None
    messages: dict[str, _Message] = field(default_factory=dict)
    contacts: set[str] = field(default_factory=set)

    def connection_state(self) -> JsonObject:
        return {"instance": {"instanceName": self.name, "state": self.state}}

    def row(self) -> JsonObject:
        setting = {
            "id": self.setting_id,
            **self.settings,
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "instanceId": self.id,
        }
        return {
            "id": self.id,
            "name": self.name,
            "connectionStatus": "open",
            "ownerJid": None,
            "profileName": None,
            "profilePicUrl": None,
            "integration": self.integration,
            "number": self.number,
            "businessId": self.business_id,
            "token": self.token,
            "clientName": CLIENT_NAME,
            "disconnectionReasonCode": None,
            "disconnectionObject": None,
            "disconnectionAt": None,
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "Chatwoot": None,
            "Proxy": None,
            "Rabbitmq": None,
            "Nats": None,
            "Sqs": None,
            "Websocket": None,
            "Setting": setting,
            "_count": {"Message": len(self.messages), "Contact": len(self.contacts), "Chat": 0},
        }

    def view(self) -> JsonObject:
        return {
            "id": self.id,
            "name": self.name,
            "number": self.number,
            "businessId": self.business_id,
            "token": self.token,
            "integration": self.integration,
            "connectionStatus": "open",
            "state": self.state,
            "webhook": copy.deepcopy(self.webhook),
            "createdAt": self.created_at,
            "wamids": list(self.messages),
        }


@dataclass
class _Fault:
    prefix: str
    remaining: int
    status: int = 0
    body: Any = None
    seconds: float = 0.0


@dataclass(frozen=True)
class _Job:
    seq: int
    kind: str
    event: str
    instance: str
    url: str
    headers: Mapping[str, str]
    body: Any
    retry: bool
    cancelled: threading.Event


# ------------------------------------------------------------------------------------------ HTTP plumbing


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    path: str
    query: Mapping[str, str]
    raw_body: bytes
    content_type: str
    apikey: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(unquote(part) for part in self.path.split("/") if part)

    def json_body(self) -> Any:
        if "json" not in self.content_type.lower() or not self.raw_body.strip():
            return {}
        try:
            return json.loads(self.raw_body)
        except ValueError as error:
            raise _ApiError(400, f"Unexpected token in JSON: {error}") from None


@dataclass
class _Response:
    status: int
    body: Any = None
    text: str | None = None
    lose: bool = False


_PlainHandler = Callable[[_Request, Any], _Response]
_InstanceHandler = Callable[[_Request, Any, _Instance], _Response]


@dataclass(frozen=True)
class _Route:
    guard: str
    plain: _PlainHandler | None = None
    per_instance: _InstanceHandler | None = None
    instance_name: str = ""


# --------------------------------------------------------------------------------------------- simulator


class EvolutionSimulator:
    """Simulator of Evolution API 2.3.7 (test double) serving on a loopback HTTP port in a daemon thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "local-evolution-key",
        *,
        retry_base_seconds: float = 5.0,
        retry_max_seconds: float = 300.0,
        max_attempts: int = 10,
        webhook_timeout_seconds: float = 30.0,
        expose_token_in_webhooks: bool = True,
        graph_url: str | None = None,
        meta_verify_token: str = WA_BUSINESS_TOKEN_WEBHOOK,
        latency_seconds: float = 0.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.api_key = api_key
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.max_attempts = max_attempts
        self.webhook_timeout_seconds = webhook_timeout_seconds
        self.expose_token_in_webhooks = expose_token_in_webhooks
        self.meta_verify_token = meta_verify_token
        self.graph_url = graph_url.rstrip("/") if graph_url else None
        self.latency_seconds = latency_seconds
        self.calls: list[tuple[str, str]] = []
        self.deliveries: list[JsonObject] = []
        self._host = host
        self._lock = threading.RLock()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._seq = 0
        self._cancelled = threading.Event()
        self._rng = random.Random()
        self._instances: dict[str, _Instance] = {}
        self._failures: list[_Fault] = []
        self._delays: list[_Fault] = []
        self._losses: list[_Fault] = []
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self) -> EvolutionSimulator:
        if self._thread is not None:
            raise RuntimeError("the Evolution API simulator is already running")
        self._thread = serve_in_thread(self._server, "evolution-simulator")
        return self

    def stop(self) -> None:
        self._cancelled.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> EvolutionSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._server.server_port}"

    @property
    def instances(self) -> Mapping[str, JsonObject]:
        """Read-only snapshot: name -> id, name, number, businessId, token, integration, connectionStatus (the DB
        value, always ``open``), state (in memory: ``open``/``close``), webhook (the stored row or None), wamids."""
        with self._lock:
            return MappingProxyType({name: instance.view() for name, instance in self._instances.items()})

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def reset(self) -> None:
        """Simulator-only: forget instances, calls, deliveries and queued faults; cancel pending webhook retries."""
        with self._lock:
            self._cancel_pending_deliveries()
            self.calls.clear()
            self.deliveries.clear()
            self._instances.clear()
            self._failures.clear()
            self._delays.clear()
            self._losses.clear()

    def simulate_restart(self) -> None:
        """Simulator-only: what an Evolution restart does: every state back to ``open``, pending retries lost."""
        with self._lock:
            self._cancel_pending_deliveries()
            for instance in self._instances.values():
                instance.state = "open"

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Simulator-only: wait until no webhook delivery (including retries) and no Meta webhook being processed is
        in flight; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def _cancel_pending_deliveries(self) -> None:
        self._cancelled.set()
        self._cancelled = threading.Event()

    # ------------------------------------------------------------------------------ fault injection

    def fail_next(self, path_prefix: str, status: int, count: int = 1, body: Any = None) -> None:
        """Simulator-only: answer the next ``count`` API requests whose path starts with ``path_prefix`` with
        ``status`` and ``body`` (default: Evolution's envelope) without performing them."""
        if count < 0 or not 100 <= status <= 599:
            raise ValueError("count must not be negative and status must be an HTTP status")
        with self._lock:
            self._failures.append(_Fault(path_prefix, count, status=status, body=copy.deepcopy(body)))

    def delay_next(self, path_prefix: str, seconds: float, count: int = 1) -> None:
        """Simulator-only: sleep ``seconds`` before handling the next ``count`` matching API requests."""
        if count < 0 or seconds < 0:
            raise ValueError("count and seconds must not be negative")
        with self._lock:
            self._delays.append(_Fault(path_prefix, count, seconds=seconds))

    def lose_next_response(self, path_prefix: str, count: int = 1) -> None:
        """Simulator-only: perform the next ``count`` matching API requests, then close the socket unanswered."""
        if count < 0:
            raise ValueError("count must not be negative")
        with self._lock:
            self._losses.append(_Fault(path_prefix, count))

    def clear_faults(self) -> None:
        """Simulator-only: forget every queued failure, delay and lost response (Evolution is healthy again)."""
        with self._lock:
            self._failures.clear()
            self._delays.clear()
            self._losses.clear()

    def _take(self, faults: list[_Fault], path: str) -> _Fault | None:
        with self._lock:
            for fault in faults:
                if fault.remaining > 0 and path.startswith(fault.prefix):
                    fault.remaining -= 1
                    return fault
        return None

    # ----------------------------------------------------------------------------- world changes

    def delete_behind_our_back(self, instance_name: str) -> None:
        """Simulator-only: delete the instance like ``DELETE /instance/delete`` (events included)."""
        self._delete(self._require(instance_name))

    def set_webhook_behind_our_back(self, instance_name: str, webhook: Mapping[str, Any]) -> JsonObject:
        """Simulator-only: ``POST /webhook/set`` semantics (validation included) with ``webhook`` as the inner
        object; raises ValueError where the API would answer 400/500. Returns the stored row."""
        instance = self._require(instance_name)
        errors = _validate_webhook_body({"webhook": dict(webhook)})
        if errors:
            raise ValueError(errors)
        try:
            return self._store_webhook(instance, dict(webhook))
        except _ApiError as error:
            raise ValueError(error.message) from None

    def emit_status(self, instance_name: str, wamid: str, status: str) -> bool:
        """Simulator-only: as if Meta posted ``statuses[{id: wamid, status}]``. Emits ``messages.update`` with the
        status upper-cased, only for a wamid stored for this instance (else returns False, like the real one)."""
        instance = self._require(instance_name)
        with self._lock:
            message = instance.messages.get(wamid)
            if message is None:
                return False
            data: JsonObject = {
                "messageId": message.message_id,
                "keyId": wamid,
                "remoteJid": message.remote_jid,
                "fromMe": False,
                "participant": message.remote_jid,
                "status": status.upper(),
                "instanceId": instance.id,
            }
            message.updates.append({"id": _cuid(), **data, "pollUpdates": None})
            webhook_url = message.webhook_url
        self._emit(instance, "messages.update", data)
        if webhook_url:
            self._post_message_webhook(instance, webhook_url, data)
        return True

    def emit_inbound(
        self,
        instance_name: str,
        from_number: str,
        text: str,
        *,
        push_name: str = "Simulated Contact",
        wamid: str | None = None,
    ) -> str:
        """Simulator-only: as if Meta posted an inbound text. Emits ``messages.upsert`` then ``contacts.upsert``
        (first message of that contact) or ``contacts.update``. Returns the inbound wamid."""
        instance = self._require(instance_name)
        message = {"conversation": text}
        return self._inbound(instance, from_number, push_name, wamid or _new_wamid(), message, "conversation")

    def _require(self, instance_name: str) -> _Instance:
        with self._lock:
            instance = self._instances.get(instance_name)
        if instance is None:
            raise KeyError(instance_name)
        return instance

    # ------------------------------------------------------------------------------------ dispatch

    def _handle(self, request: _Request) -> _Response:
        if request.segments[:1] == (_CONTROL_PREFIX,):
            return self._answer(self._control, request)
        with self._lock:
            self.calls.append((request.method, request.path))
            reset = self._cancelled  # set by reset(): a request still waiting then belongs to a forgotten past
        delay = self._take(self._delays, request.path)
        failure = self._take(self._failures, request.path)
        loss = None if failure is not None else self._take(self._losses, request.path)
        pause = self.latency_seconds + (delay.seconds if delay is not None else 0.0)
        if pause > 0 and reset.wait(pause):
            return _Response(503, _default_failure_body(503))  # and changes nothing the reset simulator knows
        if failure is not None:
            body = failure.body if failure.body is not None else _default_failure_body(failure.status)
            return _Response(failure.status, body)
        response = self._answer(self._api, request)
        response.lose = loss is not None
        return response

    @staticmethod
    def _answer(handler: Callable[[_Request], _Response], request: _Request) -> _Response:
        try:
            return handler(request)
        except _ApiError as error:
            return _Response(error.status, error.envelope())

    def _route(self, method: str, segments: tuple[str, ...]) -> _Route | None:
        literal = tuple(part.lower() for part in segments[:-1])
        last = segments[-1] if segments else ""
        match method, literal, last.lower():
            case "GET", (), "":
                return _Route("public", plain=self._root)
            case "POST", ("instance",), "create":
                return _Route("create", plain=self._create)
            case "GET", ("instance",), "fetchinstances":
                return _Route("fetch", plain=self._fetch_instances)
            case "GET" | "POST", ("webhook",), "meta":
                return _Route("public", plain=self._meta_webhook)
            case _:
                pass
        handlers: Mapping[tuple[str, tuple[str, ...]], _InstanceHandler] = {
            ("GET", ("instance", "connectionstate")): self._connection_state,
            ("GET", ("instance", "connect")): self._connect,
            ("POST", ("instance", "restart")): self._restart,
            ("DELETE", ("instance", "logout")): self._logout,
            ("DELETE", ("instance", "delete")): self._delete_route,
            ("POST", ("webhook", "set")): self._webhook_set,
            ("GET", ("webhook", "find")): self._webhook_find,
            ("POST", ("message", "sendtext")): self._send_text,
            ("POST", ("message", "sendtemplate")): self._send_template,
            ("POST", ("chat", "findstatusmessage")): self._find_status_message,
        }
        handler = handlers.get((method, literal))
        if handler is None:
            return None
        return _Route("instance", per_instance=handler, instance_name=last)

    def _api(self, request: _Request) -> _Response:
        body = request.json_body()
        route = self._route(request.method, request.segments)
        if route is None:
            raise _ApiError(404, [f"Cannot {request.method.upper()} {request.url}"])
        key = request.apikey
        with self._lock:
            instances = dict(self._instances)
        if route.guard == "instance" and route.per_instance is not None:
            instance = instances.get(route.instance_name)
            if instance is None:
                raise _ApiError(404, [f'The "{route.instance_name}" instance does not exist'])
            if not key or key not in (self.api_key, instance.token):
                raise _unauthorized()
            return route.per_instance(request, body, instance)
        if route.guard == "create":
            name = body.get("instanceName") if isinstance(body, dict) else None
            if isinstance(name, str) and name in instances:
                raise _ApiError(403, [f'This name "{name}" is already in use.'])
            if not key or key != self.api_key:
                raise _unauthorized()
        elif route.guard == "fetch" and (
            not key or (key != self.api_key and not any(i.token == key for i in instances.values()))
        ):
            raise _unauthorized()
        if route.plain is None:
            raise _ApiError(500, "route without a handler")
        return route.plain(request, body)

    # ------------------------------------------------------------------------------ API handlers

    def _root(self, request: _Request, body: Any) -> _Response:
        return _Response(
            200,
            {
                "status": 200,
                "message": "Welcome to the Evolution API, it is working!",
                "version": EVOLUTION_VERSION,
                "clientName": CLIENT_NAME,
                "manager": f"{self.base_url}/manager",
                "documentation": "https://doc.evolution-api.com",
                "whatsappWebVersion": "2.3000.1023204200",
            },
        )

    def _create(self, request: _Request, body: Any) -> _Response:
        errors = _validate(body, _CREATE_SCHEMA, [])
        if not errors and not (isinstance(body.get("instanceName"), str) and body["instanceName"].strip()):
            errors = ['The "instanceName" cannot be empty']
        if errors:
            raise _schema_error(errors)
        integration = body.get("integration")
        if integration not in INTEGRATIONS:
            raise _bad_request("Invalid integration")
        if integration != BUSINESS:
            raise _bad_request(f"The Evolution API simulator only simulates {BUSINESS} instances, not {integration}")
        if not body.get("token"):
            raise _bad_request("token is required")
        instance = self._insert(body)
        try:
            webhook = body.get("webhook")
            if _js_truthy(webhook):
                given = webhook if isinstance(webhook, dict) else {}
                self._store_webhook(instance, {**given, "enabled": True})
            self._emit(instance, "instance.create", {"instanceName": instance.name, "instanceId": instance.id})
            if not body.get("number"):
                raise _bad_request("number is required")
        except _ApiError as error:
            self._remove(instance)
            message = error.message[0] if isinstance(error.message, list) and error.message else error.message
            raise _bad_request(str(message)) from None
        return _Response(201, self._create_response(instance, body))

    def _insert(self, body: JsonObject) -> _Instance:
        name = body["instanceName"]
        settings: JsonObject = {
            "rejectCall": body.get("rejectCall") is True,
            "msgCall": body.get("msgCall") or "",
            "groupsIgnore": body.get("groupsIgnore") is True,
            "alwaysOnline": body.get("alwaysOnline") is True,
            "readMessages": body.get("readMessages") is True,
            "readStatus": body.get("readStatus") is True,
            "syncFullHistory": body.get("syncFullHistory") is True,
            "wavoipToken": body.get("wavoipToken") or "",
        }
        instance = _Instance(
            id=str(uuid.uuid4()),
            name=name,
            token=body["token"],
            number=body.get("number"),
            business_id=body.get("businessId"),
            integration=body["integration"],
            settings=settings,
            setting_id=_cuid(),
            created_at=_now_iso(),
        )
        with self._lock:
            if name in self._instances:
                raise _ApiError(403, [f'This name "{name}" is already in use.'])
            self._instances[name] = instance
        return instance

    def _create_response(self, instance: _Instance, body: JsonObject) -> JsonObject:
        given_webhook = body.get("webhook")
        webhook: JsonObject = given_webhook if isinstance(given_webhook, dict) else {}
        echo = {target: webhook[source] for source, target in _WEBHOOK_ECHO if source in webhook}

        def sink(name: str) -> JsonObject:
            given = body.get(name)
            return {"enabled": given["enabled"]} if isinstance(given, dict) and "enabled" in given else {}

        return {
            "instance": {
                "instanceName": instance.name,
                "instanceId": instance.id,
                "integration": instance.integration,
                "webhookWaBusiness": f"{self.base_url}/webhook/meta",
                "accessTokenWaBusiness": self.meta_verify_token,
                "status": "open",
            },
            "hash": instance.token,
            "webhook": echo,
            "websocket": sink("websocket"),
            "rabbitmq": sink("rabbitmq"),
            "nats": sink("nats"),
            "sqs": sink("sqs"),
            "settings": dict(instance.settings),
        }

    def _fetch_instances(self, request: _Request, body: Any) -> _Response:
        name = request.query.get("instanceName") or None
        instance_id = request.query.get("instanceId") or None
        number = request.query.get("number") or None
        with self._lock:
            instances = list(self._instances.values())
            if request.apikey != self.api_key:
                mine = [
                    i
                    for i in instances
                    if i.token == request.apikey
                    and (name is None or i.name == name)
                    and (instance_id is None or i.id == instance_id)
                ]
                if not mine:
                    raise _unauthorized()
                return _Response(200, [i.row() for i in mine])
            if instance_id is not None or number is not None:
                wanted = instance_id or number
                found = next(
                    (i for i in instances if (i.id == instance_id if instance_id is not None else i.number == number)),
                    None,
                )
                if found is None:
                    raise _ApiError(404, [f'Instance "{wanted}" not found'])
                return _Response(200, [found.row()])
            if name is not None:
                match = self._instances.get(name)
                if match is None:
                    raise _ApiError(404, [f'Instance "{name}" not found'])
                return _Response(200, [match.row()])
            return _Response(200, [i.row() for i in instances])

    def _connection_state(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        with self._lock:
            return _Response(200, instance.connection_state())

    def _connect(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        if instance.state == "open":
            return _Response(200, instance.connection_state())
        time.sleep(_CONNECT_WAIT_SECONDS)
        return _Response(200, {})

    def _restart(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        if instance.state == "open":
            return _Response(200, instance.connection_state())
        return _Response(200, {"error": True, "message": "[object Object]"})

    def _logout(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        with self._lock:
            if instance.state == "close":
                raise _bad_request(f'The "{instance.name}" instance is not connected')
            instance.state = "close"
        return _Response(200, {"status": "SUCCESS", "error": False, "response": {"message": "Instance logged out"}})

    def _delete_route(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        self._delete(instance)
        return _Response(200, {"status": "SUCCESS", "error": False, "response": {"message": "Instance deleted"}})

    def _delete(self, instance: _Instance) -> None:
        with self._lock:
            instance.state = "close"
        self._emit(instance, "instance.delete", {"instanceName": instance.name, "instanceId": instance.id})
        self._remove(instance)

    def _remove(self, instance: _Instance) -> None:
        self._emit(instance, "remove.instance", None)
        with self._lock:
            if self._instances.get(instance.name) is instance:
                del self._instances[instance.name]

    def _webhook_set(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        errors = _validate_webhook_body(body)
        if errors:
            raise _schema_error(errors)
        return _Response(201, self._store_webhook(instance, body["webhook"]))

    def _store_webhook(self, instance: _Instance, webhook: JsonObject) -> JsonObject:
        """The upsert of Evolution's ``EventController.set``: partial update, ``[]`` = all 31, disabled = ``[]``."""
        enabled = webhook.get("enabled") is True
        if not enabled:
            events: list[Any] = []
        else:
            given = webhook.get("events")
            if not isinstance(given, list):
                raise _ApiError(500, _LENGTH_ERROR)
            events = list(given) if given else list(EVENTS)
        url = webhook.get("url")
        now = _now_iso()
        with self._lock:
            row = instance.webhook
            if row is None:
                if not isinstance(url, str):
                    raise _bad_request("Argument `url` is missing.")
                row = {
                    "id": _cuid(),
                    "url": url,
                    "headers": None,
                    "enabled": enabled,
                    "events": events,
                    "webhookByEvents": False,
                    "webhookBase64": False,
                    "createdAt": now,
                    "updatedAt": now,
                    "instanceId": instance.id,
                }
            else:
                row = {**row, "enabled": enabled, "events": events, "updatedAt": now}
                if isinstance(url, str):
                    row["url"] = url
            for source, target in _WEBHOOK_COLUMNS:
                if webhook.get(source) is not None:
                    row[target] = copy.deepcopy(webhook[source])
            instance.webhook = row
            return copy.deepcopy(row)

    def _webhook_find(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        with self._lock:
            return _Response(200, copy.deepcopy(instance.webhook))

    def _send_text(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        errors = _validate(body, _TEXT_SCHEMA, ["number", "text"])
        if errors:
            raise _schema_error(errors)
        number: str = body["number"]
        graph_body: JsonObject = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "type": "text",
            "to": re.sub(r"\D", "", number),
            "text": {"body": body["text"], "preview_url": body.get("linkPreview") is True},
        }
        quoted = body.get("quoted")
        quoted_id = quoted.get("key", {}).get("id") if isinstance(quoted, dict) else None
        if isinstance(quoted_id, str):
            graph_body["context"] = {"message_id": quoted_id}
        return self._send(instance, number, graph_body, {"conversation": body["text"]}, None)

    def _send_template(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        errors = _validate(body, _TEMPLATE_SCHEMA, ["name", "language"])
        if errors:
            raise _schema_error(errors)
        number = body.get("number")
        if not isinstance(number, str):
            raise _bad_request("TypeError: Cannot read properties of undefined (reading 'replace')")
        template: JsonObject = {"name": body["name"], "language": {"code": body["language"]}}
        if "components" in body:
            template["components"] = body["components"]
        graph_body: JsonObject = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": re.sub(r"\D", "", number),
            "type": "template",
            "template": template,
        }
        message = {"conversation": f"▶️{body['name']}◀️"}
        return self._send(instance, number, graph_body, message, body.get("webhookUrl"))

    def _send(
        self, instance: _Instance, number: str, graph_body: JsonObject, message: JsonObject, webhook_url: str | None
    ) -> _Response:
        wamid: str
        if self.graph_url is None:
            wamid = _new_wamid()
        else:
            outcome = self._call_graph(instance, graph_body)
            if isinstance(outcome, dict):
                return _Response(201, outcome)
            wamid = outcome
        remote_jid = create_jid(number)
        sent: JsonObject = {
            "key": {"fromMe": True, "id": wamid, "remoteJid": remote_jid},
            "message": message,
            "messageType": "conversation",
            "messageTimestamp": int(time.time()),
            "instanceId": instance.id,
            "status": "PENDING",
            "source": "unknown",
        }
        if webhook_url:
            sent["webhookUrl"] = webhook_url
        with self._lock:
            instance.messages[wamid] = _Message(_cuid(), wamid, remote_jid, True, webhook_url or None)
        self._emit(instance, "send.message", sent)
        return _Response(201, sent)

    def _call_graph(self, instance: _Instance, graph_body: JsonObject) -> JsonObject | str:
        """Returns the wamid, or Meta's error object (answered as 201); raises the 400 TypeError otherwise."""
        url = f"{self.graph_url}/{GRAPH_VERSION}/{instance.number}/messages"
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {instance.token}"}
        result = _post_json(url, headers, _compact(graph_body), _GRAPH_TIMEOUT_SECONDS)
        try:
            answer = json.loads(result.body) if result.body else None
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            error = answer.get("error")
            if isinstance(error, dict):
                return error
            messages = answer.get("messages")
            if isinstance(messages, list) and messages and isinstance(messages[0], dict):
                wamid = messages[0].get("id")
                if isinstance(wamid, str) and result.status is not None and 200 <= result.status < 300:
                    return wamid
        raise _bad_request(_GRAPH_TYPE_ERROR)

    def _find_status_message(self, request: _Request, body: Any, instance: _Instance) -> _Response:
        where = body.get("where") if isinstance(body, dict) else None
        where = where if isinstance(where, dict) else {}
        with self._lock:
            rows = [
                copy.deepcopy(update)
                for message in instance.messages.values()
                for update in message.updates
                if where.get("id") in (None, update["keyId"]) and where.get("remoteJid") in (None, update["remoteJid"])
            ]
        return _Response(200, rows)

    # -------------------------------------------------------------------------- Meta -> Evolution

    def _meta_webhook(self, request: _Request, body: Any) -> _Response:
        if request.method == "GET":
            if request.query.get("hub.verify_token") == self.meta_verify_token:
                return _Response(200, text=request.query.get("hub.challenge", ""))
            return _Response(200, text="Error, wrong validation token")
        # Evolution answers first, processes afterwards and only logs its crashes (e.g. status payloads with contacts
        # lacking profile).
        with self._idle:
            self._in_flight += 1
        threading.Thread(target=self._process_meta, args=(body,), name="evolution-meta", daemon=True).start()
        return _Response(200, {"status": "success"})

    def _process_meta(self, payload: Any) -> None:
        try:
            with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
                self._receive_meta(payload)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _receive_meta(self, payload: Any) -> None:
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            return
        entries: list[Any] = payload.get("entry") or []
        first_value: JsonObject = entries[0]["changes"][0]["value"]
        if entries[0]["changes"][0].get("field") == "message_template_status_update":
            return
        for entry in entries:
            phone_number_id = entry["changes"][0]["value"]["metadata"]["phone_number_id"]
            with self._lock:
                instance = next((i for i in self._instances.values() if i.number == phone_number_id), None)
            if instance is not None:
                self._meta_value(instance, first_value)

    def _meta_value(self, instance: _Instance, value: JsonObject) -> None:
        contacts = value.get("contacts")
        push_name = contacts[0]["profile"]["name"] if contacts else ""
        messages = value.get("messages")
        if messages:
            self._meta_message(instance, messages[0], push_name)
            return
        for status in value.get("statuses") or []:
            if isinstance(status, dict) and isinstance(status.get("status"), str):
                self.emit_status(instance.name, status["id"], status["status"])

    def _meta_message(self, instance: _Instance, message: JsonObject, push_name: str) -> None:
        kind = message.get("type")
        content: JsonObject
        if kind == "text":
            content, message_type = {"conversation": message["text"]["body"]}, "conversation"
        elif kind == "button":
            content, message_type = {"conversation": message["button"]["text"]}, "conversation"
        elif kind == "interactive":
            reply = message["interactive"].get("button_reply") or message["interactive"].get("list_reply") or {}
            content, message_type = {"conversation": reply.get("title", "")}, "conversation"
        elif kind in _MEDIA_TYPES:
            content, message_type = {f"{kind}Message": message[kind]}, f"{kind}Message"
        else:
            return
        context = message.get("context")
        if isinstance(context, dict) and context.get("id"):
            content["contextInfo"] = {"stanzaId": context["id"]}
        self._inbound(instance, message["from"], push_name, message["id"], content, message_type)

    def _inbound(
        self, instance: _Instance, from_number: str, push_name: str, wamid: str, content: JsonObject, message_type: str
    ) -> str:
        remote_jid = create_jid(from_number)
        data: JsonObject = {
            "key": {"id": wamid, "remoteJid": remote_jid, "fromMe": False},
            "pushName": push_name,
            "message": content,
            "messageType": message_type,
            "messageTimestamp": int(time.time()),
            "source": "unknown",
            "instanceId": instance.id,
        }
        with self._lock:
            instance.messages[wamid] = _Message(_cuid(), wamid, remote_jid, False)
            known = remote_jid in instance.contacts
            instance.contacts.add(remote_jid)
        self._emit(instance, "messages.upsert", data)
        contact_event = "contacts.update" if known else "contacts.upsert"
        self._emit(instance, contact_event, {"pushName": push_name, "instanceId": instance.id})
        return wamid

    # ------------------------------------------------------------------------------------ webhooks

    def _emit(self, instance: _Instance, event: str, data: Any) -> None:
        """Deliver ``event`` to the instance webhook if it is enabled and lists the event (config snapshot now)."""
        with self._lock:
            row = copy.deepcopy(instance.webhook)
        if row is None or row.get("enabled") is not True:
            return
        upper = re.sub(r"[.-]", "_", event).upper()
        events = row.get("events")
        base = row.get("url")
        if not isinstance(events, list) or upper not in events or not isinstance(base, str):
            return
        url = f"{base}/{upper.replace('_', '-').lower()}" if row.get("webhookByEvents") is True else base
        if not re.match(r"https?://", url):
            return
        headers = {
            "Accept": "application/json, text/plain, */*",
            "Content-Type": "application/json",
            "User-Agent": WEBHOOK_USER_AGENT,
        }
        custom = dict(row["headers"]) if isinstance(row.get("headers"), dict) else {}
        if "jwt_key" in custom:
            custom["Authorization"] = f"Bearer {_webhook_jwt(str(custom.pop('jwt_key')))}"
        for name, value in custom.items():
            for existing in [h for h in headers if h.lower() == str(name).lower()]:
                del headers[existing]
            headers[str(name)] = value if isinstance(value, str) else json.dumps(value)
        envelope: JsonObject = {
            "event": event,
            "instance": instance.name,
            "data": copy.deepcopy(data),
            "destination": base,
            "date_time": _now_iso(),
            "server_url": self.base_url,
            "apikey": instance.token if self.expose_token_in_webhooks else None,
        }
        self._start_delivery("instance", event, instance.name, url, headers, envelope, retry=True)

    def _post_message_webhook(self, instance: _Instance, url: str, data: JsonObject) -> None:
        if not re.match(r"https?://", url):
            return
        headers = {"Accept": "application/json, text/plain, */*", "Content-Type": "application/json"}
        headers["User-Agent"] = WEBHOOK_USER_AGENT
        self._start_delivery("message", "messages.update", instance.name, url, headers, data, retry=False)

    def _start_delivery(
        self, kind: str, event: str, instance: str, url: str, headers: Mapping[str, str], body: Any, *, retry: bool
    ) -> None:
        with self._lock:
            self._seq += 1
            job = _Job(self._seq, kind, event, instance, url, dict(headers), body, retry, self._cancelled)
        with self._idle:
            self._in_flight += 1
        threading.Thread(target=self._deliver, args=(job,), name="evolution-webhook", daemon=True).start()

    def _deliver(self, job: _Job) -> None:
        try:
            payload = _compact(job.body)
            attempt = 0
            while not job.cancelled.is_set():
                attempt += 1
                result = _post_json(job.url, job.headers, payload, self.webhook_timeout_seconds)
                self._record(job, attempt, result)
                if result.status is not None and 200 <= result.status < 300:
                    return
                if not job.retry or result.status in NON_RETRYABLE_STATUSES or attempt >= self.max_attempts:
                    return
                delay = retry_delay(attempt, self.retry_base_seconds, self.retry_max_seconds, self._rng)
                if job.cancelled.wait(delay):
                    return
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _record(self, job: _Job, attempt: int, result: _HttpResult) -> None:
        entry: JsonObject = {
            "seq": job.seq,
            "kind": job.kind,
            "event": job.event,
            "instance": job.instance,
            "url": job.url,
            "headers": dict(job.headers),
            "body": copy.deepcopy(job.body),
            "attempt": attempt,
            "status": result.status,
            "error": result.error,
            "at": time.time(),
        }
        with self._lock:
            if not job.cancelled.is_set():
                self.deliveries.append(entry)

    # ------------------------------------------------------------------------------ control routes

    def _control(self, request: _Request) -> _Response:
        body = request.json_body()
        body = body if isinstance(body, dict) else {}
        try:
            result = self._control_action(request.method, request.segments[1:], body)
        except KeyError as error:
            raise _ApiError(404, [f"The simulator has no instance {error}"]) from None
        except (ValueError, TypeError) as error:
            raise _ApiError(400, [str(error)]) from None
        if result is None:
            raise _ApiError(404, [f"Cannot {request.method.upper()} {request.url}"])
        return _Response(200, result)

    def _control_action(self, method: str, segments: tuple[str, ...], body: JsonObject) -> JsonObject | None:
        match method, segments:
            case "POST", ("fail_next",):
                path_prefix, status = _text(body, "path_prefix"), _integer(body, "status")
                self.fail_next(path_prefix, status, _integer(body, "count", 1), body.get("body"))
            case "POST", ("delay_next",):
                seconds = body.get("seconds")
                if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                    raise ValueError("seconds must be a number")
                self.delay_next(_text(body, "path_prefix"), float(seconds), _integer(body, "count", 1))
            case "POST", ("lose_next_response",):
                self.lose_next_response(_text(body, "path_prefix"), _integer(body, "count", 1))
            case "POST", ("delete", name):
                self.delete_behind_our_back(name)
            case "POST", ("webhook", name):
                nested = body.get("webhook")
                inner: JsonObject = nested if isinstance(nested, dict) else body
                return {"success": True, "webhook": self.set_webhook_behind_our_back(name, inner)}
            case "POST", ("status",):
                emitted = self.emit_status(_text(body, "instance"), _text(body, "wamid"), _text(body, "status"))
                return {"success": True, "emitted": emitted}
            case "POST", ("inbound",):
                push_name = body.get("push_name")
                wamid = self.emit_inbound(
                    _text(body, "instance"),
                    _text(body, "from_number") if "from_number" in body else _text(body, "from"),
                    _text(body, "text"),
                    push_name=push_name if isinstance(push_name, str) else "Simulated Contact",
                )
                return {"success": True, "wamid": wamid}
            case "POST", ("reset",):
                self.reset()
            case "POST", ("restart",):
                self.simulate_restart()
            case "GET", ("deliveries",):
                with self._lock:
                    return {"data": copy.deepcopy(self.deliveries)}
            case "GET", ("instances",):
                return {"data": dict(self.instances)}
            case "GET", ("calls",):
                with self._lock:
                    return {"data": [list(call) for call in self.calls]}
            case "DELETE", ("calls",):
                self.reset_calls()
            case _:
                return None
        return {"success": True}


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def _integer(body: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer")
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: EvolutionSimulator) -> None:
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
            raise TypeError("the Evolution API simulator handler needs its own server class")
        length = int(self.headers.get("Content-Length") or 0)
        split = urlsplit(self.path)
        request = _Request(
            method=self.command,
            url=self.path,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            raw_body=self.rfile.read(length) if length > 0 else b"",
            content_type=self.headers.get("Content-Type") or "",
            apikey=self.headers.get("apikey") or "",
        )
        response = self.server.simulator._handle(request)
        if response.lose:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        with contextlib.suppress(ConnectionError):  # the client gave up (e.g. timed out on an injected delay)
            self._write(response)

    def _write(self, response: _Response) -> None:
        if response.text is not None:
            payload, content_type = response.text.encode(), "text/html; charset=utf-8"
        else:
            payload, content_type = _compact(response.body), "application/json; charset=utf-8"
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header(*SIMULATOR_HEADER)
        self.end_headers()
        self.wfile.write(payload)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m local.evolution_simulator",
        description="Serve the simulator of Evolution API 2.3.7 (a test double) for WHATSAPP-BUSINESS instances.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--api-key", default="local-evolution-key", help="the global AUTHENTICATION_API_KEY")
    parser.add_argument("--graph-url", default=None, help="base URL of a (simulated) Graph API for sends")
    parser.add_argument("--retry-base-seconds", type=float, default=5.0)
    parser.add_argument("--retry-max-seconds", type=float, default=300.0)
    parser.add_argument("--max-attempts", type=int, default=10)
    parser.add_argument("--webhook-timeout-seconds", type=float, default=30.0)
    parser.add_argument("--hide-token-in-webhooks", action="store_true", help="send apikey null in webhooks")
    parser.add_argument("--meta-verify-token", default=WA_BUSINESS_TOKEN_WEBHOOK, help="WA_BUSINESS_TOKEN_WEBHOOK")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to sleep before every API answer")
    args = parser.parse_args(argv)
    simulator = EvolutionSimulator(
        args.host,
        args.port,
        args.api_key,
        retry_base_seconds=args.retry_base_seconds,
        retry_max_seconds=args.retry_max_seconds,
        max_attempts=args.max_attempts,
        webhook_timeout_seconds=args.webhook_timeout_seconds,
        expose_token_in_webhooks=not args.hide_token_in_webhooks,
        graph_url=args.graph_url,
        latency_seconds=args.latency,
        meta_verify_token=args.meta_verify_token,
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
