"""WhatsApp message statuses as Evolution reports them, and how a message's status may move.

Evolution sends Meta's statuses upper-cased (SENT, DELIVERED, READ, FAILED) for business instances and Baileys'
vocabulary (SERVER_ACK, DELIVERY_ACK, READ, PLAYED, ERROR) for others; both are accepted. Events arrive out of
order and duplicated, so a message's progress only moves forward; a failure is kept even if a later delivery
report arrives (multi-device users can produce DELIVERED after FAILED).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class MessageStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    PLAYED = "PLAYED"
    FAILED = "FAILED"


_ALIASES = {
    "PENDING": MessageStatus.PENDING,
    "SENT": MessageStatus.SENT,
    "SERVER_ACK": MessageStatus.SENT,
    "DELIVERED": MessageStatus.DELIVERED,
    "DELIVERY_ACK": MessageStatus.DELIVERED,
    "READ": MessageStatus.READ,
    "PLAYED": MessageStatus.PLAYED,
    "FAILED": MessageStatus.FAILED,
    "ERROR": MessageStatus.FAILED,
}

# Progress order; FAILED is not on it (a failure is recorded beside the progress, never instead of it).
PROGRESS_RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
    MessageStatus.PLAYED: 4,
}


def normalise(reported: str) -> MessageStatus | None:
    """Both vocabularies to ours; None for a status we do not know (recorded nowhere, answered 200)."""
    return _ALIASES.get(reported.strip().upper())


def rank(status: MessageStatus) -> int:
    return PROGRESS_RANK.get(status, -1)


def shown_status(progress: MessageStatus, failed: bool) -> MessageStatus:
    """What a reader sees: a failure wins over any progress reported around it."""
    return MessageStatus.FAILED if failed else progress


@dataclass(frozen=True)
class StatusSeen:
    status: MessageStatus
    received_at: datetime


@dataclass(frozen=True)
class MessageFailure:
    """Why Meta failed a message (its status's errors[0]); the Meta error catalogue adds our code and the fix."""

    code: int | None
    title: str | None
    message: str | None
    details: str | None


@dataclass(frozen=True)
class MessageRecord:
    """A message as recorded from its webhooks."""

    wamid: str
    recipient: str | None
    sent_at: datetime | None
    progress: MessageStatus
    failed_at: datetime | None
    updated_at: datetime
    history: list[StatusSeen]
    failure: MessageFailure | None = None
    pricing: dict[str, Any] | None = None
