"""A small typed client for the Graph API calls that validate a tenant's credentials (meta-cloud-api.md, A1)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

# httpx logs every URL at INFO; debug_token and oauth URLs carry secrets in their query strings.
logging.getLogger("httpx").setLevel(logging.WARNING)

PHONE_PROFILE_FIELDS = (
    "display_phone_number,verified_name,quality_rating,name_status,platform_type,code_verification_status,"
    "whatsapp_business_manager_messaging_limit,status,account_mode"
)
# A WABA holds a handful of numbers; pages are fetched one after another within the function timeout.
_MAX_PHONE_NUMBER_PAGES = 3


class GraphError(Exception):
    """Graph answered with its error envelope."""

    def __init__(self, http_status: int, error: dict[str, Any]) -> None:
        self.http_status = http_status
        self.code = _int_or_none(error.get("code"))
        self.subcode = _int_or_none(error.get("error_subcode"))
        self.message = str(error.get("message", ""))[:500]
        self.fbtrace_id = str(error["fbtrace_id"]) if error.get("fbtrace_id") else None
        self.is_transient = error.get("is_transient") if isinstance(error.get("is_transient"), bool) else None
        super().__init__(f"Graph error {self.code}/{self.subcode} (HTTP {http_status}, fbtrace_id {self.fbtrace_id})")

    @property
    def mentions_appsecret_proof(self) -> bool:
        return "appsecret_proof" in self.message


class GraphUnreachable(Exception):
    """No usable answer from Graph: network failure, timeout, or a non-JSON error page."""


def appsecret_proof(access_token: str, app_secret: str) -> str:
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


class GraphClient:
    def __init__(self, http: httpx.Client, graph_root: str) -> None:
        self._http = http
        self._root = graph_root.rstrip("/")

    def debug_token(self, access_token: str, app_secret: str | None) -> dict[str, Any]:
        """Self-inspection: a system-user token may inspect itself (meta-cloud-api.md, A1 step 1)."""
        answer = self._get("debug_token", access_token, app_secret, {"input_token": access_token})
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def phone_number_ids_of_waba(self, waba_id: str, access_token: str, app_secret: str | None) -> set[str]:
        params: dict[str, str] = {"fields": "id", "limit": "100"}
        ids: set[str] = set()
        for _ in range(_MAX_PHONE_NUMBER_PAGES):
            answer = self._get(f"{waba_id}/phone_numbers", access_token, app_secret, params)
            ids.update(str(entry.get("id")) for entry in answer.get("data", []) if isinstance(entry, dict))
            after = (answer.get("paging") or {}).get("cursors", {}).get("after")
            if not (answer.get("paging") or {}).get("next") or not after:
                break
            params = {**params, "after": str(after)}
        return ids

    def phone_number(
        self,
        phone_number_id: str,
        access_token: str,
        app_secret: str | None,
        *,
        with_health: bool = False,
        with_webhooks: bool = False,
    ) -> dict[str, Any]:
        """The number's profile; `with_health` adds health_status, `with_webhooks` the effective
        webhook_configuration (phone override, WABA override, app callback), all in one call."""
        fields = PHONE_PROFILE_FIELDS + (",health_status" if with_health else "")
        fields += ",webhook_configuration" if with_webhooks else ""
        return self._get(phone_number_id, access_token, app_secret, {"fields": fields})

    def set_phone_webhook_override(
        self, phone_number_id: str, access_token: str, app_secret: str | None, *, url: str, verify_token: str
    ) -> None:
        """`POST /{phone_number_id}` webhook_configuration (an empty url removes the override). Meta runs its
        verification handshake against `url` inside this call: a failed one is error 2200."""
        configuration = {"override_callback_uri": url, **({"verify_token": verify_token} if url else {})}
        self._get(
            phone_number_id,
            access_token,
            app_secret,
            {},
            method="POST",
            body={"webhook_configuration": configuration},
        )

    def subscribed_apps(self, waba_id: str, access_token: str, app_secret: str | None) -> list[dict[str, Any]]:
        """`GET /{waba_id}/subscribed_apps`: the apps that receive this WABA's webhooks, with their overrides."""
        answer = self._get(f"{waba_id}/subscribed_apps", access_token, app_secret, {})
        data = answer.get("data")
        return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []

    def webhook_configuration(self, phone_number_id: str, access_token: str, app_secret: str | None) -> dict[str, Any]:
        """Where Meta delivers this number's webhooks: `phone_number` (override), `whatsapp_business_account`
        (WABA override), `application` (app callback), each present only when set."""
        answer = self._get(phone_number_id, access_token, app_secret, {"fields": "webhook_configuration"})
        configuration = answer.get("webhook_configuration")
        return configuration if isinstance(configuration, dict) else {}

    def app_subscriptions(self, app_id: str, app_secret: str) -> list[dict[str, Any]]:
        """`GET /{app_id}/subscriptions` with the app token: the app-level callbacks and their fields."""
        answer = self._request(
            f"{app_id}/subscriptions", params={"access_token": _app_token(app_id, app_secret)}, headers={}
        )
        data = answer.get("data")
        return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []

    def subscribe_app_callback(
        self, app_id: str, app_secret: str, *, callback_url: str, verify_token: str, fields: tuple[str, ...]
    ) -> None:
        """`POST /{app_id}/subscriptions` for the WhatsApp Business Account object; Meta runs the handshake."""
        self._request(
            f"{app_id}/subscriptions",
            params={
                "access_token": _app_token(app_id, app_secret),
                "object": "whatsapp_business_account",
                "callback_url": callback_url,
                "verify_token": verify_token,
                "fields": ",".join(fields),
            },
            headers={},
            method="POST",
        )

    def prove_app_secret(self, app_id: str, app_secret: str) -> None:
        """A client-credentials app token is issued only for the right app ID and secret pair."""
        self._request(
            "oauth/access_token",
            params={"grant_type": "client_credentials", "client_id": app_id, "client_secret": app_secret},
            headers={},
        )

    def subscribe_app(self, waba_id: str, access_token: str, app_secret: str | None) -> None:
        """Subscribe the token's app to the WABA's webhooks (idempotent); without it no event reaches the app."""
        self._get(f"{waba_id}/subscribed_apps", access_token, app_secret, {}, method="POST")

    def _get(
        self,
        path: str,
        access_token: str,
        app_secret: str | None,
        params: dict[str, str],
        method: str = "GET",
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if app_secret:
            params = {**params, "appsecret_proof": appsecret_proof(access_token, app_secret)}
        return self._request(
            path, params=params, headers={"Authorization": f"Bearer {access_token}"}, method=method, body=body
        )

    def _request(
        self,
        path: str,
        *,
        params: dict[str, str],
        headers: dict[str, str],
        method: str = "GET",
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        import httpx  # here, not at the top: functions that only catch our errors never import it

        try:
            response = self._http.request(method, f"{self._root}/{path}", params=params, headers=headers, json=body)
        except httpx.HTTPError as error:
            raise GraphUnreachable(f"{type(error).__name__} calling Graph") from None
        try:
            body = response.json()
        except ValueError:
            raise GraphUnreachable(f"Graph answered HTTP {response.status_code} without JSON") from None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise GraphError(response.status_code, body["error"])
        if response.status_code >= 400 or not isinstance(body, dict):
            raise GraphUnreachable(f"Graph answered HTTP {response.status_code} without an error object")
        return body


def _app_token(app_id: str, app_secret: str) -> str:
    """An app access token needs no call to Meta: it is the app ID and secret joined by a bar."""
    return f"{app_id}|{app_secret}"


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None
