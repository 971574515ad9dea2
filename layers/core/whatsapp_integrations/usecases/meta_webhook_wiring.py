"""Making Meta deliver a number's webhooks to our relay, taking it back, and checking it still holds.

Meta's layers (meta-cloud-api.md A3): the app-level subscription (one callback and its fields per app), the WABA
subscription (`subscribed_apps`, done by the provisioner before this), and the phone-number override, which wins
over the others for the `messages` field. Meta refuses an override unless the app-level subscription has
`messages`, and verifies every callback synchronously inside the call that sets it (our GET handshake).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.provisioning import (
    IntegrationError,
    PermanentFailure,
    TransientFailure,
    provisioning_error,
)
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.graph_failures import graph_failures

MESSAGES_FIELD = "messages"
WABA_OBJECT = "whatsapp_business_account"
CALLBACK_VERIFICATION_FAILED = 2200  # our own endpoint failed Meta's handshake: ours to fix, so retried


def callback_url_for(services: Services, integration: Integration) -> str:
    """One opaque URL per integration: never a phone number in the path (meta-cloud-api.md A3)."""
    base = str(services.settings.public_api_url).rstrip("/")
    return f"{base}/webhooks/meta/{integration.id}"


def wire(services: Services, integration: Integration, token: str, app_secret: str, verify_token: str) -> str:
    """Make sure the app has a `messages` subscription (never replacing a callback the tenant has), then set the
    number's override to our URL and read it back. Returns the URL."""
    assert integration.app_id is not None, "connect requires the app ID with the app secret"
    url = callback_url_for(services, integration)
    graph = services.graph
    with graph_failures(services.clock, ours_to_fix=frozenset({CALLBACK_VERIFICATION_FAILED})):
        subscription = _waba_subscription(graph.app_subscriptions(integration.app_id, app_secret))
        if subscription is None:
            graph.subscribe_app_callback(
                integration.app_id, app_secret, callback_url=url, verify_token=verify_token, fields=(MESSAGES_FIELD,)
            )
        elif MESSAGES_FIELD not in _field_names(subscription):
            raise PermanentFailure(provisioning_error("app_messages_field_missing"))
        graph.set_phone_webhook_override(
            integration.phone_number_id, token, app_secret, url=url, verify_token=verify_token
        )
        effective = graph.webhook_configuration(integration.phone_number_id, token, app_secret)
    if effective.get("phone_number") != url:
        raise TransientFailure(provisioning_error("webhook_override_not_applied"))
    return url


def unwire(services: Services, integration: Integration, token: str, app_secret: str | None) -> IntegrationError | None:
    """Remove the number's override (the app subscription stays: it may serve the tenant's other numbers).
    Returns the reason it could not be removed when retrying cannot help (an expired token): the caller records it
    and carries on, since Meta then delivers to an integration that no longer forwards anything."""
    try:
        with graph_failures(services.clock):
            services.graph.set_phone_webhook_override(
                integration.phone_number_id, token, app_secret, url="", verify_token=""
            )
    except PermanentFailure as failure:
        return failure.error
    return None


@dataclass(frozen=True)
class OverrideState:
    state: Literal["ours", "missing", "taken"]
    holder: str | None = None  # the other platform's host when taken


def override_state(configuration: dict[str, Any], ours: str) -> OverrideState:
    """What Meta's `webhook_configuration` says about the override we set."""
    current = configuration.get("phone_number")
    if current == ours:
        return OverrideState("ours")
    if not current:
        return OverrideState("missing")
    return OverrideState("taken", urlsplit(str(current)).hostname or str(current)[:100])


def override_taken(state: OverrideState) -> IntegrationError:
    return provisioning_error("webhook_override_taken", f"It now points to {state.holder}.")


def reset_override(
    services: Services, integration: Integration, token: str, app_secret: str | None, verify_token: str
) -> None:
    """Set our override again (a repair), with the verify token of the last connect; Meta runs the handshake."""
    assert integration.meta_callback_url is not None
    with graph_failures(services.clock, ours_to_fix=frozenset({CALLBACK_VERIFICATION_FAILED})):
        services.graph.set_phone_webhook_override(
            integration.phone_number_id,
            token,
            app_secret,
            url=integration.meta_callback_url,
            verify_token=verify_token,
        )


def _waba_subscription(subscriptions: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((entry for entry in subscriptions if entry.get("object") == WABA_OBJECT), None)


def _field_names(subscription: dict[str, Any]) -> set[str]:
    fields = subscription.get("fields")
    if not isinstance(fields, list):
        return set()
    return {str(item.get("name")) if isinstance(item, dict) else str(item) for item in fields}
