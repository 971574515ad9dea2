"""What a Graph API error code means for a tenant: our stable code, the cause, the fix, and whether to retry.

Route on Meta's `code` (and `error_subcode`), never on message text (meta-cloud-api.md, A2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime


@dataclass(frozen=True)
class MetaErrorAdvice:
    code: str
    message: str
    fix: str
    retryable: bool
    retry_after_seconds: int | None = None
    reauth_required: bool = False


_REGENERATE = (
    "In Meta Business Manager open Business settings > Users > System users, select the system user, "
    "click 'Generate new token' with the whatsapp_business_management and whatsapp_business_messaging "
    "permissions and 'Never' as expiry, then update the integration with the new token."
)
_RETRY_LATER = "Meta had a temporary problem. Nothing was changed; try again in a moment."

TOKEN_SUBCODES: dict[int, MetaErrorAdvice] = {
    463: MetaErrorAdvice("token_expired", "The access token has expired.", _REGENERATE, False, reauth_required=True),
    467: MetaErrorAdvice(
        "token_invalidated",
        "The access token was invalidated (logged out or revoked).",
        _REGENERATE,
        False,
        reauth_required=True,
    ),
    460: MetaErrorAdvice(
        "token_password_changed",
        "The token stopped working because a password changed.",
        _REGENERATE,
        False,
        reauth_required=True,
    ),
    458: MetaErrorAdvice(
        "app_not_installed",
        "The system user has not installed the app that issued the token.",
        "In Business settings > System users > Assign assets, assign the app to the system user, then "
        "generate a new token.",
        False,
        reauth_required=True,
    ),
    464: MetaErrorAdvice(
        "user_unconfirmed",
        "The user behind the token is not confirmed.",
        _REGENERATE,
        False,
        reauth_required=True,
    ),
    492: MetaErrorAdvice(
        "invalid_session",
        "The token's session is invalid (the system user may lack access to the asset).",
        "Check that the system user still has the WhatsApp account assigned, then generate a new token.",
        False,
        reauth_required=True,
    ),
}

_RATE_LIMIT_FIX = "Wait until the limit resets; reduce how often you validate or update this integration."

CODES: dict[int, MetaErrorAdvice] = {
    0: MetaErrorAdvice(
        "token_auth_failed", "Meta did not accept the access token.", _REGENERATE, False, reauth_required=True
    ),
    190: MetaErrorAdvice(
        "token_invalid",
        "The access token is not valid.",
        "Copy the whole system-user token again (it starts with EAA) or generate a new one. " + _REGENERATE,
        False,
        reauth_required=True,
    ),
    3: MetaErrorAdvice(
        "capability_missing",
        "The app lacks a capability needed for this call.",
        "In the Meta App Dashboard add the WhatsApp product to the app and finish its setup.",
        False,
    ),
    10: MetaErrorAdvice(
        "permission_denied",
        "The token lacks a permission for this call.",
        "Generate the token with whatsapp_business_management and whatsapp_business_messaging, "
        "and assign the WhatsApp account to the system user.",
        False,
    ),
    100: MetaErrorAdvice(
        "invalid_parameter",
        "Meta refused a parameter of the request.",
        "Check the IDs you entered against WhatsApp Manager > Phone numbers.",
        False,
    ),
    101: MetaErrorAdvice(
        "app_secret_invalid",
        "The app secret does not match the app ID.",
        "In the Meta App Dashboard open App settings > Basic and copy the App ID and App secret of the same app.",
        False,
    ),
    2200: MetaErrorAdvice(
        "callback_verification_failed",
        "Meta could not verify our webhook callback URL (its handshake failed or took longer than about 6 s).",
        "Nothing to do: connecting retries it. If it persists, the operator must check that Meta reaches this "
        "service's public URL (PUBLIC_API_URL) and that GET /webhooks/meta/{id} answers quickly.",
        False,
    ),
    4: MetaErrorAdvice("app_rate_limited", "The app hit Meta's call rate limit.", _RATE_LIMIT_FIX, True, 300),
    17: MetaErrorAdvice("user_rate_limited", "The user hit Meta's call rate limit.", _RATE_LIMIT_FIX, True, 300),
    32: MetaErrorAdvice("page_rate_limited", "Meta's call rate limit was hit.", _RATE_LIMIT_FIX, True, 300),
    341: MetaErrorAdvice("app_rate_limited", "The app hit Meta's call rate limit.", _RATE_LIMIT_FIX, True, 300),
    613: MetaErrorAdvice("call_rate_limited", "Meta's call rate limit was hit.", _RATE_LIMIT_FIX, True, 300),
    80007: MetaErrorAdvice(
        "waba_rate_limited",
        "The WhatsApp Business Account hit its hourly management-call limit.",
        _RATE_LIMIT_FIX,
        True,
    ),
    130429: MetaErrorAdvice(
        "throughput_limited",
        "The number hit its messages-per-second limit.",
        "Send more slowly; Meta resets this within seconds.",
        True,
        10,
    ),
    131056: MetaErrorAdvice(
        "pair_rate_limited",
        "Too many messages to the same recipient in a short time.",
        "Wait before messaging this recipient again.",
        True,
        60,
    ),
    131048: MetaErrorAdvice(
        "spam_rate_limited",
        "Meta limited sending because of low quality.",
        "Check the number's quality rating in WhatsApp Manager and improve message quality.",
        False,
    ),
    133016: MetaErrorAdvice(
        "registration_locked",
        "Too many register/deregister attempts (10 in 72 hours).",
        "Wait 72 hours before registering the number again.",
        False,
    ),
    1: MetaErrorAdvice("meta_unknown_error", "Meta reported a temporary unknown error.", _RETRY_LATER, True, 30),
    2: MetaErrorAdvice("meta_service_error", "Meta's service is temporarily unavailable.", _RETRY_LATER, True, 30),
    131000: MetaErrorAdvice("meta_internal_error", "Something went wrong at Meta.", _RETRY_LATER, True, 30),
    131016: MetaErrorAdvice("meta_service_unavailable", "Meta's service is unavailable.", _RETRY_LATER, True, 30),
    133004: MetaErrorAdvice(
        "registration_server_unavailable", "Meta's registration server is unavailable.", _RETRY_LATER, True, 30
    ),
    131057: MetaErrorAdvice(
        "account_in_maintenance",
        "The account is in maintenance (e.g. a throughput upgrade).",
        "Wait a few minutes and try again.",
        True,
        120,
    ),
    368: MetaErrorAdvice(
        "policy_blocked",
        "Meta blocked the account for a policy violation.",
        "Open WhatsApp Manager > Account quality to see the violation and request a review.",
        False,
    ),
    131031: MetaErrorAdvice(
        "account_locked",
        "The WhatsApp account is locked (or the 2-step PIN was wrong).",
        "Open WhatsApp Manager > Account quality and follow Meta's instructions.",
        False,
    ),
    130497: MetaErrorAdvice(
        "country_restricted",
        "The business cannot message users in this country.",
        "Check Meta's country restrictions for your business.",
        False,
    ),
    133010: MetaErrorAdvice(
        "phone_not_registered",
        "The phone number is not registered with the Cloud API.",
        "Register the number in WhatsApp Manager (or through the /register call).",
        False,
    ),
    133005: MetaErrorAdvice(
        "two_step_pin_mismatch",
        "The two-step verification PIN does not match.",
        "Enter the existing PIN, or reset it in WhatsApp Manager > Phone numbers > Two-step verification.",
        False,
    ),
    131047: MetaErrorAdvice(
        "outside_customer_service_window",
        "More than 24 hours passed since the contact wrote.",
        "Send an approved template instead of free text.",
        False,
    ),
    131026: MetaErrorAdvice(
        "message_undeliverable",
        "The message could not be delivered to this recipient.",
        "Check that the recipient uses WhatsApp with a current app version.",
        False,
    ),
    131030: MetaErrorAdvice(
        "recipient_not_allowed",
        "The recipient is not in the test number's allowed list.",
        "Add the recipient in the App Dashboard > WhatsApp > API setup, or use a live number.",
        False,
    ),
    132000: MetaErrorAdvice(
        "template_parameters_mismatch",
        "The template expects a different number of parameters.",
        "Pick an approved template without parameters (the test message sends none).",
        False,
    ),
    132001: MetaErrorAdvice(
        "template_not_found",
        "The template does not exist in that language, or is not approved yet.",
        "Pick an approved template and its language from WhatsApp Manager > Message templates "
        "(hello_world may be missing on production accounts).",
        False,
    ),
    132012: MetaErrorAdvice(
        "template_parameter_format",
        "A template parameter has the wrong format.",
        "Pick an approved template without parameters (the test message sends none).",
        False,
    ),
    132015: MetaErrorAdvice(
        "template_paused",
        "The template is paused for low quality.",
        "Pick another approved template, or edit this one in WhatsApp Manager.",
        False,
    ),
    132016: MetaErrorAdvice(
        "template_disabled",
        "The template is disabled.",
        "Pick another approved template in WhatsApp Manager > Message templates.",
        False,
    ),
    131042: MetaErrorAdvice(
        "payment_problem",
        "Meta reported a billing or eligibility problem.",
        "Check the payment method in WhatsApp Manager > Payment settings.",
        False,
    ),
    131037: MetaErrorAdvice(
        "display_name_not_approved",
        "The number's display name is not approved.",
        "Wait for the display name review, or request a new name in WhatsApp Manager.",
        False,
    ),
}


# A failed message whose report carried no code (Evolution's FAILED, or Meta's without errors[]).
UNEXPLAINED_FAILURE = MetaErrorAdvice(
    "message_failed",
    "Meta reported the message failed, without a reason.",
    "Send it again; if it keeps failing, check the recipient's number and run the diagnostics.",
    False,
)


def _rate_limit_window_seconds(now: datetime) -> int:
    return 3600 - (now.minute * 60 + now.second)


def advise(
    meta_code: int | None,
    meta_subcode: int | None = None,
    *,
    http_status: int = 400,
    is_transient: bool | None = None,
    now: datetime | None = None,
) -> MetaErrorAdvice:
    """Map one Graph error to advice for the tenant and a retry decision."""
    if meta_code == 190 and meta_subcode in TOKEN_SUBCODES:
        return TOKEN_SUBCODES[meta_subcode]
    if meta_code == 100 and meta_subcode == 33:
        return MetaErrorAdvice(
            "object_not_found",
            "The ID does not exist, or the token cannot see it.",
            "Copy the ID from WhatsApp Manager and check that the system user has the WhatsApp account assigned.",
            False,
        )
    if meta_code is not None and 200 <= meta_code <= 299:
        return CODES[10]
    if meta_code == 80007:
        return replace(CODES[80007], retry_after_seconds=_rate_limit_window_seconds(now or datetime.now(UTC)))
    if meta_code in CODES:
        return CODES[meta_code]
    retryable = bool(is_transient) or http_status >= 500
    return MetaErrorAdvice(
        "meta_error",
        f"Meta answered with error code {meta_code}.",
        _RETRY_LATER
        if retryable
        else "Check the credentials; if the problem persists, contact support with the fbtrace_id.",
        retryable,
        30 if retryable else None,
    )
