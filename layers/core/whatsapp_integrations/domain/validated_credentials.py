"""What Meta told about a set of credentials when it checked them live: the phone number's profile, the token's
facts and the warnings. A module of its own so that POST validate, which stores nothing, does not import the
integration aggregate."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from whatsapp_integrations.domain.model import Model


class PhoneProfile(Model):
    """The phone number as Meta describes it (GET /{phone_number_id})."""

    model_config = ConfigDict(frozen=True)

    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None
    name_status: str | None = None
    platform_type: str | None = None
    code_verification_status: str | None = None
    messaging_limit: str | None = Field(default=None, description="Portfolio messaging limit, e.g. TIER_2K")
    status: str | None = Field(default=None, description="Meta's operating status of the number, e.g. CONNECTED")
    account_mode: str | None = None
    can_send_message: str | None = Field(default=None, description="health_status: AVAILABLE, LIMITED or BLOCKED")


class TokenFacts(Model):
    """What Meta's debug_token says about the access token."""

    model_config = ConfigDict(frozen=True)

    type: str | None = None
    app_id: str | None = None
    expires_at: datetime | None = Field(default=None, description="null means the token never expires")
    data_access_expires_at: datetime | None = None
    scopes: list[str] = Field(default_factory=list)


class IntegrationWarning(Model):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    fix: str


class ValidatedCredentials(Model):
    """The outcome of a successful live validation."""

    model_config = ConfigDict(frozen=True)

    phone_profile: PhoneProfile
    token_facts: TokenFacts
    warnings: list[IntegrationWarning] = Field(default_factory=list)
