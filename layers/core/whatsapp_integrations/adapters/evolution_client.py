"""A small typed client for Evolution API v2 instances of integration WHATSAPP-BUSINESS (evolution-api-v2.md).

Secrets handled here and never put in logs or exception text: the global apikey, the Meta access token (which
Evolution also uses as the instance token, echoed as `hash` and returned by fetchInstances as `token`), and the
values of the webhook headers (they carry our per-integration secret).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from whatsapp_integrations.domain.credentials import token_fingerprint
from whatsapp_integrations.domain.evolution_instance import WebhookConfig

if TYPE_CHECKING:
    import httpx

# httpx logs every URL at INFO; keep request lines out of the logs like the other adapters do.
logging.getLogger("httpx").setLevel(logging.WARNING)

BUSINESS_INTEGRATION = "WHATSAPP-BUSINESS"

# Section 6.3: the 31 names Evolution 2.3.7 accepts in a webhook config.
VALID_EVENT_NAMES: frozenset[str] = frozenset(
    {
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
    }
)

# Section 7.1: Graph gave no error object (network failure, non-JSON 5xx) and Evolution crashed reading it.
_GRAPH_GAVE_NO_ERROR = "Cannot read properties of undefined (reading 'message')"
_MAX_MESSAGES = 20
_MAX_MESSAGE_CHARS = 500
_REDACTED = "[redacted]"
_MIN_SECRET_CHARS = 8
_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class EvolutionInstance:
    """An Evolution instance as we keep it. The instance token (= the Meta access token) is never kept."""

    name: str
    instance_id: str | None
    number: str | None
    business_id: str | None
    integration: str | None
    connection_status: str | None
    token_fingerprint: str | None = None  # of the instance token (= the Meta token), never the token itself


@dataclass(frozen=True)
class SendResult:
    """The outcome of a send: a `wamid`, or Meta's error (Evolution answers 201 either way)."""

    wamid: str | None
    meta_error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.wamid is not None


class EvolutionError(Exception):
    """Evolution answered a 4xx with its error envelope `{"status", "error", "response": {"message"}}`."""

    def __init__(self, status: int, reason: str, messages: list[str]) -> None:
        self.status = status
        self.reason = reason
        self.messages = messages
        detail = f": {'; '.join(messages)}" if messages else ""
        super().__init__(f"Evolution answered HTTP {status} {reason}{detail}")

    @property
    def bad_request(self) -> bool:
        return self.status == 400

    @property
    def unauthorized(self) -> bool:
        return self.status == 401

    @property
    def name_in_use(self) -> bool:
        return self.status == 403

    @property
    def not_found(self) -> bool:
        return self.status == 404


class EvolutionUnavailable(Exception):
    """No usable answer from Evolution (transient): network failure, timeout, 5xx, or a non-JSON answer.

    A 5xx that carried the error envelope keeps its status, reason and messages.
    """

    def __init__(
        self, text: str, *, status: int | None = None, reason: str | None = None, messages: list[str] | None = None
    ) -> None:
        self.status = status
        self.reason = reason
        self.messages = messages or []
        super().__init__(text)


class EvolutionClient:
    def __init__(self, http: httpx.Client, base_url: str, api_key: str) -> None:
        """`api_key` is the global AUTHENTICATION_API_KEY, sent as header `apikey` on every call."""
        self._http = http
        self._root = base_url.rstrip("/")
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"EvolutionClient(base_url={self._root!r})"

    def create_instance(
        self, *, name: str, meta_token: str, phone_number_id: str, waba_id: str, webhook: WebhookConfig
    ) -> EvolutionInstance:
        """`POST /instance/create` (section 5.1), global key only.

        `number` must be the Phone Number ID: Meta's webhooks are routed to the instance with it.

        Create does not validate event names (wrong names are silently never delivered), so they are checked here.
        Create forces the webhook enabled, so a disabled config is refused too.
        """
        _check_name(name)
        _check_events(webhook.events)
        if not webhook.enabled:
            raise ValueError("instance/create always enables the webhook; set a disabled one with set_webhook")
        body = {
            "instanceName": name,
            "integration": BUSINESS_INTEGRATION,
            "token": meta_token,
            "number": phone_number_id,
            "businessId": waba_id,
            "webhook": {
                "url": webhook.url,
                "headers": dict(webhook.headers),
                "byEvents": webhook.by_events,
                "base64": webhook.base64,
                "events": list(webhook.events),
            },
        }
        answer = self._request(
            "POST", "/instance/create", payload=body, secrets=(meta_token, *webhook.headers.values())
        )
        instance = answer.get("instance") if isinstance(answer, dict) else None
        instance = instance if isinstance(instance, dict) else {}
        return EvolutionInstance(
            name=_str_or_none(instance.get("instanceName")) or name,
            instance_id=_str_or_none(instance.get("instanceId")),
            number=phone_number_id,
            business_id=waba_id,
            integration=_str_or_none(instance.get("integration")) or BUSINESS_INTEGRATION,
            connection_status=_str_or_none(instance.get("status")),
        )

    def fetch_instance(self, name: str) -> EvolutionInstance | None:
        """`GET /instance/fetchInstances?instanceName=` (section 5.2); None if there is no such instance."""
        _check_name(name)
        try:
            answer = self._request("GET", "/instance/fetchInstances", params={"instanceName": name})
        except EvolutionError as error:
            if error.not_found:
                return None
            raise
        if not isinstance(answer, list):
            raise EvolutionUnavailable("Evolution answered fetchInstances without an array")
        for row in answer:
            if isinstance(row, dict) and row.get("name") == name:
                # The row carries `token` (the Meta access token): only the fields below are kept.
                return EvolutionInstance(
                    name=name,
                    instance_id=_str_or_none(row.get("id")),
                    number=_str_or_none(row.get("number")),
                    business_id=_str_or_none(row.get("businessId")),
                    integration=_str_or_none(row.get("integration")),
                    connection_status=_str_or_none(row.get("connectionStatus")),
                    token_fingerprint=token_fingerprint(row["token"]) if isinstance(row.get("token"), str) else None,
                )
        return None

    def connection_state(self, name: str) -> str:
        """`GET /instance/connectionState/{instance}` (section 5.3): "open", "close" or "connecting".

        For a business instance this is not a real connection: it is "open" from creation until a logout.
        """
        answer = self._request("GET", f"/instance/connectionState/{_segment(name)}")
        instance = answer.get("instance") if isinstance(answer, dict) else None
        state = instance.get("state") if isinstance(instance, dict) else None
        if not isinstance(state, str):
            raise EvolutionUnavailable("Evolution answered connectionState without a state")
        return state

    def delete_instance(self, name: str) -> bool:
        """`DELETE /instance/delete/{instance}` (section 5.5): True if deleted, False if it was already gone."""
        try:
            self._request("DELETE", f"/instance/delete/{_segment(name)}")
        except EvolutionError as error:
            if error.not_found:
                return False
            raise
        return True

    def set_webhook(self, name: str, webhook: WebhookConfig) -> WebhookConfig:
        """`POST /webhook/set/{instance}` (section 6.1) with the nested body; returns the stored row."""
        _check_events(webhook.events)
        answer = self._request(
            "POST",
            f"/webhook/set/{_segment(name)}",
            payload=_webhook_body(webhook),
            secrets=tuple(webhook.headers.values()),
        )
        if not isinstance(answer, dict):
            raise EvolutionUnavailable("Evolution answered webhook/set without the stored row")
        return _webhook_from_row(answer)

    def find_webhook(self, name: str) -> WebhookConfig | None:
        """`GET /webhook/find/{instance}` (section 6.2); None when no webhook was ever set (JSON `null`)."""
        answer = self._request("GET", f"/webhook/find/{_segment(name)}")
        if answer is None:
            return None
        if not isinstance(answer, dict):
            raise EvolutionUnavailable("Evolution answered webhook/find without a row")
        return _webhook_from_row(answer)

    def send_text(self, name: str, *, to: str, text: str) -> SendResult:
        """`POST /message/sendText/{instance}` (section 7.1). Success iff the answer carries `key.id`.

        A Graph error still comes back as HTTP 201 with Meta's error object flattened as the body.
        """
        return self._send("sendText", name, {"number": to, "text": text, "linkPreview": False})

    def send_template(self, name: str, *, to: str, template: str, language: str) -> SendResult:
        """`POST /message/sendTemplate/{instance}` (section 7.2), a template without parameters; as sendText."""
        return self._send("sendTemplate", name, {"number": to, "name": template, "language": language})

    def _send(self, route: str, name: str, payload: dict[str, Any]) -> SendResult:
        try:
            answer = self._request("POST", f"/message/{route}/{_segment(name)}", payload=payload)
        except EvolutionError as error:
            if error.bad_request and any(_GRAPH_GAVE_NO_ERROR in message for message in error.messages):
                raise EvolutionUnavailable(
                    "Evolution could not reach Graph (no error object in Graph's answer)",
                    status=error.status,
                    reason=error.reason,
                    messages=error.messages,
                ) from None
            raise
        if not isinstance(answer, dict):
            raise EvolutionUnavailable(f"Evolution answered {route} without an object")
        key = answer.get("key")
        wamid = key.get("id") if isinstance(key, dict) else None
        if isinstance(wamid, str) and wamid:
            return SendResult(wamid=wamid)
        if any(answer.get(field_name) is not None for field_name in ("code", "message", "fbtrace_id")):
            return SendResult(wamid=None, meta_error=self._meta_error(answer))
        raise EvolutionUnavailable(f"Evolution answered {route} without a message id or a Meta error")

    def _meta_error(self, body: dict[str, Any]) -> dict[str, Any]:
        message = body.get("message")
        return {
            "code": _int_or_none(body.get("code")),
            "subcode": _int_or_none(body.get("error_subcode")),
            "message": self._redact(str(message) if message is not None else "", ())[:_MAX_MESSAGE_CHARS],
            "fbtrace_id": _str_or_none(body.get("fbtrace_id")),
        }

    def _request(
        self,
        method: str,
        path: str,
        *,
        payload: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> Any:
        import httpx  # here, not at the top: functions that only catch our errors never import it

        try:
            response = self._http.request(
                method, f"{self._root}{path}", json=payload, params=params, headers={"apikey": self._api_key}
            )
        except httpx.HTTPError as error:
            raise EvolutionUnavailable(f"{type(error).__name__} calling Evolution") from None
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            raise EvolutionUnavailable(f"Evolution answered HTTP {status} without JSON", status=status) from None
        if 200 <= status < 300:
            return body
        reason, messages = self._envelope(body, secrets)
        if 400 <= status < 500:
            raise EvolutionError(status, reason, messages)
        detail = f": {'; '.join(messages)}" if messages else ""
        raise EvolutionUnavailable(
            f"Evolution answered HTTP {status} {reason}{detail}".rstrip(),
            status=status,
            reason=reason or None,
            messages=messages,
        )

    def _envelope(self, body: Any, secrets: tuple[str, ...]) -> tuple[str, list[str]]:
        """`reason` and the flattened `response.message` (array, string "Unauthorized", or nested array)."""
        if not isinstance(body, dict):
            return "", []
        reason = self._redact(str(body.get("error") or ""), secrets)[:_MAX_MESSAGE_CHARS]
        response = body.get("response")
        # /template/* errors put `message` at the top level (section 4).
        raw = response.get("message") if isinstance(response, dict) else body.get("message")
        messages = [self._redact(message, secrets)[:_MAX_MESSAGE_CHARS] for message in _flatten(raw)]
        return reason, messages[:_MAX_MESSAGES]

    def _redact(self, text: str, secrets: Iterable[str]) -> str:
        """Replace the apikey and the given secrets; short values only as whole words ("t1" in "tenant1" stays)."""
        for secret in sorted({self._api_key, *secrets}, key=len, reverse=True):
            if len(secret) >= _MIN_SECRET_CHARS:
                text = text.replace(secret, _REDACTED)
            elif secret:
                text = re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", _REDACTED, text)
        return text


class MetaWebhookForwarder:
    """Posts Meta's webhooks to Evolution's one global `POST /webhook/meta` (section 9). It needs no key: the route
    is open, which is why only the relay, after checking Meta's signature, may reach it."""

    def __init__(self, http: httpx.Client, base_url: str) -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/webhook/meta"

    def forward(self, post: dict[str, Any]) -> None:
        """Raises EvolutionUnavailable unless Evolution answered 2xx (it answers 200 before processing)."""
        import httpx  # here, not at the top: functions that only catch our errors never import it

        # ASCII with \u escapes, as Meta sends it: a lone surrogate a post may carry is valid JSON text that way,
        # where httpx's UTF-8 body could not encode it and the post would fail every retry
        body = json.dumps(post, separators=(",", ":"))
        try:
            response = self._http.post(self._url, content=body, headers=_JSON)
        except httpx.HTTPError as error:
            raise EvolutionUnavailable(f"{type(error).__name__} posting to Evolution's /webhook/meta") from None
        if not 200 <= response.status_code < 300:
            raise EvolutionUnavailable(
                f"Evolution's /webhook/meta answered HTTP {response.status_code}", status=response.status_code
            )


def _webhook_body(webhook: WebhookConfig) -> dict[str, Any]:
    """The nested body of `POST /webhook/set/{instance}`.

    `headers` is always sent (`{}` included): a left-out field keeps the stored value (partial update).
    `events` is always sent: with `enabled: true` a missing list is a 500, and `[]` means all 31 events.
    """
    return {
        "webhook": {
            "enabled": webhook.enabled,
            "url": webhook.url,
            "headers": dict(webhook.headers),
            "byEvents": webhook.by_events,
            "base64": webhook.base64,
            "events": list(webhook.events),
        }
    }


def _webhook_from_row(row: dict[str, Any]) -> WebhookConfig:
    """From the stored row returned by `/webhook/set` and `/webhook/find`."""
    headers = row.get("headers")
    events = row.get("events")
    return WebhookConfig(
        url=str(row.get("url") or ""),
        headers={str(key): str(value) for key, value in headers.items()} if isinstance(headers, dict) else {},
        events=tuple(str(event) for event in events) if isinstance(events, list) else (),
        by_events=row.get("webhookByEvents") is True,
        base64=row.get("webhookBase64") is True,
        enabled=row.get("enabled") is True,
    )


def _flatten(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _flatten(item)]
    if isinstance(value, dict):
        return [json.dumps(value, separators=(",", ":"), default=str)]
    return [str(value)]


def _check_events(events: Iterable[str]) -> None:
    unknown = sorted({event for event in events if event not in VALID_EVENT_NAMES})
    if unknown:
        raise ValueError(f"unknown Evolution webhook event names (config form is UPPER_SNAKE): {unknown}")


def _check_name(name: str) -> None:
    if not name:
        raise ValueError("instance name must not be empty")


def _segment(name: str) -> str:
    """An instance name as one URL path segment: spaces, slashes and the like are percent-encoded."""
    _check_name(name)
    return quote(name, safe="")


def _str_or_none(value: object) -> str | None:
    return str(value) if value is not None and value != "" else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None
