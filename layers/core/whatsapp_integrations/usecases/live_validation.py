"""Validate credentials live against the Graph API: the calls run concurrently, their answers become problems."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from whatsapp_integrations.adapters.graph_client import GraphClient, GraphError, GraphUnreachable
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.domain.errors import CredentialsRejected, MetaUnavailable, ValidationProblem
from whatsapp_integrations.domain.meta_errors import advise
from whatsapp_integrations.domain.validated_credentials import (
    IntegrationWarning,
    PhoneProfile,
    TokenFacts,
    ValidatedCredentials,
)

REQUIRED_SCOPES = ("whatsapp_business_management", "whatsapp_business_messaging")
_UNREACHABLE_RETRY_AFTER_SECONDS = 30
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="graph")

# Which form field a failed call points at, when the error is not about the token itself.
_FIELD_OF_CALL = {
    "debug_token": "access_token",
    "waba_phone_numbers": "waba_id",
    "phone_number": "phone_number_id",
    "app_secret": "app_secret",
}


def validate_live(
    credentials: MetaCredentials, graph: GraphClient, now: datetime | None = None
) -> ValidatedCredentials:
    """Raise CredentialsRejected with every problem found, or MetaUnavailable when Meta could not answer.

    The caller has already run the local checks (`reject_malformed`) and counted the call against the rate limit.
    """
    outcomes = _call_graph_concurrently(credentials, graph)
    _raise_when_meta_unavailable(outcomes, now)
    problems = _problems_from_errors(outcomes, credentials)
    token_facts, token_problems, warnings = _review_token(outcomes.get("debug_token"), credentials)
    problems.extend(token_problems)
    phone_ids, phone = outcomes["waba_phone_numbers"], outcomes["phone_number"]
    if isinstance(phone_ids, set) and not isinstance(phone, Exception) and credentials.phone_number_id not in phone_ids:
        problems.append(
            ValidationProblem(
                "phone_number_id",
                "phone_number_not_in_waba",
                "This phone number ID does not belong to the WhatsApp Business Account you entered.",
                "In WhatsApp Manager open the account that lists this number and copy its WhatsApp Business "
                "Account ID, or pick a phone number ID from this account.",
            )
        )
    if problems:
        raise CredentialsRejected(_unique(problems))
    profile = phone_profile(phone if isinstance(phone, dict) else {})
    if credentials.app_secret is None:
        warnings.append(
            IntegrationWarning(
                code="app_secret_missing",
                message="Without the app ID and app secret the integration can be saved but not connected: Meta "
                "signs its webhooks with the app secret, and unverifiable webhooks are refused.",
                fix="Add the App ID and App secret from the Meta App Dashboard > App settings > Basic.",
            )
        )
    return ValidatedCredentials(
        phone_profile=profile, token_facts=token_facts, warnings=[*warnings, *_profile_warnings(profile)]
    )


def _call_graph_concurrently(credentials: MetaCredentials, graph: GraphClient) -> dict[str, Any]:
    token, secret = credentials.access_token, credentials.app_secret
    calls: dict[str, Callable[[], Any]] = {
        "debug_token": lambda: graph.debug_token(token, secret),
        "waba_phone_numbers": lambda: graph.phone_number_ids_of_waba(credentials.waba_id, token, secret),
        "phone_number": lambda: graph.phone_number(credentials.phone_number_id, token, secret),
    }
    if secret is not None and credentials.app_id is not None:
        app_id = credentials.app_id
        calls["app_secret"] = lambda: graph.prove_app_secret(app_id, secret)
    futures = {name: _executor.submit(call) for name, call in calls.items()}
    outcomes: dict[str, Any] = {}
    for name, future in futures.items():
        try:
            outcomes[name] = future.result()
        except (GraphError, GraphUnreachable) as error:
            outcomes[name] = error
    return outcomes


def _secret_refused(call: str, error: GraphError) -> bool:
    """Graph refuses a wrong client secret with a 4xx and code 1 (otherwise a transient code), 100 or 101."""
    return call == "app_secret" and error.http_status < 500 and error.code in (1, 100, 101, 190)


def _raise_when_meta_unavailable(outcomes: dict[str, Any], now: datetime | None) -> None:
    waits = []
    for call, outcome in outcomes.items():
        if isinstance(outcome, GraphUnreachable):
            waits.append(_UNREACHABLE_RETRY_AFTER_SECONDS)
        elif isinstance(outcome, GraphError) and not _secret_refused(call, outcome):
            advice = advise(
                outcome.code,
                outcome.subcode,
                http_status=outcome.http_status,
                is_transient=outcome.is_transient,
                now=now,
            )
            if advice.retryable:
                waits.append(advice.retry_after_seconds or _UNREACHABLE_RETRY_AFTER_SECONDS)
    if waits:
        raise MetaUnavailable(
            "Meta could not validate the credentials right now (unreachable, failing or rate limited). "
            "Nothing was stored; try again later.",
            retry_after_seconds=max(waits),
        )


def _problems_from_errors(outcomes: dict[str, Any], credentials: MetaCredentials) -> list[ValidationProblem]:
    secret_refused = isinstance(outcomes.get("app_secret"), GraphError)
    problems = []
    for call, outcome in outcomes.items():
        if not isinstance(outcome, GraphError):
            continue
        # Meta gives "appsecret_proof required/invalid" no code of its own (100), so only the message tells it.
        if outcome.mentions_appsecret_proof:
            if secret_refused:
                continue  # a wrong secret makes every proof wrong; the app_secret problem says it once
            problems.append(_proof_problem(credentials))
            continue
        problems.append(_problem_from_error(call, outcome))
    return problems


def _proof_problem(credentials: MetaCredentials) -> ValidationProblem:
    if credentials.app_secret is None:
        return ValidationProblem(
            "app_secret",
            "app_secret_required",
            "The app requires every server call to be signed with its app secret ('Require App Secret' is on).",
            "Enter the App ID and App secret from the Meta App Dashboard > App settings > Basic.",
        )
    return ValidationProblem(
        "app_secret",
        "app_secret_invalid",
        "The app secret does not belong to the app that issued the token.",
        "Copy the App secret of the app that issued this token (App settings > Basic).",
    )


def _problem_from_error(call: str, error: GraphError) -> ValidationProblem:
    if _secret_refused(call, error):
        advice = advise(101)
    else:
        advice = advise(error.code, error.subcode, http_status=error.http_status, is_transient=error.is_transient)
    field = "access_token" if advice.reauth_required else _FIELD_OF_CALL[call]
    return ValidationProblem(
        field, advice.code, advice.message, advice.fix, error.code, error.subcode, error.fbtrace_id
    )


def _review_token(
    debug: Any, credentials: MetaCredentials
) -> tuple[TokenFacts, list[ValidationProblem], list[IntegrationWarning]]:
    if not isinstance(debug, dict):
        return TokenFacts(), [], []
    facts = TokenFacts(
        type=debug.get("type"),
        app_id=str(debug["app_id"]) if debug.get("app_id") else None,
        expires_at=_timestamp(debug.get("expires_at")),
        data_access_expires_at=_timestamp(debug.get("data_access_expires_at")),
        scopes=[str(scope) for scope in debug.get("scopes") or []],
    )
    problems: list[ValidationProblem] = []
    warnings: list[IntegrationWarning] = []
    if debug.get("is_valid") is not True:
        error = debug["error"] if isinstance(debug.get("error"), dict) else {}
        advice = advise(_int(error.get("code")) or 190, _int(error.get("subcode")))
        problems.append(
            ValidationProblem(
                "access_token",
                advice.code,
                advice.message,
                advice.fix,
                _int(error.get("code")),
                _int(error.get("subcode")),
            )
        )
        return facts, problems, warnings
    if facts.type != "SYSTEM_USER":
        problems.append(
            ValidationProblem(
                "access_token",
                "token_not_system_user",
                f"This is a {facts.type or 'non-system-user'} token; it stops working within hours.",
                "Generate a token for a system user in Business settings > Users > System users.",
            )
        )
    missing = [scope for scope in REQUIRED_SCOPES if scope not in facts.scopes]
    if missing:
        problems.append(
            ValidationProblem(
                "access_token",
                "token_missing_scope",
                f"The token lacks the permission(s): {', '.join(missing)}.",
                "Generate a new system-user token and tick whatsapp_business_management and "
                "whatsapp_business_messaging.",
            )
        )
    if credentials.app_id is not None and facts.app_id is not None and facts.app_id != credentials.app_id:
        problems.append(
            ValidationProblem(
                "app_id",
                "app_id_mismatch",
                "The token was issued by another app than the app ID you entered.",
                "Enter the App ID of the app that issued the token, or generate the token from this app.",
            )
        )
    if facts.expires_at is not None:
        warnings.append(
            IntegrationWarning(
                code="token_expires",
                message=f"The token expires on {facts.expires_at.date().isoformat()}; messaging stops then.",
                fix="Generate a system-user token with expiry 'Never' and update the integration.",
            )
        )
    return facts, problems, warnings


def phone_profile(answer: dict[str, Any]) -> PhoneProfile:
    """Meta's answer for a phone number, reduced to the fields we show (unknown shapes are left out)."""
    fields = {name: answer.get(name) for name in PhoneProfile.model_fields if isinstance(answer.get(name), str)}
    limit = answer.get("whatsapp_business_manager_messaging_limit")
    fields["messaging_limit"] = limit if isinstance(limit, str) else None
    health = answer.get("health_status")
    if isinstance(health, dict) and isinstance(health.get("can_send_message"), str):
        fields["can_send_message"] = health["can_send_message"]
    return PhoneProfile(**fields)


def _profile_warnings(profile: PhoneProfile) -> list[IntegrationWarning]:
    checks = [
        (
            profile.quality_rating in ("YELLOW", "RED"),
            "quality_low",
            f"The number's quality rating is {profile.quality_rating}; Meta may limit its messaging.",
            "Review recent message quality in WhatsApp Manager > Account quality.",
        ),
        (
            profile.platform_type == "NOT_APPLICABLE",
            "phone_not_registered",
            "The number is not registered for the Cloud API yet.",
            "Register the number in WhatsApp Manager > Phone numbers before connecting.",
        ),
        (
            profile.name_status not in (None, "APPROVED", "AVAILABLE_WITHOUT_REVIEW"),
            "display_name_not_approved",
            f"The display name status is {profile.name_status}; messaging may be limited until it is approved.",
            "Check the display name in WhatsApp Manager > Phone numbers > Profile.",
        ),
        (
            profile.code_verification_status not in (None, "VERIFIED"),
            "phone_not_verified",
            "The number's ownership is not verified.",
            "Verify the number with its code in WhatsApp Manager.",
        ),
        (
            profile.account_mode == "SANDBOX",
            "test_number",
            "This is a test number: it can message at most 5 allowed recipients.",
            "Add a real phone number in WhatsApp Manager for production.",
        ),
    ]
    return [IntegrationWarning(code=code, message=message, fix=fix) for hit, code, message, fix in checks if hit]


def _timestamp(value: Any) -> datetime | None:
    seconds = _int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _unique(problems: list[ValidationProblem]) -> list[ValidationProblem]:
    seen: dict[tuple[str, str], ValidationProblem] = {}
    for problem in problems:
        seen.setdefault((problem.field, problem.code), problem)
    return list(seen.values())
