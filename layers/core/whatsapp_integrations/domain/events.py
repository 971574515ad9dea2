"""Domain events: one schema per event type, versioned, published on EventBridge (source `whatsapp-integrations`,
the class name as `detail-type`). docs/architecture.md lists each with an example. A consumer keys on
`detail-type` and `version`; a new field is added without a new version, a changed meaning bumps it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict, Field

from whatsapp_integrations.domain.model import Model

SOURCE = "whatsapp-integrations"


class DomainEvent(Model):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_version: ClassVar[int] = 1

    integration_id: UUID
    tenant_id: str
    correlation_id: str | None = None
    occurred_at: datetime
    version: int = Field(default=1, description="Schema version of this event type")

    @property
    def detail_type(self) -> str:
        return type(self).__name__

    def detail(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


class IntegrationStatusChanged(DomainEvent):
    """Every move of an integration's status, from every path (API request, provisioner, webhooks, status sync)."""

    from_status: str = Field(alias="from")
    to_status: str = Field(alias="to")
    reason: str
    error_code: str | None = None


class MessageStatusChanged(DomainEvent):
    """A message's visible status moved (progress forward, or a failure); duplicates and late reports do not."""

    wamid: str
    reported: str
    status: str
    progress: str
    failed: bool
    error_code: str | None = None


# The profile fields worth an event, and the detail-type each one is published under.
PHONE_PROFILE_EVENTS: dict[str, str] = {
    "quality_rating": "PhoneQualityChanged",
    "can_send_message": "CanSendMessageChanged",
    "status": "PhoneStatusChanged",
    "name_status": "DisplayNameStatusChanged",
    "messaging_limit": "MessagingLimitChanged",
}


class PhoneProfileChanged(DomainEvent):
    """A watched field of the phone number's profile at Meta changed. One schema for five detail-types, one per
    field (PHONE_PROFILE_EVENTS), so a consumer can subscribe to the one it cares about."""

    field: str
    from_value: str | None = Field(alias="from")
    to_value: str | None = Field(alias="to")

    @property
    def detail_type(self) -> str:
        return PHONE_PROFILE_EVENTS[self.field]
