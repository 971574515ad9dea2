"""Check one integration against both sides and make what we show true.

Evolution's connection state of a business instance is always `open` and says nothing about Meta, so the status
comes from both: Evolution (the instance exists, serves our number, has our webhook config) and Meta (the phone
number's status, quality, name, limit and health). What can be repaired is repaired and audited; what cannot is
reported with its fix. A side that cannot be reached changes nothing (TransientFailure): no state is ever set
from a missing answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from whatsapp_integrations.adapters import audit_log, integrations_repository, rate_limiter
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.adapters.evolution_client import EvolutionError, EvolutionUnavailable
from whatsapp_integrations.adapters.graph_client import GraphError, GraphUnreachable
from whatsapp_integrations.adapters.integrations_repository import StoredSecrets
from whatsapp_integrations.adapters.secret_cipher import SecretContext
from whatsapp_integrations.domain.errors import RateLimited
from whatsapp_integrations.domain.integration import Integration, PhoneProfile
from whatsapp_integrations.domain.lifecycle import IntegrationStatus, can_transition
from whatsapp_integrations.domain.provisioning import (
    IntegrationError,
    Operation,
    ProvisioningMessage,
    TransientFailure,
    instance_name_for,
    provisioning_error,
)
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.graph_failures import classify_graph_error
from whatsapp_integrations.usecases.live_validation import phone_profile
from whatsapp_integrations.usecases.provision_integration import webhook_config, webhook_matches
from whatsapp_integrations.usecases.secrets_storage import decrypt_access_token, decrypt_app_secret

S = IntegrationStatus
_ACTOR = "system:status-sync"
# Profile fields whose change is worth an event of its own
_WATCHED = {
    "quality_rating": "PhoneQualityChanged",
    "can_send_message": "CanSendMessageChanged",
    "status": "PhoneStatusChanged",
    "name_status": "DisplayNameStatusChanged",
    "messaging_limit": "MessagingLimitChanged",
}


@dataclass
class CheckReport:
    integration: Integration | None
    changes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def sync_integration_status(
    tenant_id: str, integration_id: UUID, services: Services, *, correlation_id: str
) -> CheckReport:
    found = services.database.in_transaction(
        lambda session: integrations_repository.get_for_update(session, tenant_id, integration_id)
    )
    if found is None:
        return CheckReport(None)
    integration, secrets = found
    if integration.status == S.CONNECTING:
        return _retry_stuck_connect(integration, services, correlation_id)
    if integration.status not in (S.CONNECTED, S.ERROR, S.REAUTH_REQUIRED):
        return CheckReport(integration)
    report = CheckReport(integration)
    token = decrypt_access_token(services.cipher, tenant_id, integration_id, secrets)
    app_secret = decrypt_app_secret(services.cipher, tenant_id, integration_id, secrets)
    evolution_state, evolution_problem = _check_evolution(integration, secrets, services, report, correlation_id)
    profile, meta_problem = _check_meta(integration, token, app_secret, services)
    checked = services.database.in_transaction(
        lambda session: integrations_repository.record_check(
            session, integration, phone_profile=profile, evolution_state=evolution_state, checked_at=services.clock()
        )
    )
    if checked is None:
        return report
    _announce_profile_changes(integration, profile, services, report, correlation_id)
    report.integration = _settle(checked, evolution_problem, meta_problem, services, report, correlation_id)
    return report


def _retry_stuck_connect(integration: Integration, services: Services, correlation_id: str) -> CheckReport:
    """Past the retry budget and still connecting (its message was lost or dead-lettered): try once more."""
    services.queue.send(ProvisioningMessage(integration.tenant_id, integration.id, Operation.CONNECT, correlation_id))
    services.database.in_transaction(
        lambda session: audit_log.record(
            session,
            tenant_id=integration.tenant_id,
            integration_id=integration.id,
            actor=_ACTOR,
            action="status_sync.connect_retried",
            request_id=correlation_id,
            details={"connecting_since": integration.status_changed_at.isoformat()},
        )
    )
    return CheckReport(integration, changes=["connect retried"])


def _check_evolution(
    integration: Integration, secrets: StoredSecrets, services: Services, report: CheckReport, correlation_id: str
) -> tuple[str | None, IntegrationError | None]:
    name = instance_name_for(integration.id)
    try:
        evolution = services.evolution()
        instance = evolution.fetch_instance(name)
        if instance is None:
            return None, provisioning_error("instance_removed_outside")
        if instance.number != integration.phone_number_id:
            return None, provisioning_error("evolution_instance_conflict")
        if secrets.webhook_secret_ciphertext is not None:
            secret = services.cipher.decrypt(
                secrets.webhook_secret_ciphertext,
                SecretContext(integration.tenant_id, integration.id, "webhook_secret"),
                secrets.kms_key_id,
            )
            wanted = webhook_config(services.settings.evolution_webhook_url, secret)
            if not webhook_matches(evolution.find_webhook(name), wanted):
                evolution.set_webhook(name, wanted)
                report.repaired.append("webhook configuration")
                _audit(
                    services,
                    integration,
                    "status_sync.webhook_repaired",
                    correlation_id,
                    {"instance": name, "events": list(wanted.events)},
                )
        return evolution.connection_state(name), None
    except EvolutionUnavailable:
        raise TransientFailure(provisioning_error("evolution_unavailable")) from None
    except EvolutionError as error:
        code = "evolution_unauthorized" if error.unauthorized else "evolution_rejected"
        return None, provisioning_error(code, "; ".join(error.messages)[:300])


def _check_meta(
    integration: Integration, token: str, app_secret: str | None, services: Services
) -> tuple[PhoneProfile | None, tuple[IntegrationError, bool] | None]:
    """(profile, problem): the problem's flag says whether the fix is a new token."""
    try:
        services.database.in_transaction(
            lambda session: rate_limiter.take(
                session,
                tenant_id="system",
                bucket=f"waba:{integration.waba_id}",
                limit=services.settings.status_sync_meta_calls_per_waba_per_hour,
                now=services.clock(),
                window=timedelta(hours=1),
            )
        )
    except RateLimited:
        logger.info("Meta check skipped: this WABA's management-call budget is spent for the hour")
        return None, None
    try:
        answer = services.graph.phone_number(integration.phone_number_id, token, app_secret, with_health=True)
    except GraphUnreachable:
        raise TransientFailure(provisioning_error("meta_unreachable")) from None
    except GraphError as error:
        problem, advice = classify_graph_error(error, services.clock())
        if advice.retryable:
            raise TransientFailure(problem, advice.retry_after_seconds) from None
        return None, (problem, advice.reauth_required)
    return phone_profile(answer), None


def _announce_profile_changes(
    before: Integration, profile: PhoneProfile | None, services: Services, report: CheckReport, correlation_id: str
) -> None:
    if profile is None:
        return
    changed = {
        name: (getattr(before.phone_profile, name), getattr(profile, name))
        for name in _WATCHED
        if getattr(before.phone_profile, name) != getattr(profile, name)
    }
    if not changed:
        return
    for name, (old, new) in changed.items():
        report.changes.append(f"{name}: {old} -> {new}")
        services.publish(
            _WATCHED[name],
            {"tenant_id": before.tenant_id, "integration_id": str(before.id), "field": name, "from": old, "to": new},
        )
    _audit(
        services,
        before,
        "status_sync.phone_changed",
        correlation_id,
        {name: {"from": old, "to": new} for name, (old, new) in changed.items()},
    )


def _settle(
    integration: Integration,
    evolution_problem: IntegrationError | None,
    meta_problem: tuple[IntegrationError, bool] | None,
    services: Services,
    report: CheckReport,
    correlation_id: str,
) -> Integration:
    if meta_problem is not None:
        error, reauth = meta_problem
        return _move(integration, S.REAUTH_REQUIRED if reauth else S.ERROR, error, services, report, correlation_id)
    if evolution_problem is not None and evolution_problem.code == "instance_removed_outside":
        return _recreate_instance(integration, services, report, correlation_id)
    if evolution_problem is not None:
        return _move(integration, S.ERROR, evolution_problem, services, report, correlation_id)
    if integration.status != S.CONNECTED:
        return _move(integration, S.CONNECTED, None, services, report, correlation_id)
    return integration


def _recreate_instance(
    integration: Integration, services: Services, report: CheckReport, correlation_id: str
) -> Integration:
    """The instance vanished but we hold the credentials: provision it again (a repair, audited)."""
    moved = _move(
        integration,
        S.CONNECTING,
        provisioning_error("instance_removed_outside"),
        services,
        report,
        correlation_id,
        pending=Operation.CONNECT.value,
    )
    if moved.status == S.CONNECTING:
        services.queue.send(ProvisioningMessage(moved.tenant_id, moved.id, Operation.CONNECT, correlation_id))
        report.repaired.append("instance re-created")
    return moved


def _move(
    integration: Integration,
    target: IntegrationStatus,
    error: IntegrationError | None,
    services: Services,
    report: CheckReport,
    correlation_id: str,
    pending: str | None = None,
) -> Integration:
    if integration.status == target or not can_transition(integration.status, target):
        return integration
    reason = f"status sync: {error.code}" if error else "status sync: both sides healthy again"

    def move(session: Session) -> Integration | None:
        moved = integrations_repository.transition(
            session,
            integration,
            allowed_from=frozenset({integration.status}),
            to=target,
            reason=reason,
            correlation_id=correlation_id,
            error=error,
            pending_operation=pending,
        )
        if moved is not None:
            audit_log.record(
                session,
                tenant_id=integration.tenant_id,
                integration_id=integration.id,
                actor=_ACTOR,
                action="status_sync.status_changed",
                request_id=correlation_id,
                details={
                    "from": integration.status.value,
                    "to": target.value,
                    "error_code": error.code if error else None,
                },
            )
        return moved

    moved = services.database.in_transaction(move)
    if moved is None:
        return integration
    report.changes.append(f"status: {integration.status.value} -> {target.value}")
    services.publish(
        "IntegrationStatusChanged",
        {
            "tenant_id": integration.tenant_id,
            "integration_id": str(integration.id),
            "from": integration.status.value,
            "to": target.value,
            "error_code": error.code if error else None,
        },
    )
    return moved


def _audit(
    services: Services, integration: Integration, action: str, correlation_id: str, details: dict[str, object]
) -> None:
    services.database.in_transaction(
        lambda session: audit_log.record(
            session,
            tenant_id=integration.tenant_id,
            integration_id=integration.id,
            actor=_ACTOR,
            action=action,
            request_id=correlation_id,
            details=details,
        )
    )


def stuck_before(services: Services, now: datetime) -> datetime:
    """Connecting longer than the whole provisioning retry budget means the work was lost."""
    budget = services.settings.provisioning_retry_max_seconds * services.settings.provisioning_max_attempts
    return now - timedelta(seconds=budget)
