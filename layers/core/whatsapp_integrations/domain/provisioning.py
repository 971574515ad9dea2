"""Connecting an integration through Evolution API: instance naming, operations, and how failures are classified."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict

WEBHOOK_SECRET_HEADER = "X-Webhook-Secret"  # noqa: S105 - a header name, not a secret


class Operation(StrEnum):
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    DELETE = "delete"
    REPROVISION = "reprovision"


INSTANCE_NAME_PREFIX = "wa-"


def instance_name_for(integration_id: UUID) -> str:
    """Deterministic, so every retry of a connect addresses the same Evolution instance."""
    return f"{INSTANCE_NAME_PREFIX}{integration_id}"


class IntegrationError(BaseModel):
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


def retry_delay_seconds(attempt: int, *, base: int, cap: int, retry_after: int | None = None) -> int:
    """Exponential backoff with jitter for the `attempt`-th failure, never shorter than the other side asked for
    (SQS's visibility timeout caps it at 12 hours)."""
    ceiling = min(base * 2 ** (attempt - 1), cap, 43_200)
    return max(min(retry_after or 0, 43_200), int(ceiling * random.uniform(0.5, 1.0)))  # noqa: S311 - jitter


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
    "provisioning_retries_exhausted": (
        "Connecting kept failing and was given up.",
        "Check the last error, fix what it says, then click Connect again.",
    ),
}


def provisioning_error(code: str, detail: str | None = None, **meta: int | str | None) -> IntegrationError:
    message, fix = PROVISIONING_ERRORS[code]
    return IntegrationError(code=code, message=f"{message} {detail}" if detail else message, fix=fix, **meta)  # type: ignore[arg-type]
