"""The provisioning worker: make Evolution and Meta match what the tenant asked for, one idempotent step at a time.

Every step may run again (a redelivered message, a retry after a lost response), so each one first looks at what
is already there. One worker at a time works on an integration: it holds the integration's lease (a row column
with an owner and an expiry longer than the worker's timeout), and every write it makes requires that it still
holds it, so a worker that lost its lease changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import uuid4

from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.adapters.evolution_client import EvolutionClient, EvolutionError, EvolutionUnavailable
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Origin
from whatsapp_integrations.domain.credentials import token_hmac
from whatsapp_integrations.domain.evolution_instance import WebhookConfig, instance_name_for, webhook_matches
from whatsapp_integrations.domain.integration import Integration, StoredSecrets
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.provisioning import (
    IntegrationError,
    Operation,
    PermanentFailure,
    ProvisioningMessage,
    TransientFailure,
    provisioning_error,
)
from whatsapp_integrations.domain.state_change import CLEAR_INSTANCE, KEEP_INSTANCE, InstanceUpdate, Transition
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.graph_failures import graph_failures
from whatsapp_integrations.usecases.meta_webhook_wiring import unwire, wire
from whatsapp_integrations.usecases.secrets_storage import decrypt_access_token, decrypt_app_secret
from whatsapp_integrations.usecases.state_changes import Changes, in_one_transaction
from whatsapp_integrations.usecases.webhook_secrets import WebhookSecrets, secrets_for_connect

S = IntegrationStatus
_EXPECTED_STATUS = {
    Operation.CONNECT: S.CONNECTING,
    Operation.REPROVISION: S.CONNECTING,
    Operation.DISCONNECT: S.DISCONNECTING,
    Operation.DELETE: S.DISCONNECTING,
}
_ACTOR = "system:provisioner"
# Longer than the provisioner's timeout (60 s), so a lease only lapses when its worker is gone.
LEASE_SECONDS = 180


class LeaseLost(Exception):
    """Another worker took over this integration (our lease had expired): stop without changing anything."""


@dataclass(frozen=True)
class Work:
    integration: Integration
    secrets: StoredSecrets
    message: ProvisioningMessage
    lease_owner: str

    @property
    def origin(self) -> Origin:
        return Origin(_ACTOR, self.message.correlation_id or None)


def provision(message: ProvisioningMessage, services: Services, *, attempt: int) -> None:
    """Carry out one queued operation. Raises TransientFailure when a later attempt may succeed; on the last
    attempt the integration is first moved to `error`, so nothing waits in `connecting` forever."""
    owner = f"provisioner:{uuid4()}"
    if not _acquire_lease(services, message, owner):
        return
    try:
        _provision(message, services, attempt, owner)
    except LeaseLost:
        logger.warning("lease lost to another worker; stopping without changes")
    except TransientFailure as transient:
        _give_up_on_last_attempt(message, services, attempt, owner, transient.error)
        raise
    except Exception as error:  # KMS, database, Secrets Manager: retried like any other transient failure
        logger.exception("provisioning interrupted", extra={"error_type": type(error).__name__})
        interrupted = provisioning_error("provisioning_interrupted", type(error).__name__)
        _give_up_on_last_attempt(message, services, attempt, owner, interrupted)
        raise TransientFailure(interrupted) from None
    finally:
        services.database.autocommit(
            lambda session: integrations_repository.release_lease(
                session, message.tenant_id, message.integration_id, owner
            )
        )


def _provision(message: ProvisioningMessage, services: Services, attempt: int, owner: str) -> None:
    work = _load(message, services, owner)
    if work is None:
        return
    logger.info("provisioning", extra={"attempt": attempt, "status": work.integration.status.value})
    try:
        if message.operation in (Operation.CONNECT, Operation.REPROVISION):
            _connect(work, services)
        else:
            _deprovision(work, services)
    except PermanentFailure as failure:
        _fail(work, services, failure.error, reauth_required=failure.reauth_required)


def _acquire_lease(services: Services, message: ProvisioningMessage, owner: str) -> bool:
    """Hold the integration for this run. False: it is gone (nothing to do); another worker holding it makes
    this attempt a transient failure."""
    tenant_id, integration_id = message.tenant_id, message.integration_id
    if services.database.autocommit(
        lambda session: integrations_repository.acquire_lease(session, tenant_id, integration_id, owner, LEASE_SECONDS)
    ):
        return True
    if services.database.autocommit(lambda session: integrations_repository.get(session, tenant_id, integration_id)):
        raise TransientFailure(provisioning_error("evolution_unavailable", "Another operation is running."))
    logger.info("integration gone; nothing to do")
    return False


def _give_up_on_last_attempt(
    message: ProvisioningMessage, services: Services, attempt: int, owner: str, last_error: IntegrationError
) -> None:
    if not services.settings.provisioning_retry.is_last(attempt):
        return
    error = _given_up(last_error, attempt)
    try:
        work = _load(message, services, owner)
        if work is not None:
            _fail(work, services, error)
    except Exception as failure:  # the message still goes to the dead-letter queue; a status sync retries later
        logger.error("could not record the failure", extra={"error_type": type(failure).__name__})


def _given_up(last_error: IntegrationError, attempts: int) -> IntegrationError:
    """Meta's own reason (a rate limit, a failed callback handshake) tells the tenant most; a transport problem of
    ours is summed up as retries exhausted."""
    if last_error.meta_code is not None:
        return last_error.model_copy(update={"message": f"{last_error.message} Gave up after {attempts} attempts."})
    return provisioning_error("provisioning_retries_exhausted", f"Last error: {last_error.message}")


def _load(message: ProvisioningMessage, services: Services, owner: str) -> Work | None:
    found = services.database.autocommit(
        lambda session: integrations_repository.get_with_secrets(session, message.tenant_id, message.integration_id)
    )
    if found is None:
        logger.info("integration gone; nothing to do")
        return None
    integration, secrets = found
    if integration.status != _EXPECTED_STATUS[message.operation]:
        logger.info("stale message; nothing to do", extra={"status": integration.status.value})
        return None
    return Work(integration, secrets, message, owner)


def _connect(work: Work, services: Services) -> None:
    integration, settings = work.integration, services.settings
    token = decrypt_access_token(services.cipher, integration.tenant_id, integration.id, work.secrets)
    app_secret = decrypt_app_secret(services.cipher, integration.tenant_id, integration.id, work.secrets)
    if settings.webhook_hmac_key_secret_arn:
        keyed_hash = token_hmac(services.webhook_hmac_key(), token)
        _require_lease(
            services.database.autocommit(
                lambda session: integrations_repository.store_token_hmac(
                    session, integration.tenant_id, integration.id, keyed_hash, work.lease_owner
                )
            )
        )
    secrets = _require_lease_value(
        secrets_for_connect(services, work.integration, work.secrets, work.message, work.lease_owner)
    )
    webhook = secrets.evolution_webhook
    name = instance_name_for(integration.id)
    evolution = services.evolution()
    with _evolution_failures():
        if work.message.operation == Operation.REPROVISION:
            evolution.delete_instance(name)
        instance_id = _create_or_adopt(evolution, name, token, integration, webhook)
    with graph_failures(services.clock):
        services.graph.subscribe_app(integration.waba_id, token, app_secret)
    _wire_meta_webhooks(work, services, token, app_secret, secrets)
    with _evolution_failures():
        state = _read_back(evolution, name, webhook)
    reason = (
        "re-provisioned after a credentials change (Evolution cannot change an instance token)"
        if work.message.operation == Operation.REPROVISION
        else "provisioned"
    )
    instance = InstanceUpdate(name=name, instance_id=instance_id, state=state, checked_at=services.clock())
    _finish(work, services, S.CONNECTED, reason, "integration.connected", instance)


def _create_or_adopt(
    evolution: EvolutionClient, name: str, token: str, integration: Integration, webhook: WebhookConfig
) -> str | None:
    try:
        created = evolution.create_instance(
            name=name,
            meta_token=token,
            phone_number_id=integration.phone_number_id,
            waba_id=integration.waba_id,
            webhook=webhook,
        )
        return created.instance_id
    except EvolutionError as error:
        if not error.name_in_use:
            raise
    # An earlier attempt created it and its answer was lost: adopt it, but only if it serves our number.
    existing = evolution.fetch_instance(name)
    if existing is None:
        raise TransientFailure(provisioning_error("evolution_unavailable", "The instance vanished while adopting."))
    if existing.number != integration.phone_number_id:
        raise PermanentFailure(provisioning_error("evolution_instance_conflict"))
    evolution.set_webhook(name, webhook)
    return existing.instance_id


def _read_back(evolution: EvolutionClient, name: str, webhook: WebhookConfig) -> str:
    if not webhook_matches(evolution.find_webhook(name), webhook):
        evolution.set_webhook(name, webhook)
        if not webhook_matches(evolution.find_webhook(name), webhook):
            raise TransientFailure(provisioning_error("webhook_mismatch"))
    state = evolution.connection_state(name)
    if state != "open":
        raise TransientFailure(provisioning_error("evolution_not_open", f"State: {state}."))
    return state


def _wire_meta_webhooks(
    work: Work, services: Services, token: str, app_secret: str | None, secrets: WebhookSecrets
) -> None:
    """Meta delivers this number's webhooks to our relay from now on. Connecting requires the app secret (it
    verifies Meta's signatures); an integration connected before that rule keeps Meta's delivery as it was."""
    integration = work.integration
    if app_secret is None or integration.app_id is None:
        logger.warning("no app secret: Meta's webhooks are not wired to the relay")
        return
    url = wire(services, integration, token, app_secret, secrets.meta_verify_token)
    _require_lease(
        services.database.autocommit(
            lambda session: integrations_repository.store_meta_callback_url(
                session, integration.tenant_id, integration.id, url, work.lease_owner
            )
        )
    )


def _deprovision(work: Work, services: Services) -> None:
    """Take back Meta's override and delete the Evolution instance (already gone counts as done). The app
    subscription stays (it may serve the tenant's other numbers) and the phone number is never deregistered."""
    _unwire_meta_webhooks(work, services)
    with _evolution_failures():
        services.evolution().delete_instance(instance_name_for(work.integration.id))
    # A DELETE may have arrived while the instance was being removed: it left its wish in pending_operation.
    latest = _load(work.message, services, work.lease_owner)
    if latest is None:
        return
    if latest.integration.pending_operation == Operation.DELETE.value or work.message.operation == Operation.DELETE:
        _remove(latest, services)
    else:
        _finish(latest, services, S.DISCONNECTED, "deprovisioned", "integration.disconnected", CLEAR_INSTANCE)


def _unwire_meta_webhooks(work: Work, services: Services) -> None:
    integration = work.integration
    if integration.meta_callback_url is None:
        return
    token = decrypt_access_token(services.cipher, integration.tenant_id, integration.id, work.secrets)
    app_secret = decrypt_app_secret(services.cipher, integration.tenant_id, integration.id, work.secrets)
    problem = unwire(services, integration, token, app_secret)
    if problem is not None:
        logger.warning("Meta's override could not be removed", extra={"error_code": problem.code})
    _require_lease(
        services.database.autocommit(
            lambda session: integrations_repository.store_meta_callback_url(
                session, integration.tenant_id, integration.id, None, work.lease_owner
            )
        )
    )


@contextmanager
def _evolution_failures() -> Iterator[None]:
    try:
        yield
    except EvolutionUnavailable as error:
        raise TransientFailure(
            provisioning_error("evolution_unavailable", f"HTTP {error.status or 'no answer'}.")
        ) from None
    except EvolutionError as error:
        code = "evolution_unauthorized" if error.unauthorized else "evolution_rejected"
        raise PermanentFailure(provisioning_error(code, "; ".join(error.messages)[:300])) from None


def _transition(
    work: Work,
    target: IntegrationStatus,
    reason: str,
    action: str,
    *,
    error: IntegrationError | None = None,
    instance: InstanceUpdate = KEEP_INSTANCE,
) -> Transition:
    return Transition(
        to=target,
        reason=reason,
        origin=work.origin,
        audit=AuditEntry(action),
        error=error,
        instance=instance,
        lease_owner=work.lease_owner,
    )


def _finish(
    work: Work, services: Services, target: IntegrationStatus, reason: str, action: str, instance: InstanceUpdate
) -> None:
    moved = in_one_transaction(
        services,
        lambda changes: changes.transition(
            work.integration, _transition(work, target, reason, action, instance=instance)
        ),
    )
    if moved is None:
        _raise_if_lease_lost(work, services)
        logger.info("status changed meanwhile; result not recorded")
        return
    logger.info("provisioning done", extra={"status": target.value})


def _remove(work: Work, services: Services) -> None:
    integration = work.integration

    def remove(changes: Changes) -> Integration | None:
        moved = changes.transition(
            integration,
            _transition(
                work, S.DISCONNECTED, "deprovisioned for delete", "integration.deprovisioned", instance=CLEAR_INSTANCE
            ),
        )
        if moved is not None and integrations_repository.soft_delete(
            changes.session, integration.tenant_id, integration.id
        ):
            changes.audit(
                moved,
                work.origin,
                AuditEntry("integration.deleted", details={"phone_number_id": moved.phone_number_id}),
            )
        return moved

    if in_one_transaction(services, remove) is None:
        _raise_if_lease_lost(work, services)


def _fail(work: Work, services: Services, error: IntegrationError, *, reauth_required: bool = False) -> None:
    target = S.REAUTH_REQUIRED if reauth_required else S.ERROR
    logger.warning("provisioning failed", extra={"error_code": error.code, "to_status": target.value})
    operation = work.message.operation.value
    moved = in_one_transaction(
        services,
        lambda changes: changes.transition(
            work.integration,
            _transition(
                work, target, f"{operation} failed: {error.code}", f"integration.{operation}_failed", error=error
            ),
        ),
    )
    if moved is None:
        _raise_if_lease_lost(work, services)


def _raise_if_lease_lost(work: Work, services: Services) -> None:
    holder = services.database.autocommit(
        lambda session: integrations_repository.lease_owner(session, work.integration.tenant_id, work.integration.id)
    )
    if holder != work.lease_owner:
        raise LeaseLost()


def _require_lease(written: bool) -> None:
    if not written:
        raise LeaseLost()


def _require_lease_value(value: WebhookSecrets | None) -> WebhookSecrets:
    if value is None:
        raise LeaseLost()
    return value
