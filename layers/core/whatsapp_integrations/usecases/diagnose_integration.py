"""The connection doctor: every link of the chain checked now, and what is ours repaired on request.

Meta is asked four questions at once (the token, the app secret, the number with its health and webhook
configuration, the WABA's subscribed apps), Evolution two (the instance, its webhook config), PostgreSQL and the
dead-letter queues the rest. A side that cannot be reached makes its items `unknown`, never `ok`. The diagnosis
counts once against the tenant's Meta-call limit, like the refresh button.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from whatsapp_integrations.adapters import integrations_repository, webhook_store
from whatsapp_integrations.adapters.evolution_client import EvolutionError, EvolutionUnavailable
from whatsapp_integrations.adapters.graph_client import GraphError, GraphUnreachable
from whatsapp_integrations.domain import diagnostics as checks
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.diagnostics import CheckResult, CheckStatus, Diagnosis, InstanceFacts, TrafficFacts
from whatsapp_integrations.domain.errors import IntegrationNotFound
from whatsapp_integrations.domain.evolution_instance import instance_name_for, webhook_matches
from whatsapp_integrations.domain.integration import Integration, StoredSecrets
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.provisioning import (
    IntegrationError,
    Operation,
    PermanentFailure,
    TransientFailure,
    provisioning_error,
)
from whatsapp_integrations.domain.state_change import Transition
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.graph_failures import classify_graph_error, graph_failures
from whatsapp_integrations.usecases.meta_call_guard import META_CALLS_BUCKET, META_CHECKS_BUCKET, count_meta_call
from whatsapp_integrations.usecases.meta_webhook_wiring import reset_override
from whatsapp_integrations.usecases.secrets_storage import decrypt_access_token, decrypt_app_secret
from whatsapp_integrations.usecases.state_changes import in_one_transaction
from whatsapp_integrations.usecases.sync_integration_status import instance_expected
from whatsapp_integrations.usecases.webhook_secrets import current_evolution_webhook, current_webhook_secrets

T = TypeVar("T")
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="diagnosis")
_TOKEN_CHECKS = ("token.valid", "token.expiry", "token.scopes")
_PHONE_CHECKS = (
    "phone.status",
    "phone.name_status",
    "phone.quality",
    "phone.messaging_limit",
    "phone.code_verification",
    "phone.health",
)
_EVOLUTION_CHECKS = ("evolution.instance", "evolution.number", "evolution.token", "evolution.webhook")


@dataclass(frozen=True)
class _Subject:
    integration: Integration
    secrets: StoredSecrets
    token: str
    app_secret: str | None


def diagnose_integration(caller: Caller, integration_id: UUID, services: Services) -> Diagnosis:
    subject = _subject(caller, integration_id, services)
    return Diagnosis(integration_id, services.clock(), _check(subject, services))


def repair_integration(caller: Caller, integration_id: UUID, services: Services) -> Diagnosis:
    """Repair what the diagnosis finds broken and is ours to fix, then answer the checklist as it is after."""
    subject = _subject(caller, integration_id, services, bucket=META_CALLS_BUCKET)  # a write: a read can't block it
    before = _check(subject, services)
    done = {
        result.id: what
        for result in before
        if result.repairable and result.status == CheckStatus.FAIL
        for what in [_repair(result.id, subject, caller, services)]
        if what
    }
    if done:
        in_one_transaction(
            services,
            lambda changes: changes.audit(
                subject.integration, caller.origin, AuditEntry("integration.repaired", details={"repaired": done})
            ),
        )
        subject = _subject(caller, integration_id, services, bucket=None)
    after = _check(subject, services)
    items = [checks.repaired(result, done[result.id]) if result.id in done else result for result in after]
    return Diagnosis(integration_id, services.clock(), items)


def _subject(
    caller: Caller, integration_id: UUID, services: Services, *, bucket: str | None = META_CHECKS_BUCKET
) -> _Subject:
    """The integration and its secrets, once a Meta call is counted in `bucket` (None: already counted)."""
    found = services.database.autocommit(
        lambda session: integrations_repository.get_with_secrets(session, caller.tenant_id, integration_id)
    )
    if found is None:
        raise IntegrationNotFound()
    if bucket is not None:
        count_meta_call(caller, services, bucket)  # the diagnosis always asks Meta
    integration, secrets = found
    token = decrypt_access_token(services.cipher, integration.tenant_id, integration.id, secrets)
    app_secret = decrypt_app_secret(services.cipher, integration.tenant_id, integration.id, secrets)
    return _Subject(integration, secrets, token, app_secret)


def _check(subject: _Subject, services: Services) -> list[CheckResult]:
    meta = _executor.submit(_meta_checks, subject, services)
    evolution = _executor.submit(_evolution_checks, subject, services)
    traffic = _traffic_checks(subject, services)
    return checks.ordered([*meta.result(), *evolution.result(), *traffic])


# ------------------------------------------------------------------------------------------------------ Meta


def _meta_checks(subject: _Subject, services: Services) -> list[CheckResult]:
    integration, graph, token, secret = subject.integration, services.graph, subject.token, subject.app_secret
    calls: dict[str, Callable[[], Any]] = {
        "debug": lambda: graph.debug_token(token, secret),
        "phone": lambda: graph.phone_number(
            integration.phone_number_id, token, secret, with_health=True, with_webhooks=True
        ),
        "apps": lambda: graph.subscribed_apps(integration.waba_id, token, secret),
    }
    if secret is not None and integration.app_id is not None:
        app_id = integration.app_id
        calls["proof"] = lambda: graph.prove_app_secret(app_id, secret)
    futures = {name: _executor.submit(call) for name, call in calls.items()}
    answers = {name: _answer(future.result, services) for name, future in futures.items()}
    now = services.clock()
    results = _judged(answers["debug"], _TOKEN_CHECKS, lambda debug: checks.token_checks(debug, now))
    proof = answers.get("proof")
    refusal = proof if isinstance(proof, IntegrationError) else None
    if isinstance(proof, _Unreachable):
        results += checks.unknown(("token.app_secret_proof",), proof.why)
    else:
        results.append(checks.app_secret_check(secret is not None, refusal))
    results += _judged(answers["phone"], _PHONE_CHECKS, checks.phone_checks)
    results += _judged(
        answers["apps"], ("waba.app_subscribed",), lambda apps: [checks.app_subscribed_check(apps, integration.app_id)]
    )
    results += _judged(
        answers["phone"],
        ("waba.webhook_override",),
        lambda phone: [
            checks.webhook_override_check(phone.get("webhook_configuration") or {}, integration.meta_callback_url)
        ],
    )
    return results


@dataclass(frozen=True)
class _Unreachable:
    why: str


def _answer(call: Callable[[], T], services: Services) -> T | IntegrationError | _Unreachable:
    try:
        return call()
    except GraphUnreachable:
        return _Unreachable("Meta could not be reached.")
    except GraphError as error:
        problem, advice = classify_graph_error(error, services.clock())
        return _Unreachable(f"Meta is busy: {problem.message}") if advice.retryable else problem


def _judged(answer: Any, ids: tuple[str, ...], judge: Callable[[Any], list[CheckResult]]) -> list[CheckResult]:
    if isinstance(answer, _Unreachable):
        return checks.unknown(ids, answer.why)
    if isinstance(answer, IntegrationError):
        return checks.from_error(ids, answer)
    return judge(answer)


# ------------------------------------------------------------------------------------------------------ Evolution


def _evolution_checks(subject: _Subject, services: Services) -> list[CheckResult]:
    integration = subject.integration
    if not instance_expected(integration):
        return checks.not_connected(integration.status.value)
    name = instance_name_for(integration.id)
    try:
        evolution = services.evolution()
        instance = evolution.fetch_instance(name)
        wanted = current_evolution_webhook(services, integration, subject.secrets)
        found = evolution.find_webhook(name) if instance is not None and wanted is not None else None
    except EvolutionUnavailable:
        return checks.unknown(_EVOLUTION_CHECKS, "The WhatsApp gateway (Evolution) could not be reached.")
    except EvolutionError as error:
        return checks.from_error(_EVOLUTION_CHECKS, provisioning_error("evolution_rejected", "; ".join(error.messages)))
    facts = (
        InstanceFacts(
            exists=True,
            number=instance.number,
            business_id=instance.business_id,
            token_fingerprint=instance.token_fingerprint,
            webhook_matches=webhook_matches(found, wanted) if wanted is not None else None,
        )
        if instance is not None
        else InstanceFacts(exists=False)
    )
    return checks.evolution_checks(
        facts, integration.phone_number_id, integration.waba_id, integration.token_fingerprint
    )


# ------------------------------------------------------------------------------------------------------ traffic


def _traffic_checks(subject: _Subject, services: Services) -> list[CheckResult]:
    integration = subject.integration

    def read(session: Any) -> tuple[Any, int, dict[int | None, int]]:
        return (
            webhook_store.activity(session, integration.id),
            webhook_store.stuck_messages(session, integration.id),
            webhook_store.recent_failures(session, integration.id),
        )

    activity, stuck, failures = services.database.autocommit(read)
    try:
        dead_letters = services.dead_letters_of(integration.id)
    except Exception as error:  # an SQS problem makes that one item unknown, nothing else
        logger.warning("dead-letter queues not readable", extra={"error_type": type(error).__name__})
        results = checks.traffic_checks(
            TrafficFacts(activity, stuck, failures, {}),
            services.clock(),
            meta_wired=integration.meta_callback_url is not None,
            connected=integration.status == IntegrationStatus.CONNECTED,
        )
        return [*results[:-1], *checks.unknown(("traffic.dead_letters",), "The dead-letter queues could not be read.")]
    return checks.traffic_checks(
        TrafficFacts(activity, stuck, failures, dead_letters),
        services.clock(),
        meta_wired=integration.meta_callback_url is not None,
        connected=integration.status == IntegrationStatus.CONNECTED,
    )


# ------------------------------------------------------------------------------------------------------ repairs


def _repair(check: str, subject: _Subject, caller: Caller, services: Services) -> str | None:
    """Carry out the repair of one failed check; what was done, or None when it could not be done now."""
    integration = subject.integration
    try:
        if check == "waba.app_subscribed":
            with graph_failures(services.clock):
                services.graph.subscribe_app(integration.waba_id, subject.token, subject.app_secret)
            return "subscribed the app to the WhatsApp Business Account again"
        if check == "waba.webhook_override":
            current = current_webhook_secrets(services, integration, subject.secrets)
            if current is None or integration.meta_callback_url is None:
                return None
            reset_override(services, integration, subject.token, subject.app_secret, current.meta_verify_token)
            return "set this number's webhook override back to this service"
        if check == "evolution.webhook":
            wanted = current_evolution_webhook(services, integration, subject.secrets)
            if wanted is None:
                return None
            services.evolution().set_webhook(instance_name_for(integration.id), wanted)
            return "set the instance's webhook configuration again"
        if check in ("evolution.instance", "evolution.token"):
            return _recreate_instance(subject, caller, services)
    except (TransientFailure, PermanentFailure, EvolutionUnavailable, EvolutionError) as error:
        logger.warning("repair failed", extra={"check": check, "error_type": type(error).__name__})
    return None


def _recreate_instance(subject: _Subject, caller: Caller, services: Services) -> str | None:
    integration = subject.integration
    moved = in_one_transaction(
        services,
        lambda changes: changes.transition(
            integration,
            Transition(
                to=IntegrationStatus.CONNECTING,
                reason="repair: re-create the Evolution instance",
                origin=caller.origin,
                audit=AuditEntry("integration.reprovision_requested", details={"by": "repair"}),
                operation=Operation.REPROVISION,
                send=True,
                expected_version=integration.version,
            ),
        ),
    )
    return "queued the re-creation of the instance (the status is connecting until it is done)" if moved else None
