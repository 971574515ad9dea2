"""Connecting an integration through Evolution API: instance naming, operations, and how failures are classified."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import ConfigDict

from whatsapp_integrations.domain.model import Model


class Operation(StrEnum):
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    DELETE = "delete"
    REPROVISION = "reprovision"


class IntegrationError(Model):
    """The last failure of an integration, with what the tenant or operator should do about it."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    fix: str
    meta_code: int | None = None
    meta_subcode: int | None = None
    fbtrace_id: str | None = None


@dataclass(frozen=True)
class ProvisioningMessage:
    """The body of a provisioning queue message."""

    tenant_id: str
    integration_id: UUID
    operation: Operation
    correlation_id: str

    def to_payload(self) -> dict[str, str]:
        return {
            "tenant_id": self.tenant_id,
            "integration_id": str(self.integration_id),
            "operation": self.operation.value,
            "correlation_id": self.correlation_id,
        }

    @classmethod
    def from_payload(cls, data: Any) -> ProvisioningMessage:
        """Raises ValueError, KeyError or TypeError for a body that is not ours: it can never succeed."""
        return cls(
            tenant_id=str(data["tenant_id"]),
            integration_id=UUID(str(data["integration_id"])),
            operation=Operation(data["operation"]),
            correlation_id=str(data.get("correlation_id") or ""),
        )


class TransientFailure(Exception):
    """Worth retrying later (Evolution or Meta briefly unavailable, rate limited)."""

    def __init__(self, error: IntegrationError, retry_after_seconds: int | None = None) -> None:
        super().__init__(error.code)
        self.error = error
        self.retry_after_seconds = retry_after_seconds


class PermanentFailure(Exception):
    """Retrying cannot help until someone fixes something; `reauth_required` when the fix is a new token."""

    def __init__(self, error: IntegrationError, *, reauth_required: bool = False) -> None:
        super().__init__(error.code)
        self.error = error
        self.reauth_required = reauth_required


_OPERATOR = "This needs the operator of this service; contact support with the integration id."
PROVISIONING_ERRORS: dict[str, tuple[str, str]] = {
    "evolution_unavailable": (
        "The WhatsApp gateway (Evolution API) did not answer.",
        "Nothing to do: it is retried automatically. If it persists, contact support.",
    ),
    "evolution_unauthorized": ("The WhatsApp gateway refused our API key.", _OPERATOR),
    "evolution_rejected": ("The WhatsApp gateway refused to create the instance.", _OPERATOR),
    "evolution_instance_conflict": (
        "A gateway instance with this integration's name serves another number.",
        _OPERATOR,
    ),
    "webhook_mismatch": (
        "The gateway's webhook configuration does not match what we set.",
        "Nothing to do: it is repaired and retried automatically.",
    ),
    "evolution_not_open": ("The gateway instance is not open.", "Nothing to do: it is retried automatically."),
    "meta_unreachable": ("Meta's Graph API did not answer.", "Nothing to do: it is retried automatically."),
    "instance_removed_outside": (
        "The WhatsApp gateway instance was deleted outside this service.",
        "Click Connect again to create it anew.",
    ),
    "provisioning_interrupted": (
        "An unexpected error interrupted the work.",
        "Nothing to do: it is retried. If it persists, contact support.",
    ),
    "app_messages_field_missing": (
        "Your Meta app already sends its WhatsApp webhooks to another callback, without the `messages` field, so "
        "Meta refuses to deliver this number's messages to us.",
        "In the Meta App Dashboard open WhatsApp > Configuration > Webhook fields and subscribe `messages`, then "
        "click Connect again.",
    ),
    "webhook_override_not_applied": (
        "Meta accepted our webhook override for this number but does not report it.",
        "Nothing to do: it is retried automatically. If it persists, contact support.",
    ),
    "webhook_override_taken": (
        "Another platform set this number's webhook override at Meta, so its messages and statuses no longer reach "
        "this service.",
        "Remove that platform's webhook for this number (or disconnect it there), then use Repair or Connect again.",
    ),
    "provisioning_retries_exhausted": (
        "Connecting kept failing and was given up.",
        "Check the last error, fix what it says, then click Connect again.",
    ),
}


def provisioning_error(code: str, detail: str | None = None, **meta: int | str | None) -> IntegrationError:
    message, fix = PROVISIONING_ERRORS[code]
    return IntegrationError(code=code, message=f"{message} {detail}" if detail else message, fix=fix, **meta)  # type: ignore[arg-type]
