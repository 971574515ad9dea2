"""The tenant's proof that the number works: one message sent through the integration's own Evolution instance,
whose statuses then flow back like any message's (Meta -> relay -> Evolution -> webhook -> the message API).

Evolution 2.3.7 answers 201 even when Meta refused the send, with Meta's error as the body: that is a refusal
(422) with Meta's code translated by the catalogue, and a token Meta no longer accepts moves the integration to
`reauth_required`. At most a few per integration per hour; each one audited, with the recipient masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

from whatsapp_integrations.adapters import rate_limiter, webhook_store
from whatsapp_integrations.adapters.evolution_client import EvolutionError, EvolutionUnavailable, SendResult
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import GatewayUnavailable, InvalidState, TestMessageRejected, ValidationProblem
from whatsapp_integrations.domain.evolution_instance import instance_name_for
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.meta_errors import advise
from whatsapp_integrations.domain.provisioning import IntegrationError
from whatsapp_integrations.domain.state_change import Transition
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.connection_requests import read_integration
from whatsapp_integrations.usecases.state_changes import Changes, in_one_transaction

_TEMPLATE_CODES = range(132000, 133000)  # 132xxx: the template (missing, paused, parameters)


@dataclass(frozen=True)
class TestMessage:
    to: str
    text: str | None = None
    template: str | None = None
    language: str | None = None

    @property
    def kind(self) -> str:
        return "template" if self.template else "text"


@dataclass(frozen=True)
class SentTestMessage:
    wamid: str
    to_masked: str
    status_url: str


def mask(recipient: str) -> str:
    """Enough to recognise the number in an audit trail, not enough to read it back."""
    return recipient[:2] + "*" * max(len(recipient) - 6, 0) + recipient[-4:]


def send_test_message(
    caller: Caller, integration_id: UUID, message: TestMessage, services: Services
) -> SentTestMessage:
    integration = read_integration(caller, integration_id, services)
    if integration.status != IntegrationStatus.CONNECTED:
        raise InvalidState("send a test message from", integration.status.value)
    services.database.autocommit(
        lambda session: rate_limiter.take(
            session,
            tenant_id=caller.tenant_id,
            bucket=f"test_message:{integration.id}",
            limit=services.settings.test_messages_per_hour,
            now=services.clock(),
            window=timedelta(hours=1),
            what="test messages",
            per="an hour per integration",
        )
    )
    result = _send(integration, message, services)
    if result.wamid is None:
        _refused(caller, integration, message, result.meta_error or {}, services)
    wamid = result.wamid
    assert wamid is not None

    def record(changes: Changes) -> None:
        webhook_store.record_own_send(
            changes.session, integration.id, integration.tenant_id, wamid, message.to, changes.clock()
        )
        changes.audit(
            integration,
            caller.origin,
            AuditEntry(
                "integration.test_message_sent",
                details={"to": mask(message.to), "kind": message.kind, "template": message.template, "wamid": wamid},
            ),
        )

    in_one_transaction(services, record)
    return SentTestMessage(
        wamid, mask(message.to), f"/integrations/whatsapp/{integration.id}/messages/{quote(wamid, safe='')}"
    )


def _send(integration: Integration, message: TestMessage, services: Services) -> SendResult:
    name = instance_name_for(integration.id)
    try:
        evolution = services.evolution()
        if message.template:
            return evolution.send_template(
                name, to=message.to, template=message.template, language=message.language or "en_US"
            )
        return evolution.send_text(name, to=message.to, text=message.text or "")
    except (EvolutionUnavailable, EvolutionError):
        raise GatewayUnavailable() from None


def _refused(
    caller: Caller, integration: Integration, message: TestMessage, meta: dict[str, Any], services: Services
) -> None:
    code, subcode = meta.get("code"), meta.get("subcode")
    advice = advise(code, subcode)
    field = "access_token" if advice.reauth_required else "template" if code in _TEMPLATE_CODES else "to"
    problem = ValidationProblem(field, advice.code, advice.message, advice.fix, code, subcode, meta.get("fbtrace_id"))
    error = IntegrationError(
        code=advice.code, message=advice.message, fix=advice.fix, meta_code=code, meta_subcode=subcode
    )

    def record(changes: Changes) -> None:
        changes.audit(
            integration,
            caller.origin,
            AuditEntry(
                "integration.test_message_refused",
                details={"to": mask(message.to), "kind": message.kind, "error_code": advice.code, "meta_code": code},
            ),
        )
        if advice.reauth_required:
            changes.transition(
                integration,
                Transition(
                    to=IntegrationStatus.REAUTH_REQUIRED,
                    reason=f"test message refused: {advice.code}",
                    origin=caller.origin,
                    audit=AuditEntry("integration.reauth_required"),
                    error=error,
                    expected_version=integration.version,
                ),
            )

    in_one_transaction(services, record)
    raise TestMessageRejected(problem)
