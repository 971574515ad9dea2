"""What the API does when a tenant clicks Connect or Disconnect, or deletes a provisioned integration: one
transition that also queues the provisioning request (through the outbox, in the same transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository, webhook_store
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import AppSecretRequired, IntegrationNotFound, InvalidState
from whatsapp_integrations.domain.evolution_instance import instance_name_for
from whatsapp_integrations.domain.integration import Integration, WebhookActivity
from whatsapp_integrations.domain.lifecycle import IntegrationStatus, sources_of
from whatsapp_integrations.domain.provisioning import Operation
from whatsapp_integrations.domain.state_change import KEEP_INSTANCE, InstanceUpdate, Transition
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.state_changes import Changes, in_one_transaction

S = IntegrationStatus


@dataclass(frozen=True)
class Requested:
    integration: Integration
    accepted: bool  # True: work was queued or is under way (202); False: nothing to do (200)
    activity: WebhookActivity = field(default_factory=WebhookActivity)  # shown as GET status shows it


def request_connect(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    return _with_activity(_request_connect(caller, integration_id, services), services)


def request_disconnect(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    return _with_activity(_request_disconnect(caller, integration_id, services), services)


def request_delete(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    """Deprovision first when an Evolution instance may exist; the worker removes the row afterwards."""
    return _with_activity(_request_delete(caller, integration_id, services), services)


def _with_activity(requested: Requested, services: Services) -> Requested:
    activity = services.database.autocommit(lambda session: webhook_store.activity(session, requested.integration.id))
    return replace(requested, activity=activity)


def _request_connect(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    current = read_integration(caller, integration_id, services)
    if current.status in (S.CONNECTED, S.CONNECTING):
        return Requested(current, accepted=current.status == S.CONNECTING)
    if not current.has_app_secret or current.app_id is None:
        raise AppSecretRequired()
    return _move(
        caller,
        current,
        S.CONNECTING,
        Operation.CONNECT,
        "connect requested",
        services,
        instance=InstanceUpdate(name=instance_name_for(current.id)),
    )


def _request_disconnect(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    current = read_integration(caller, integration_id, services)
    if current.status in (S.VALIDATED, S.DISCONNECTED, S.DISCONNECTING):
        return Requested(current, accepted=current.status == S.DISCONNECTING)
    return _move(caller, current, S.DISCONNECTING, Operation.DISCONNECT, "disconnect requested", services)


def reprovision(caller: Caller) -> Transition:
    """Evolution v2 cannot change an instance's token or number: re-create the instance with the new credentials."""
    return Transition(
        to=S.CONNECTING,
        reason="credentials changed: re-provisioning (Evolution cannot change an instance token)",
        origin=caller.origin,
        audit=AuditEntry("integration.reprovision_requested"),
        operation=Operation.REPROVISION,
        send=True,
    )


def _request_delete(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    current = read_integration(caller, integration_id, services)
    if current.status != S.DISCONNECTING:
        return _move(caller, current, S.DISCONNECTING, Operation.DELETE, "delete requested", services)

    def remember(changes: Changes) -> Integration | None:
        # The running disconnect reads this when it ends and removes the row instead of keeping it.
        marked = integrations_repository.set_pending_operation(changes.session, current, Operation.DELETE.value)
        if marked is not None:
            changes.audit(
                marked, caller.origin, AuditEntry("integration.delete_requested", details={"during": "disconnect"})
            )
        return marked

    marked = in_one_transaction(services, remember)
    return Requested(marked or read_integration(caller, integration_id, services), accepted=True)


def read_integration(caller: Caller, integration_id: UUID, services: Services) -> Integration:
    found = services.database.autocommit(
        lambda session: integrations_repository.get(session, caller.tenant_id, integration_id)
    )
    if found is None:
        raise IntegrationNotFound()
    return found


def _move(
    caller: Caller,
    current: Integration,
    target: IntegrationStatus,
    operation: Operation,
    reason: str,
    services: Services,
    instance: InstanceUpdate = KEEP_INSTANCE,
) -> Requested:
    transition = Transition(
        to=target,
        reason=reason,
        origin=caller.origin,
        audit=AuditEntry(f"integration.{operation.value}_requested"),
        operation=operation,
        send=True,
        instance=instance,
        # The read above was outside this transaction: move from whatever status allows it now.
        allowed_from=sources_of(target),
    )
    moved = in_one_transaction(services, lambda changes: changes.transition(current, transition))
    if moved is not None:
        return Requested(moved, accepted=True)
    latest = read_integration(caller, current.id, services)
    if latest.status == target:
        return Requested(latest, accepted=True)  # a concurrent request got there first
    raise InvalidState(operation.value, latest.status.value)
