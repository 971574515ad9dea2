"""Credentials a tenant pastes into the form, and the checks that need no network."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from whatsapp_integrations.domain.errors import ValidationProblem

_NUMERIC_ID = re.compile(r"^[0-9]{5,20}$")
_PHONE_NUMBER_LIKE = re.compile(r"^\+|[\s()\-]")
_TOKEN = re.compile(r"^[A-Za-z0-9_\-|.]{20,2048}$")
_WHERE_IDS_ARE = "Copy it from the Meta App Dashboard > WhatsApp > API setup, or WhatsApp Manager > Phone numbers."


@dataclass(frozen=True)
class MetaCredentials:
    phone_number_id: str
    waba_id: str
    access_token: str
    app_id: str | None = None
    app_secret: str | None = None

    def __repr__(self) -> str:
        return (
            f"MetaCredentials(phone_number_id={self.phone_number_id!r}, waba_id={self.waba_id!r}, "
            f"app_id={self.app_id!r}, access_token=<redacted>, app_secret=<redacted>)"
        )


def token_fingerprint(access_token: str) -> str:
    """A display handle that tells tokens apart without revealing them: last 4 characters and a short hash."""
    digest = hashlib.sha256(access_token.encode()).hexdigest()[:8]
    return f"…{access_token[-4:]} (sha256:{digest})"


def token_hmac(key: bytes, access_token: str) -> str:
    """Full-length keyed hash of the token, checked against the `apikey` of Evolution's global webhook. Unlike the
    display fingerprint it cannot be brute-forced without the server-side key."""
    return hmac.new(key, access_token.encode(), hashlib.sha256).hexdigest()


def check_locally(credentials: MetaCredentials) -> list[ValidationProblem]:
    """Syntax checks that catch the most common mistakes before spending a call to Meta."""
    problems = [
        *_check_id("phone_number_id", credentials.phone_number_id, phone_number_hint=True),
        *_check_id("waba_id", credentials.waba_id, phone_number_hint=False),
        *_check_token(credentials.access_token),
    ]
    if credentials.app_id is not None:
        problems.extend(_check_id("app_id", credentials.app_id, phone_number_hint=False))
    if credentials.app_secret is not None and credentials.app_id is None:
        problems.append(
            ValidationProblem(
                "app_id",
                "app_id_required",
                "An app secret was given without its app ID.",
                "Enter the App ID shown next to the App secret in App settings > Basic.",
            )
        )
    if credentials.app_secret is not None and not re.fullmatch(
        r"[0-9a-fA-F]{32}|[A-Za-z0-9_\-]{16,128}", credentials.app_secret
    ):
        problems.append(
            ValidationProblem(
                "app_secret",
                "app_secret_malformed",
                "The app secret does not look like a Meta app secret.",
                "Copy the App secret from App settings > Basic (click 'Show'); it is 32 hexadecimal characters.",
            )
        )
    if credentials.phone_number_id and credentials.phone_number_id == credentials.waba_id:
        problems.append(
            ValidationProblem(
                "waba_id",
                "same_id_twice",
                "The phone number ID and the WhatsApp Business Account ID are the same.",
                "They are two different IDs; both are shown in the App Dashboard > WhatsApp > API setup.",
            )
        )
    return problems


def _check_id(field: str, value: str, *, phone_number_hint: bool) -> list[ValidationProblem]:
    if phone_number_hint and _looks_like_phone_number(value):
        return [
            ValidationProblem(
                field,
                "phone_number_instead_of_id",
                "This looks like a phone number, not a phone number ID.",
                "The phone number ID is a long number Meta assigns (15-17 digits), listed under the phone number "
                "in the App Dashboard > WhatsApp > API setup.",
            )
        ]
    if _NUMERIC_ID.fullmatch(value):
        return []
    return [
        ValidationProblem(
            field, f"{field}_malformed", f"{field} must contain only digits (5 to 20 of them).", _WHERE_IDS_ARE
        )
    ]


def _looks_like_phone_number(value: str) -> bool:
    """Phone numbers have 7-15 digits, often with + or separators; Meta's phone number IDs have 15-17 digits."""
    digits = re.sub(r"\D", "", value)
    if value.isdigit():
        return 7 <= len(digits) <= 13
    return bool(_PHONE_NUMBER_LIKE.search(value.strip())) and 7 <= len(digits) <= 15


def _check_token(token: str) -> list[ValidationProblem]:
    fix = "Paste the whole system-user access token (it starts with EAA) without spaces or quotes."
    if not token:
        return [ValidationProblem("access_token", "access_token_missing", "The access token is empty.", fix)]
    if not _TOKEN.fullmatch(token):
        return [
            ValidationProblem(
                "access_token",
                "access_token_malformed",
                "The access token contains characters a Meta token never has, or is too short.",
                fix,
            )
        ]
    if not token.startswith("EAA"):
        return [
            ValidationProblem(
                "access_token",
                "access_token_not_meta",
                "This is not a Meta access token (those start with EAA).",
                "Generate a system-user token in Business settings > Users > System users.",
            )
        ]
    return []
