"""The one owner of every state change.

A use case describes what changes (a `Transition`, an audit entry, a domain event, a provisioning request) and
hands it to `Changes` inside `in_one_transaction`: the lifecycle is checked, the status row, its history row and
its audit row are written, and every message the change causes goes to the outbox, all in one transaction.
Right after the commit the same invocation sends what was written (`outbox_dispatch.dispatch`); whatever that
could not send, the scheduled sweeper sends later. Nothing is sent for a change that was rolled back, and nothing
a committed change caused can be lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from whatsapp_integrations.adapters import audit_log, integrations_repository, outbox
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Origin
from whatsapp_integrations.domain.events import DomainEvent, IntegrationStatusChanged
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.lifecycle import can_transition
from whatsapp_integrations.domain.outbox import OutboxEntry, OutgoingMessage, domain_event, provisioning_request
from whatsapp_integrations.domain.provisioning import ProvisioningMessage
from whatsapp_integrations.domain.state_change import Transition
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.outbox_dispatch import dispatch

T = TypeVar("T")


class Changes:
    """The state changes of one transaction, and the messages they will send."""

    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.clock = services.clock
        self._services = services
        self.outgoing: list[OutgoingMessage] = []

    def transition(self, integration: Integration, transition: Transition) -> Integration | None:
        """Carry out `transition` when the lifecycle allows it and the stored row still qualifies; None otherwise
        (nothing written). Writes the status, the history row, the audit row, the status event and, when asked,
        the provisioning request."""
        candidates = transition.allowed_from if transition.allowed_from is not None else {integration.status}
        allowed = frozenset(status for status in candidates if can_transition(status, transition.to))
        if not allowed:
            return None
        result = integrations_repository.transition(
            self.session,
            integration,
            allowed_from=allowed,
            to=transition.to,
            reason=transition.reason,
            correlation_id=transition.origin.request_id,
            error=transition.error,
            pending_operation=transition.operation.value if transition.operation else None,
            instance=transition.instance,
            expected_version=transition.expected_version,
            lease_owner=transition.lease_owner,
        )
        if result is None:
            return None
        moved, from_status = result
        error_code = transition.error.code if transition.error else None
        self.audit(
            moved,
            transition.origin,
            AuditEntry(
                transition.audit.action,
                transition.audit.changed_fields,
                {
                    "from_status": from_status.value,
                    "to_status": moved.status.value,
                    "reason": transition.reason,
                    **({"error_code": error_code} if error_code else {}),
                    **transition.audit.details,
                },
            ),
        )
        if transition.send and transition.operation is not None:
            self.send(
                ProvisioningMessage(moved.tenant_id, moved.id, transition.operation, transition.origin.request_id or "")
            )
        self.publish(
            IntegrationStatusChanged(
                integration_id=moved.id,
                tenant_id=moved.tenant_id,
                from_status=from_status.value,
                to_status=moved.status.value,
                reason=transition.reason,
                error_code=error_code,
                correlation_id=transition.origin.request_id,
                occurred_at=moved.status_changed_at,
            )
        )
        return moved

    def audit(self, integration: Integration, origin: Origin, entry: AuditEntry) -> None:
        audit_log.record(
            self.session, tenant_id=integration.tenant_id, integration_id=integration.id, origin=origin, entry=entry
        )

    def publish(self, event: DomainEvent) -> None:
        if self._services.publishes_events:
            self.outgoing.append(domain_event(event))

    def send(self, message: ProvisioningMessage) -> None:
        self.outgoing.append(provisioning_request(message))


def in_one_transaction(services: Services, work: Callable[[Changes], T]) -> T:
    """Run `work` in one transaction with its outbox writes; send what it wrote once it is committed."""
    written: list[OutboxEntry] = []

    def attempt(session: Session) -> T:
        changes = Changes(session, services)  # a retried attempt starts over
        result = work(changes)
        written[:] = outbox.add(session, changes.outgoing)
        return result

    result = services.database.in_transaction(attempt)
    dispatch(services, written)
    return result
