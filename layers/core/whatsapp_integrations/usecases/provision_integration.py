"""The provisioning worker: make Evolution and Meta match what the tenant asked for, one idempotent step at a time.

Every step may run again (a redelivered message, a retry after a lost response), so each one first looks at what
is already there.
"""

from __future__ import annotations

import hashlib
import secrets as token_generator
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from whatsapp_integrations.adapters import audit_log, integrations_repository
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.adapters.evolution_client import (
    WEBHOOK_EVENTS,
    EvolutionClient,
    EvolutionError,
    EvolutionUnavailable,
    WebhookConfig,
)
from whatsapp_integrations.adapters.graph_client import GraphError, GraphUnreachable
from whatsapp_integrations.adapters.integrations_repository import StoredSecrets
from whatsapp_integrations.adapters.secret_cipher import SecretContext
from whatsapp_integrations.domain.credentials import token_hmac
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.provisioning import (
    WEBHOOK_SECRET_HEADER,
    IntegrationError,
    Operation,
    PermanentFailure,
    ProvisioningMessage,
    TransientFailure,
    instance_name_for,
    provisioning_error,
)
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.graph_failures import classify_graph_error
from whatsapp_integrations.usecases.secrets_storage import decrypt_access_token, decrypt_app_secret

S = IntegrationStatus
_EXPECTED_STATUS = {
    Operation.CONNECT: S.CONNECTING,
    Operation.REPROVISION: S.CONNECTING,
    Operation.DISCONNECT: S.DISCONNECTING,
    Operation.DELETE: S.DISCONNECTING,
}
_SYSTEM_ACTOR = "system:provisioner"


@dataclass(frozen=True)
class Work:
    integration: Integration
    secrets: StoredSecrets
    message: ProvisioningMessage


def provision(message: ProvisioningMessage, services: Services, *, attempt: int) -> None:
    """Carry out one queued operation. Raises TransientFailure when a later attempt may succeed; on the last
    attempt the integration is first moved to `error`, so nothing waits in `connecting` forever."""
    try:
        _provision(message, services, attempt)
    except TransientFailure as transient:
        _give_up_on_last_attempt(message, services, attempt, transient.error)
        raise
    except Exception as error:  # KMS, database, Secrets Manager: retried like any other transient failure
        logger.exception("provisioning interrupted", extra={"error_type": type(error).__name__})
        interrupted = provisioning_error("provisioning_interrupted", type(error).__name__)
        _give_up_on_last_attempt(message, services, attempt, interrupted)
        raise TransientFailure(interrupted) from None


def _provision(message: ProvisioningMessage, services: Services, attempt: int) -> None:
    with _exclusive(services, message):
        work = _load(message, services)
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


def _give_up_on_last_attempt(
    message: ProvisioningMessage, services: Services, attempt: int, last_error: IntegrationError
) -> None:
    if attempt < services.settings.provisioning_max_attempts:
        return
    error = provisioning_error("provisioning_retries_exhausted", f"Last error: {last_error.message}")
    try:
        work = _load(message, services)
        if work is not None:
            _fail(work, services, error)
    except Exception as failure:  # the message still goes to the dead-letter queue; a status sync retries later
        logger.error("could not record the failure", extra={"error_type": type(failure).__name__})


@contextmanager
def _exclusive(services: Services, message: ProvisioningMessage) -> Iterator[None]:
    """One worker at a time per integration, so a disconnect cannot interleave with a connect still running."""
    key = f"provisioning:{message.integration_id}"
    locked = services.database.in_transaction(
        lambda session: session.fetch_one("SELECT pg_try_advisory_lock(hashtext(:key)) AS locked", key=key)
    )
    if not (locked and locked["locked"]):
        raise TransientFailure(provisioning_error("evolution_unavailable", "Another operation is running."))
    try:
        yield
    finally:
        services.database.in_transaction(
            lambda session: session.execute("SELECT pg_advisory_unlock(hashtext(:key))", key=key)
        )


def _load(message: ProvisioningMessage, services: Services) -> Work | None:
    found = services.database.in_transaction(
        lambda session: integrations_repository.get_for_update(session, message.tenant_id, message.integration_id)
    )
    if found is None:
        logger.info("integration gone; nothing to do")
        return None
    integration, secrets = found
    if integration.status != _EXPECTED_STATUS[message.operation]:
        logger.info("stale message; nothing to do", extra={"status": integration.status.value})
        return None
    return Work(integration, secrets, message)


def _connect(work: Work, services: Services) -> None:
    integration, settings = work.integration, services.settings
    token = decrypt_access_token(services.cipher, integration.tenant_id, integration.id, work.secrets)
    app_secret = decrypt_app_secret(services.cipher, integration.tenant_id, integration.id, work.secrets)
    if settings.webhook_hmac_key_secret_arn:
        keyed_hash = token_hmac(services.webhook_hmac_key(), token)
        services.database.in_transaction(
            lambda session: integrations_repository.store_token_hmac(
                session, integration.tenant_id, integration.id, keyed_hash
            )
        )
    webhook = webhook_config(settings.evolution_webhook_url, _webhook_secret(work, services))
    name = instance_name_for(integration.id)
    evolution = services.evolution()
    with _evolution_failures():
        if work.message.operation == Operation.REPROVISION:
            evolution.delete_instance(name)
        instance_id = _create_or_adopt(evolution, name, token, integration, webhook)
    _subscribe_waba(services, integration, token, app_secret)
    with _evolution_failures():
        state = _read_back(evolution, name, webhook)
    reason = (
        "re-provisioned after a credentials change (Evolution cannot change an instance token)"
        if work.message.operation == Operation.REPROVISION
        else "provisioned"
    )
    _finish(
        work,
        services,
        S.CONNECTED,
        reason,
        "integration.connected",
        evolution={"instance_name": name, "instance_id": instance_id, "state": state, "checked_at": services.clock()},
    )


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


def webhook_config(url: object, secret: str) -> WebhookConfig:
    """What every instance of ours must have: our URL, its secret header, and exactly the events we consume."""
    return WebhookConfig(url=str(url), headers={WEBHOOK_SECRET_HEADER: secret}, events=WEBHOOK_EVENTS)


def webhook_matches(found: WebhookConfig | None, wanted: WebhookConfig) -> bool:
    return (
        found is not None
        and found.enabled
        and found.url == wanted.url
        and set(found.events) == set(wanted.events)
        and found.by_events == wanted.by_events
        and found.headers.get(WEBHOOK_SECRET_HEADER) == wanted.headers[WEBHOOK_SECRET_HEADER]
    )


def _subscribe_waba(services: Services, integration: Integration, token: str, app_secret: str | None) -> None:
    try:
        services.graph.subscribe_app(integration.waba_id, token, app_secret)
    except GraphUnreachable:
        raise TransientFailure(provisioning_error("meta_unreachable")) from None
    except GraphError as error:
        failure, advice = classify_graph_error(error, services.clock())
        if advice.retryable:
            raise TransientFailure(failure, advice.retry_after_seconds) from None
        raise PermanentFailure(failure, reauth_required=advice.reauth_required) from None


def _deprovision(work: Work, services: Services) -> None:
    """Delete the Evolution instance (already gone counts as done). We set no webhook override on Meta's side,
    so there is nothing to undo there, and the phone number is never deregistered."""
    with _evolution_failures():
        services.evolution().delete_instance(instance_name_for(work.integration.id))
    integration = work.integration
    # Read again under the row lock: a DELETE may have arrived while the instance was being removed.
    found = services.database.in_transaction(
        lambda session: integrations_repository.get_for_update(session, integration.tenant_id, integration.id)
    )
    if found is None:
        return
    latest = Work(found[0], found[1], work.message)
    if latest.integration.pending_operation == Operation.DELETE.value or work.message.operation == Operation.DELETE:
        _remove(latest, services)
    else:
        _finish(
            latest, services, S.DISCONNECTED, "deprovisioned", "integration.disconnected", evolution={"clear": True}
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


def _webhook_secret(work: Work, services: Services) -> str:
    """The per-integration secret Evolution sends back in a header. Only its hash is used to check webhooks;
    the KMS ciphertext exists so the same secret can be set again when repairing."""
    integration, context = (
        work.integration,
        SecretContext(work.integration.tenant_id, work.integration.id, "webhook_secret"),
    )
    if work.secrets.webhook_secret_ciphertext is not None:
        return services.cipher.decrypt(work.secrets.webhook_secret_ciphertext, context, work.secrets.kms_key_id)
    secret = token_generator.token_urlsafe(32)
    ciphertext = services.cipher.encrypt(secret, context)
    services.database.in_transaction(
        lambda session: integrations_repository.store_webhook_secret(
            session, integration.tenant_id, integration.id, hashlib.sha256(secret.encode()).hexdigest(), ciphertext
        )
    )
    return secret


def _finish(
    work: Work,
    services: Services,
    target: IntegrationStatus,
    reason: str,
    action: str,
    evolution: dict[str, object],
) -> None:
    def finish(session: Session) -> None:
        moved = integrations_repository.transition(
            session,
            work.integration,
            allowed_from=frozenset({work.integration.status}),
            to=target,
            reason=reason,
            correlation_id=work.message.correlation_id,
            evolution=evolution,
        )
        if moved is None:
            logger.info("status changed meanwhile; result not recorded")
            return
        logger.info("provisioning done", extra={"status": target.value})
        audit_log.record(
            session,
            tenant_id=moved.tenant_id,
            integration_id=moved.id,
            actor=_SYSTEM_ACTOR,
            action=action,
            request_id=work.message.correlation_id,
            details={"status": target.value, "reason": reason},
        )

    services.database.in_transaction(finish)


def _remove(work: Work, services: Services) -> None:
    integration = work.integration

    def remove(session: Session) -> None:
        integrations_repository.transition(
            session,
            integration,
            allowed_from=frozenset({S.DISCONNECTING}),
            to=S.DISCONNECTED,
            reason="deprovisioned for delete",
            correlation_id=work.message.correlation_id,
            evolution={"clear": True},
        )
        if integrations_repository.soft_delete(session, integration.tenant_id, integration.id):
            audit_log.record(
                session,
                tenant_id=integration.tenant_id,
                integration_id=integration.id,
                actor=_SYSTEM_ACTOR,
                action="integration.deleted",
                request_id=work.message.correlation_id,
                details={"phone_number_id": integration.phone_number_id},
            )

    services.database.in_transaction(remove)


def _fail(work: Work, services: Services, error: IntegrationError, *, reauth_required: bool = False) -> None:
    target = S.REAUTH_REQUIRED if reauth_required else S.ERROR
    logger.warning("provisioning failed", extra={"error_code": error.code, "to_status": target.value})

    def fail(session: Session) -> None:
        moved = integrations_repository.transition(
            session,
            work.integration,
            allowed_from=frozenset({work.integration.status}),
            to=target,
            reason=f"{work.message.operation.value} failed: {error.code}",
            correlation_id=work.message.correlation_id,
            error=error,
        )
        if moved is not None:
            audit_log.record(
                session,
                tenant_id=moved.tenant_id,
                integration_id=moved.id,
                actor=_SYSTEM_ACTOR,
                action=f"integration.{work.message.operation.value}_failed",
                request_id=work.message.correlation_id,
                details={"error_code": error.code},
            )

    services.database.in_transaction(fail)
