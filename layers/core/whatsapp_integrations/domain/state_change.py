"""A change of an integration's status, described completely before anything is written.

`usecases/state_changes.py` is the one place that carries a `Transition` out: it checks it against the
lifecycle, writes it with its history row and audit row, and puts the messages it causes (a provisioning
request, the `IntegrationStatusChanged` event) in the outbox, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Origin
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.provisioning import IntegrationError, Operation


@dataclass(frozen=True)
class InstanceUpdate:
    """What a transition records about the Evolution instance: set these (None keeps the stored value), or clear
    it all because the instance is gone."""

    name: str | None = None
    instance_id: str | None = None
    state: str | None = None
    checked_at: datetime | None = None
    clear: bool = False


KEEP_INSTANCE = InstanceUpdate()
CLEAR_INSTANCE = InstanceUpdate(clear=True)
# The instance is expected (its name stays, so a repair re-creates it) but Evolution has none: not "open".
REMOVED_STATE = "removed"


@dataclass(frozen=True)
class Transition:
    """Move to `to` for `reason`, on behalf of `origin`.

    - `allowed_from`: the statuses the stored row may be in for the move to happen (None: exactly the status the
      caller read). A request that read the row outside the transaction passes every status the lifecycle allows.
    - `expected_version`: also require the stored version (the caller decided on what it read at that version).
    - `lease_owner`: also require that this worker still holds the integration's provisioning lease.
    - `operation`: the pending operation to record; when `send` is true, also queue it for the provisioner.
    """

    to: IntegrationStatus
    reason: str
    origin: Origin
    audit: AuditEntry
    error: IntegrationError | None = None
    operation: Operation | None = None
    send: bool = False
    instance: InstanceUpdate = KEEP_INSTANCE
    allowed_from: frozenset[IntegrationStatus] | None = None
    expected_version: int | None = None
    lease_owner: str | None = None
    extra_events: tuple[tuple[str, dict[str, object]], ...] = field(default=())
