"""The credentials as the API takes them (create, update, validate), what validate answers, and the input rules every
body shares (no NUL, strict fields). Apart from http/schemas.py so that POST validate, which needs only these, builds
no other model at cold start. Secrets are write-only and never serialised back."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, SecretStr, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.domain.model import Model
from whatsapp_integrations.domain.validated_credentials import (
    IntegrationWarning,
    PhoneProfile,
    TokenFacts,
    ValidatedCredentials,
)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _no_nul_secret(value: SecretStr) -> SecretStr:
    _no_nul(value.get_secret_value())
    return value


NoNul = AfterValidator(_no_nul)
NO_NUL_PATTERN = "^[^\\u0000]*$"  # what NoNul checks, as the API description says it
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    NoNul,
    Field(json_schema_extra={"pattern": NO_NUL_PATTERN}),
]
# The API wants 5 to 20 digits; a value that is not is answered 422 by the local checks, with its fix (a phone number
# typed instead of its ID is the most common mistake), so the pattern is documented rather than enforced as a 400.
MetaId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    NoNul,
    Field(json_schema_extra={"pattern": "^[0-9]{5,20}$"}),
]
WriteOnlySecret = Annotated[
    SecretStr,
    Field(min_length=1, max_length=4096, json_schema_extra={"writeOnly": True, "pattern": NO_NUL_PATTERN}),
    AfterValidator(_no_nul_secret),
]

STRICT_INPUT = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value().strip() if secret is not None else None


class CredentialsInput(Model):
    model_config = STRICT_INPUT

    phone_number_id: MetaId = Field(description="The phone number ID (15-17 digits), not the phone number")
    waba_id: MetaId = Field(description="The WhatsApp Business Account ID")
    access_token: WriteOnlySecret = Field(description="System-user access token (write-only)")
    app_id: MetaId | None = Field(default=None, description="Meta app ID (optional)")
    app_secret: WriteOnlySecret | None = Field(default=None, description="Meta app secret (optional, write-only)")

    def credentials(self) -> MetaCredentials:
        return MetaCredentials(
            phone_number_id=self.phone_number_id,
            waba_id=self.waba_id,
            access_token=_reveal(self.access_token) or "",
            app_id=self.app_id,
            app_secret=_reveal(self.app_secret),
        )


class ValidateCredentialsRequest(CredentialsInput):
    name: Name | None = Field(default=None, description="Ignored; accepted so the form can send one payload")


class CreateIntegrationRequest(CredentialsInput):
    name: Name


class UpdateIntegrationRequest(Model):
    """Send only what changes. Absent write-only fields keep their value; app_id/app_secret null removes them."""

    model_config = ConfigDict(**STRICT_INPUT, json_schema_extra={"minProperties": 1})

    # None is only the default ("not sent"): the schema and the validator refuse an explicit null for these.
    name: Name | SkipJsonSchema[None] = None
    phone_number_id: MetaId | SkipJsonSchema[None] = None
    waba_id: MetaId | SkipJsonSchema[None] = None
    access_token: WriteOnlySecret | SkipJsonSchema[None] = None
    app_id: MetaId | None = None
    app_secret: WriteOnlySecret | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> UpdateIntegrationRequest:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        for required in ("name", "phone_number_id", "waba_id", "access_token"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be null")
        return self

    def changes(self) -> dict[str, str | None]:
        values: dict[str, str | None] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            values[name] = _reveal(value) if isinstance(value, SecretStr) else value
        return values


class ValidationResultResponse(Model):
    valid: bool = True
    phone_profile: PhoneProfile
    token_facts: TokenFacts
    warnings: list[IntegrationWarning]

    @classmethod
    def of(cls, validated: ValidatedCredentials) -> ValidationResultResponse:
        return cls(
            phone_profile=validated.phone_profile, token_facts=validated.token_facts, warnings=validated.warnings
        )
