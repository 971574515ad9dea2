"""What the API does when a tenant clicks Connect or Disconnect: one conditional transition, then one message."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from whatsapp_integrations.adapters import audit_log, integrations_repository
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import IntegrationNotFound, InvalidState, QueueUnavailable
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.lifecycle import IntegrationStatus, sources_of
from whatsapp_integrations.domain.provisioning import Operation, ProvisioningMessage, instance_name_for
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services

S = IntegrationStatus


@dataclass(frozen=True)
class Requested:
    integration: Integration
    accepted: bool  # True: work was queued or is under way (202); False: nothing to do (200)


def request_connect(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    current = _read(caller, integration_id, services)
    if current.status in (S.CONNECTED, S.CONNECTING):
        return Requested(current, accepted=current.status == S.CONNECTING)
    return _move_and_queue(
        caller,
        current,
        S.CONNECTING,
        Operation.CONNECT,
        "connect requested",
        services,
        evolution={"instance_name": instance_name_for(current.id)},
    )


def request_disconnect(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    current = _read(caller, integration_id, services)
    if current.status in (S.VALIDATED, S.DISCONNECTED, S.DISCONNECTING):
        return Requested(current, accepted=current.status == S.DISCONNECTING)
    return _move_and_queue(caller, current, S.DISCONNECTING, Operation.DISCONNECT, "disconnect requested", services)


def request_reprovision(caller: Caller, integration: Integration, services: Services) -> Integration:
    """Evolution v2 cannot change an instance's token or number: re-create the instance with the new credentials."""
    requested = _move_and_queue(
        caller,
        integration,
        S.CONNECTING,
        Operation.REPROVISION,
        "credentials changed: re-provisioning (Evolution cannot change an instance token)",
        services,
    )
    return requested.integration


def request_delete(caller: Caller, integration_id: UUID, services: Services) -> Requested:
    """Deprovision first when an Evolution instance may exist; the worker removes the row afterwards."""
    current = _read(caller, integration_id, services)
    if current.status == S.DISCONNECTING:
        marked = services.database.in_transaction(
            lambda session: integrations_repository.set_pending_operation(session, current, Operation.DELETE.value)
        )
        return Requested(marked or _read(caller, integration_id, services), accepted=True)
    return _move_and_queue(caller, current, S.DISCONNECTING, Operation.DELETE, "delete requested", services)


def _read(caller: Caller, integration_id: UUID, services: Services) -> Integration:
    found = services.database.in_transaction(
        lambda session: integrations_repository.get(session, caller.tenant_id, integration_id)
    )
    if found is None:
        raise IntegrationNotFound()
    return found


def _move_and_queue(
    caller: Caller,
    current: Integration,
    target: IntegrationStatus,
    operation: Operation,
    reason: str,
    services: Services,
    evolution: dict[str, str] | None = None,
) -> Requested:
    correlation_id = caller.request_id or ""

    def move(session: Session) -> Integration | None:
        moved = integrations_repository.transition(
            session,
            current,
            allowed_from=sources_of(target),
            to=target,
            reason=reason,
            correlation_id=correlation_id,
            pending_operation=operation.value,
            evolution=evolution,
        )
        if moved is not None:
            audit_log.record(
                session,
                tenant_id=caller.tenant_id,
                integration_id=current.id,
                actor=caller.actor,
                action=f"integration.{operation.value}_requested",
                request_id=caller.request_id,
                details={"from_status": current.status.value, "to_status": target.value},
            )
        return moved

    moved = services.database.in_transaction(move)
    if moved is None:
        latest = _read(caller, current.id, services)
        if latest.status == target:
            return Requested(latest, accepted=True)  # a concurrent request got there first
        raise InvalidState(operation.value, latest.status.value)
    message = ProvisioningMessage(caller.tenant_id, current.id, operation, correlation_id)
    try:
        services.queue.send(message)
    except Exception as error:
        logger.error("could not queue provisioning", extra={"error_type": type(error).__name__})
        services.database.in_transaction(
            lambda session: integrations_repository.transition(
                session,
                moved,
                allowed_from=frozenset({target}),
                to=current.status,
                reason=f"{operation.value} could not be queued",
                correlation_id=correlation_id,
                evolution={"clear": True} if operation == Operation.CONNECT else None,
            )
        )
        raise QueueUnavailable() from None
    return Requested(moved, accepted=True)
