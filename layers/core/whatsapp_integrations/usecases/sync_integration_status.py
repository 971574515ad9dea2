"""Check one integration against both sides and make what we show true.

Evolution's connection state of a business instance is always `open` and says nothing about Meta, so the status
comes from both: Evolution (the instance exists, serves our number, has our webhook config) and Meta (the phone
number's status, quality, name, limit and health). What can be repaired is repaired and audited; what cannot is
reported with its fix. A side that cannot be reached changes nothing (TransientFailure): no state is ever set
from a missing answer. Everything the check learned is written in one transaction, and only if the integration
is still at the version the check started from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository, rate_limiter
from whatsapp_integrations.adapters.evolution_client import EvolutionError, EvolutionUnavailable
from whatsapp_integrations.adapters.graph_client import GraphError, GraphUnreachable
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Origin
from whatsapp_integrations.domain.errors import RateLimited
from whatsapp_integrations.domain.events import PHONE_PROFILE_EVENTS, PhoneProfileChanged
from whatsapp_integrations.domain.evolution_instance import instance_name_for, webhook_matches
from whatsapp_integrations.domain.integration import Integration, StoredSecrets
from whatsapp_integrations.domain.lifecycle import IntegrationStatus, can_transition
from whatsapp_integrations.domain.provisioning import (
    IntegrationError,
    Operation,
    PermanentFailure,
    ProvisioningMessage,
    TransientFailure,
    provisioning_error,
)
from whatsapp_integrations.domain.state_change import REMOVED_STATE, Transition
from whatsapp_integrations.domain.validated_credentials import PhoneProfile
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.graph_failures import classify_graph_error
from whatsapp_integrations.usecases.live_validation import phone_profile
from whatsapp_integrations.usecases.meta_webhook_wiring import override_state, override_taken, reset_override
from whatsapp_integrations.usecases.secrets_storage import decrypt_access_token, decrypt_app_secret
from whatsapp_integrations.usecases.state_changes import Changes, in_one_transaction
from whatsapp_integrations.usecases.webhook_secrets import current_evolution_webhook, current_webhook_secrets

S = IntegrationStatus
ACTOR = "system:status-sync"


@dataclass
class CheckReport:
    integration: Integration | None
    changes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


@dataclass
class _Findings:
    """What the check saw on both sides, before anything is written."""

    instance_expected: bool = True
    evolution_state: str | None = None
    evolution_problem: IntegrationError | None = None
    profile: PhoneProfile | None = None
    meta_problem: IntegrationError | None = None
    reauth_required: bool = False
    repaired: list[str] = field(default_factory=list)


MetaCallBudget = Callable[[], bool]


def sync_integration_status(
    tenant_id: str, integration_id: UUID, services: Services, *, correlation_id: str
) -> CheckReport:
    """The scheduled check (the status-sync worker): every integration whose state may drift."""
    found = services.database.autocommit(
        lambda session: integrations_repository.get_with_secrets(session, tenant_id, integration_id)
    )
    if found is None:
        return CheckReport(None)
    integration, secrets = found
    origin = Origin(ACTOR, correlation_id or None)
    if integration.status == S.CONNECTING:
        return _retry_stuck_connect(integration, services, origin)
    if integration.status not in (S.CONNECTED, S.ERROR, S.REAUTH_REQUIRED):
        return CheckReport(integration)
    return check_integration(integration, secrets, services, origin, meta_budget=_waba_budget(integration, services))


def check_integration(
    integration: Integration,
    secrets: StoredSecrets,
    services: Services,
    origin: Origin,
    *,
    meta_budget: MetaCallBudget,
) -> CheckReport:
    """Check both sides (only Meta when no Evolution instance is expected), repair what is ours, and record
    what was learned. `meta_budget` runs right before the one call to Meta: False skips Meta, and it may raise
    (the tenant's limit), so a check that never reaches Meta never counts against it."""
    token = decrypt_access_token(services.cipher, integration.tenant_id, integration.id, secrets)
    app_secret = decrypt_app_secret(services.cipher, integration.tenant_id, integration.id, secrets)
    findings = _Findings(instance_expected=instance_expected(integration))
    if findings.instance_expected:
        _check_evolution(integration, secrets, services, findings)
    if meta_budget():
        _check_meta(integration, secrets, token, app_secret, services, findings)
    else:
        logger.info("Meta check skipped: its call budget is spent")
    report = CheckReport(integration, repaired=list(findings.repaired))
    recorded = in_one_transaction(services, lambda changes: _record(changes, integration, findings, origin, report))
    report.integration = recorded or integration
    return report


def instance_expected(integration: Integration) -> bool:
    """An Evolution instance of ours should exist: connected, or failed since (error or a token problem)."""
    return integration.status == S.CONNECTED or (
        integration.status in (S.ERROR, S.REAUTH_REQUIRED) and integration.evolution_instance_name is not None
    )


def _waba_budget(integration: Integration, services: Services) -> MetaCallBudget:
    """The scheduled checks of one WABA share Meta's hourly management-call budget."""

    def take() -> bool:
        try:
            services.database.autocommit(
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
            return False
        return True

    return take


def _retry_stuck_connect(integration: Integration, services: Services, origin: Origin) -> CheckReport:
    """Past the retry budget and still connecting (its message was lost or dead-lettered): try once more."""

    def retry(changes: Changes) -> None:
        changes.send(
            ProvisioningMessage(integration.tenant_id, integration.id, Operation.CONNECT, origin.request_id or "")
        )
        changes.audit(
            integration,
            origin,
            AuditEntry(
                "status_sync.connect_retried", details={"connecting_since": integration.status_changed_at.isoformat()}
            ),
        )

    in_one_transaction(services, retry)
    return CheckReport(integration, changes=["connect retried"])


def _check_evolution(integration: Integration, secrets: StoredSecrets, services: Services, findings: _Findings) -> None:
    name = instance_name_for(integration.id)
    try:
        evolution = services.evolution()
        instance = evolution.fetch_instance(name)
        if instance is None:
            findings.evolution_problem = provisioning_error("instance_removed_outside")
            findings.evolution_state = REMOVED_STATE
            return
        if instance.number != integration.phone_number_id:
            findings.evolution_problem = provisioning_error("evolution_instance_conflict")
            return
        wanted = current_evolution_webhook(services, integration, secrets)
        if wanted is not None and not webhook_matches(evolution.find_webhook(name), wanted):
            evolution.set_webhook(name, wanted)
            findings.repaired.append("webhook configuration")
        findings.evolution_state = evolution.connection_state(name)
    except EvolutionUnavailable:
        raise TransientFailure(provisioning_error("evolution_unavailable")) from None
    except EvolutionError as error:
        code = "evolution_unauthorized" if error.unauthorized else "evolution_rejected"
        findings.evolution_problem = provisioning_error(code, "; ".join(error.messages)[:300])


def _check_meta(
    integration: Integration,
    secrets: StoredSecrets,
    token: str,
    app_secret: str | None,
    services: Services,
    findings: _Findings,
) -> None:
    wired = integration.meta_callback_url is not None
    try:
        answer = services.graph.phone_number(
            integration.phone_number_id, token, app_secret, with_health=True, with_webhooks=wired
        )
    except GraphUnreachable:
        raise TransientFailure(provisioning_error("meta_unreachable")) from None
    except GraphError as error:
        problem, advice = classify_graph_error(error, services.clock())
        if advice.retryable:
            raise TransientFailure(problem, advice.retry_after_seconds) from None
        findings.meta_problem, findings.reauth_required = problem, advice.reauth_required
        return
    findings.profile = phone_profile(answer)
    if wired:
        _check_override(integration, secrets, token, app_secret, answer, services, findings)


def _check_override(
    integration: Integration,
    secrets: StoredSecrets,
    token: str,
    app_secret: str | None,
    answer: dict[str, Any],
    services: Services,
    findings: _Findings,
) -> None:
    """Our override gone (drift): set it again. Another platform's in its place: reported, not fought over."""
    assert integration.meta_callback_url is not None
    configuration = answer.get("webhook_configuration")
    state = override_state(configuration if isinstance(configuration, dict) else {}, integration.meta_callback_url)
    if state.state == "taken":
        findings.meta_problem = override_taken(state)
        return
    current = current_webhook_secrets(services, integration, secrets) if state.state == "missing" else None
    if current is not None:
        try:
            reset_override(services, integration, token, app_secret, current.meta_verify_token)
        except PermanentFailure as failure:
            findings.meta_problem, findings.reauth_required = failure.error, failure.reauth_required
            return
        findings.repaired.append("meta webhook override")


def _record(
    changes: Changes, before: Integration, findings: _Findings, origin: Origin, report: CheckReport
) -> Integration | None:
    checked = integrations_repository.record_check(
        changes.session,
        before,
        phone_profile=findings.profile,
        evolution_state=findings.evolution_state,
        checked_at=changes.clock(),
    )
    if checked is None:
        logger.info("integration changed during the check; nothing recorded")
        return None
    for repair in findings.repaired:
        changes.audit(checked, origin, AuditEntry("status_sync.webhook_repaired", details={"repaired": repair}))
    _announce_profile_changes(changes, before, checked, findings.profile, origin, report)
    transition = _settlement(checked, findings, origin)
    if transition is None:
        return checked
    moved = changes.transition(checked, transition)
    if moved is None:
        return checked
    report.changes.append(f"status: {checked.status.value} -> {moved.status.value}")
    if transition.send:
        report.repaired.append("instance re-created")
    return moved


def _announce_profile_changes(
    changes: Changes,
    before: Integration,
    checked: Integration,
    profile: PhoneProfile | None,
    origin: Origin,
    report: CheckReport,
) -> None:
    if profile is None:
        return
    changed = {
        name: (getattr(before.phone_profile, name), getattr(profile, name))
        for name in PHONE_PROFILE_EVENTS
        if getattr(before.phone_profile, name) != getattr(profile, name)
    }
    if not changed:
        return
    for name, (old, new) in changed.items():
        report.changes.append(f"{name}: {old} -> {new}")
        changes.publish(
            PhoneProfileChanged(
                integration_id=checked.id,
                tenant_id=checked.tenant_id,
                field=name,
                from_value=old,
                to_value=new,
                correlation_id=origin.request_id,
                occurred_at=changes.clock(),
            )
        )
    changes.audit(
        checked,
        origin,
        AuditEntry(
            "status_sync.phone_changed",
            details={name: {"from": old, "to": new} for name, (old, new) in changed.items()},
        ),
    )


def _settlement(checked: Integration, findings: _Findings, origin: Origin) -> Transition | None:
    """The transition the findings call for, if any; every one requires the version the check recorded."""
    target: IntegrationStatus
    error: IntegrationError | None = None
    operation = None
    if findings.meta_problem is not None:
        target, error = (S.REAUTH_REQUIRED if findings.reauth_required else S.ERROR), findings.meta_problem
    elif findings.evolution_problem is not None and findings.evolution_problem.code == "instance_removed_outside":
        # The instance vanished but we hold the credentials: provision it again (a repair, audited).
        target, error, operation = S.CONNECTING, findings.evolution_problem, Operation.CONNECT
    elif findings.evolution_problem is not None:
        target, error = S.ERROR, findings.evolution_problem
    elif findings.instance_expected:
        target = S.CONNECTED
    elif checked.status == S.REAUTH_REQUIRED and findings.profile is not None:
        target = S.VALIDATED  # the token works again, and nothing was provisioned
    else:
        return None
    if checked.status == target or not can_transition(checked.status, target):
        return None
    return Transition(
        to=target,
        reason=f"status sync: {error.code}" if error else "status sync: both sides healthy again",
        origin=origin,
        audit=AuditEntry("status_sync.status_changed"),
        error=error,
        operation=operation,
        send=operation is not None,
        expected_version=checked.version,
    )
