"""What every Evolution instance of ours must look like: its name, and the webhook config it posts events with."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

INSTANCE_NAME_PREFIX = "wa-"
WEBHOOK_SECRET_HEADER = "X-Webhook-Secret"  # noqa: S105 - a header name, not a secret

# The events we consume, in Evolution's config form (evolution-api-v2.md, 6.3); the envelope carries them dotted.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "MESSAGES_UPSERT",
    "MESSAGES_UPDATE",
    "SEND_MESSAGE",
    "INSTANCE_DELETE",
    "REMOVE_INSTANCE",
)


def instance_name_for(integration_id: UUID) -> str:
    """Deterministic, so every retry of a connect addresses the same Evolution instance."""
    return f"{INSTANCE_NAME_PREFIX}{integration_id}"


@dataclass(frozen=True, repr=False)
class WebhookConfig:
    """An instance-level webhook config (section 6.1). `headers` values are secret; `repr` hides them."""

    url: str
    headers: dict[str, str]
    events: tuple[str, ...]
    by_events: bool = False
    base64: bool = False
    enabled: bool = True

    def __post_init__(self) -> None:
        # Own copies: a caller's later edit of its dict or list must not change a frozen config.
        object.__setattr__(self, "headers", {str(key): str(value) for key, value in self.headers.items()})
        object.__setattr__(self, "events", tuple(self.events))

    def __repr__(self) -> str:
        hidden = dict.fromkeys(self.headers, "***")
        return (
            f"WebhookConfig(url={self.url!r}, headers={hidden!r}, events={self.events!r}, "
            f"by_events={self.by_events!r}, base64={self.base64!r}, enabled={self.enabled!r})"
        )


def webhook_config(url: object, secret: str) -> WebhookConfig:
    """What every instance of ours must have: our URL, its secret header, and exactly the events we consume."""
    return WebhookConfig(url=str(url), headers={WEBHOOK_SECRET_HEADER: secret}, events=WEBHOOK_EVENTS)


def webhook_matches(found: WebhookConfig | None, wanted: WebhookConfig) -> bool:
    return (
        found is not None
        and found.enabled
        and found.url == wanted.url
        and set(found.events) == set(wanted.events)
        and found.by_events == wanted.by_events
        and found.headers.get(WEBHOOK_SECRET_HEADER) == wanted.headers[WEBHOOK_SECRET_HEADER]
    )
