"""What a state change sends, as written to the outbox in the same transaction and sent after it commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from whatsapp_integrations.domain.events import DomainEvent
from whatsapp_integrations.domain.provisioning import ProvisioningMessage

OutboxKind = Literal["provisioning", "domain_event"]


@dataclass(frozen=True)
class OutgoingMessage:
    tenant_id: str
    integration_id: UUID
    kind: OutboxKind
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxEntry:
    """A written message: `behind_older` when an older message of the same integration still waits, in which case
    only the sweeper sends it (after the older one), so messages of one integration go out in order."""

    id: int
    message: OutgoingMessage
    behind_older: bool = False


def provisioning_request(message: ProvisioningMessage) -> OutgoingMessage:
    return OutgoingMessage(message.tenant_id, message.integration_id, "provisioning", message.to_payload())


def domain_event(event: DomainEvent) -> OutgoingMessage:
    return OutgoingMessage(
        event.tenant_id,
        event.integration_id,
        "domain_event",
        {"detail_type": event.detail_type, "detail": event.detail()},
    )
