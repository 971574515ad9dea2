"""Request and response bodies as they travel over HTTP, apart from the credentials' (http/credential_schemas.py).
Secrets are write-only and never serialised back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from whatsapp_integrations.domain.audit import AuditEvent
from whatsapp_integrations.domain.diagnostics import CheckStatus, Diagnosis
from whatsapp_integrations.domain.integration import Integration, StatusChange, WebhookActivity
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.message_status import MessageFailure, MessageRecord, MessageStatus, shown_status
from whatsapp_integrations.domain.meta_errors import UNEXPLAINED_FAILURE, advise
from whatsapp_integrations.domain.model import Model
from whatsapp_integrations.domain.provisioning import IntegrationError
from whatsapp_integrations.domain.validated_credentials import IntegrationWarning, PhoneProfile, TokenFacts
from whatsapp_integrations.http.credential_schemas import NO_NUL_PATTERN, STRICT_INPUT, NoNul


class IntegrationResponse(Model):
    id: UUID
    name: str
    phone_number_id: str
    waba_id: str
    app_id: str | None
    token_fingerprint: str = Field(description="Last 4 characters and a short SHA-256 of the token")
    has_app_secret: bool
    status: IntegrationStatus
    phone_profile: PhoneProfile
    token_facts: TokenFacts
    warnings: list[IntegrationWarning]
    version: int = Field(description="Also sent as the ETag; send it back in If-Match to update")
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    last_error: IntegrationError | None = Field(description="The last failure, with the fix")
    last_checked_at: datetime | None = Field(description="When Evolution and Meta were last checked")

    @classmethod
    def of(cls, integration: Integration) -> IntegrationResponse:
        # From its attributes, not a dump: the nested models are taken as they are instead of rebuilt.
        return cls.model_validate(integration, from_attributes=True)


class WebhooksView(Model):
    meta_callback_url: str | None = Field(
        description="Where Meta delivers this number's webhooks (the override set at connect); null: not wired"
    )
    last_meta_event_at: datetime | None = Field(description="When Meta's webhooks last reached the relay")
    last_evolution_event_at: datetime | None = Field(description="When Evolution's webhooks last reached us")


class EvolutionInstanceView(Model):
    instance_name: str | None = Field(description="The Evolution API instance serving this integration")
    state: str | None = Field(
        description="Evolution's connection state at the last check (open, connecting, close), or removed when "
        "the instance was deleted outside this service"
    )


class ConnectionStatusResponse(Model):
    id: UUID
    status: IntegrationStatus
    status_changed_at: datetime
    pending_operation: str | None = Field(description="connect, disconnect, delete or reprovision while under way")
    last_error: IntegrationError | None = Field(description="The last failure, with the fix")
    evolution: EvolutionInstanceView
    last_checked_at: datetime | None = Field(description="When Evolution and Meta were last checked")
    version: int
    history: list[StatusChange] = Field(description="Recent transitions, newest first")
    webhooks: WebhooksView

    @classmethod
    def of(
        cls, integration: Integration, history: list[StatusChange], activity: WebhookActivity | None = None
    ) -> ConnectionStatusResponse:
        seen = activity or WebhookActivity()
        return cls(
            id=integration.id,
            status=integration.status,
            status_changed_at=integration.status_changed_at,
            pending_operation=integration.pending_operation,
            last_error=integration.last_error,
            evolution=EvolutionInstanceView(
                instance_name=integration.evolution_instance_name, state=integration.evolution_state
            ),
            last_checked_at=integration.last_checked_at,
            version=integration.version,
            history=history,
            webhooks=WebhooksView(
                meta_callback_url=integration.meta_callback_url,
                last_meta_event_at=seen.last_meta_event_at,
                last_evolution_event_at=seen.last_evolution_event_at,
            ),
        )


class IntegrationListResponse(Model):
    items: list[IntegrationResponse]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class AuditEventResponse(Model):
    id: int
    integration_id: UUID
    action: str
    actor: str = Field(description="The JWT subject of the user, or system:<worker> for background work")
    request_id: str | None = Field(description="The API request (or the request that caused the background work)")
    source_ip: str | None
    user_agent: str | None
    changed_fields: list[str]
    details: dict[str, Any]
    occurred_at: datetime

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventResponse:
        return cls(
            id=event.id,
            integration_id=event.integration_id,
            action=event.action,
            actor=event.actor,
            request_id=event.request_id,
            source_ip=event.source_ip,
            user_agent=event.user_agent,
            changed_fields=event.changed_fields,
            details=event.details,
            occurred_at=event.occurred_at,
        )


class AuditListResponse(Model):
    items: list[AuditEventResponse]
    next_cursor: str | None


class StatusSeenResponse(Model):
    status: MessageStatus
    received_at: datetime


class MessageFailureResponse(Model):
    code: str = Field(description="Our stable code for Meta's reason; see docs/troubleshooting.md")
    message: str
    fix: str
    meta_code: int | None = Field(description="Meta's error code (statuses[].errors[].code)")
    title: str | None = Field(description="Meta's title of the error")
    details: str | None = Field(description="Meta's error_data.details")

    @classmethod
    def of(cls, failure: MessageFailure) -> MessageFailureResponse:
        advice = advise(failure.code) if failure.code is not None else UNEXPLAINED_FAILURE
        return cls(
            code=advice.code,
            message=advice.message,
            fix=advice.fix,
            meta_code=failure.code,
            title=failure.title,
            details=failure.details,
        )


class PricingResponse(Model):
    category: str | None = None
    billable: bool | None = None
    pricing_model: str | None = None
    type: str | None = None


class MessageStatusResponse(Model):
    wamid: str
    status: MessageStatus = Field(description="FAILED when a failure was reported, else the furthest progress")
    progress: MessageStatus = Field(description="The furthest of PENDING < SENT < DELIVERED < READ < PLAYED")
    failed: bool
    failed_at: datetime | None
    recipient: str | None
    sent_at: datetime | None
    updated_at: datetime
    failure: MessageFailureResponse | None = Field(
        description="Why Meta failed it (from Meta's own status webhook), with the fix"
    )
    pricing: PricingResponse | None = Field(description="Meta's pricing of the message, when it reported one")
    history: list[StatusSeenResponse] = Field(description="Every status received, oldest first")

    @classmethod
    def of(cls, record: MessageRecord) -> MessageStatusResponse:
        return cls(
            wamid=record.wamid,
            status=shown_status(record.progress, record.failed_at is not None),
            progress=record.progress,
            failed=record.failed_at is not None,
            failed_at=record.failed_at,
            recipient=record.recipient,
            sent_at=record.sent_at,
            updated_at=record.updated_at,
            failure=MessageFailureResponse.of(record.failure) if record.failure else None,
            pricing=PricingResponse.model_validate(record.pricing) if record.pricing else None,
            history=[StatusSeenResponse(status=seen.status, received_at=seen.received_at) for seen in record.history],
        )


class WebhookAnswer(Model):
    """What a webhook route answers with 200: whether the event was recorded, a duplicate, or ignored (and why)."""

    result: str
    reason: str = ""


class MetaWebhookAnswer(Model):
    """What the Meta webhook route answers with 200: the posts queued for Evolution, and the changes left out
    (another WABA or number, fields Evolution does not consume, or an integration that is not connected)."""

    queued: int
    dropped: int


Recipient = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{8,15}$"), Field(description="E.164 digits without +, 8 to 15 of them")
]


class TemplateInput(Model):
    model_config = STRICT_INPUT

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")] = Field(
        description="An approved template without parameters, e.g. hello_world"
    )
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")] = Field(
        default="en_US", description="The template's language code, e.g. en_US or pt_BR"
    )


class TestMessageRequest(Model):
    """Exactly one of `template` (works any time) and `text` (only within 24 h of the recipient's last message)."""

    model_config = ConfigDict(
        **STRICT_INPUT, json_schema_extra={"oneOf": [{"required": ["template"]}, {"required": ["text"]}]}
    )

    to: Recipient
    template: TemplateInput | SkipJsonSchema[None] = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=4096), NoNul] | SkipJsonSchema[None] = Field(
        default=None,
        validate_default=True,
        description="Free text, at most 4096 characters",
        json_schema_extra={"pattern": NO_NUL_PATTERN},
    )

    @model_validator(mode="before")
    @classmethod
    def _absent_rather_than_null(cls, data: object) -> object:
        if isinstance(data, dict) and "text" in data and data["text"] is None:
            raise ValueError("leave `text` out instead of sending null")
        return data

    @field_validator("template", mode="before")
    @classmethod
    def _template_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value

    @field_validator("text")
    @classmethod
    def _one_of_template_and_text(cls, text: str | None, info: ValidationInfo) -> str | None:
        # Runs for an absent text too (validate_default), so "neither" is caught here, under `text`.
        if (text is None) == (info.data.get("template") is None) and "template" in info.data:
            raise ValueError("send exactly one of `template` and `text`")
        return text


class TestMessageResponse(Model):
    wamid: str = Field(description="Meta's id of the message")
    to_masked: str = Field(description="The recipient, masked as in the audit trail")
    status_url: str = Field(description="Where its statuses show up (GET), as they arrive")


class CheckItemResponse(Model):
    id: str = Field(description="The check, e.g. token.valid; docs/troubleshooting.md has a section per id")
    group: str = Field(description="token, phone, waba, evolution or traffic")
    status: CheckStatus = Field(description="ok, warn, fail, or unknown when a side could not be reached")
    title: str
    detail: str = Field(description="What was found")
    fix: str | None = Field(description="What to do about it")
    link: str = Field(description="The troubleshooting section of this check")
    repairable: bool = Field(description="POST .../diagnostics/repair can fix it")
    repaired: str | None = Field(description="What the repair did (repair answers only)")


class DiagnosisResponse(Model):
    integration_id: UUID
    checked_at: datetime
    summary: CheckStatus = Field(description="The worst status of all items")
    items: list[CheckItemResponse]

    @classmethod
    def of(cls, diagnosis: Diagnosis) -> DiagnosisResponse:
        return cls(
            integration_id=diagnosis.integration_id,
            checked_at=diagnosis.checked_at,
            summary=diagnosis.summary,
            items=[
                CheckItemResponse(
                    id=item.id,
                    group=item.group,
                    status=item.status,
                    title=item.title,
                    detail=item.detail,
                    fix=item.fix,
                    link=item.link,
                    repairable=item.repairable,
                    repaired=item.repaired,
                )
                for item in diagnosis.items
            ],
        )
