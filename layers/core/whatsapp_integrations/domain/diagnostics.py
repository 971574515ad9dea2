"""The connection doctor's checklist: one item per link of the chain (the token, the phone number at Meta, the
WABA's webhook wiring, the Evolution instance, and the traffic that proves events flow), each with what was found,
what to do, and a section of docs/troubleshooting.md. Pure: the use case gathers the facts, this judges them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from whatsapp_integrations.domain.integration import WebhookActivity
from whatsapp_integrations.domain.provisioning import IntegrationError


class CheckStatus(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"  # the side could not be reached now


# id -> (group, title). The order is the order of the checklist.
CHECKS: dict[str, tuple[str, str]] = {
    "token.valid": ("token", "The access token is valid"),
    "token.expiry": ("token", "The access token does not expire"),
    "token.scopes": ("token", "The token has both WhatsApp permissions"),
    "token.app_secret_proof": ("token", "The app secret is accepted"),
    "phone.status": ("phone", "The number is connected at Meta"),
    "phone.name_status": ("phone", "The display name is approved"),
    "phone.quality": ("phone", "The number's quality rating"),
    "phone.messaging_limit": ("phone", "The messaging limit"),
    "phone.code_verification": ("phone", "The number is verified"),
    "phone.health": ("phone", "Meta lets the number send messages"),
    "waba.app_subscribed": ("waba", "The app is subscribed to the WhatsApp Business Account"),
    "waba.webhook_override": ("waba", "Meta delivers this number's webhooks to this service"),
    "evolution.instance": ("evolution", "The Evolution instance exists"),
    "evolution.number": ("evolution", "The instance serves this number and WABA"),
    "evolution.token": ("evolution", "The instance uses the stored token"),
    "evolution.webhook": ("evolution", "The instance posts its webhooks to this service"),
    "traffic.meta_events": ("traffic", "Meta's webhooks arrive"),
    "traffic.evolution_events": ("traffic", "Evolution's webhooks arrive"),
    "traffic.stuck_messages": ("traffic", "No message is stuck at SENT"),
    "traffic.recent_failures": ("traffic", "Recent message failures"),
    "traffic.dead_letters": ("traffic", "Nothing waits in a dead-letter queue"),
}

REQUIRED_SCOPES = ("whatsapp_business_management", "whatsapp_business_messaging")
_RISKY_PHONE_STATUSES = {"BANNED", "RESTRICTED", "FLAGGED", "DISCONNECTED", "DELETED", "RATE_LIMITED"}
_QUIET_AFTER = timedelta(hours=24)
_REGENERATE = "Generate a new system-user token (Business settings > System users) and update the integration."


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: CheckStatus
    detail: str
    fix: str | None = None
    repairable: bool = False
    repaired: str | None = None

    @property
    def group(self) -> str:
        return CHECKS[self.id][0]

    @property
    def title(self) -> str:
        return CHECKS[self.id][1]

    @property
    def link(self) -> str:
        return f"docs/troubleshooting.md#check-{self.id.replace('.', '-')}"


@dataclass(frozen=True)
class Diagnosis:
    integration_id: UUID
    checked_at: datetime
    items: list[CheckResult]

    @property
    def summary(self) -> CheckStatus:
        return summary(self.items)


def ok(check: str, detail: str) -> CheckResult:
    return CheckResult(check, CheckStatus.OK, detail)


def unknown(checks: Sequence[str], why: str) -> list[CheckResult]:
    return [CheckResult(check, CheckStatus.UNKNOWN, why, "Run the diagnosis again in a moment.") for check in checks]


def from_error(checks: Sequence[str], error: IntegrationError) -> list[CheckResult]:
    """Meta or Evolution refused the question itself (an invalid token, say): the first check fails with the
    reason, the others cannot be answered."""
    first = CheckResult(checks[0], CheckStatus.FAIL, error.message, error.fix)
    return [first, *unknown(checks[1:], f"Not checked: {error.message}")]


def ordered(results: Sequence[CheckResult]) -> list[CheckResult]:
    position = {check: index for index, check in enumerate(CHECKS)}
    return sorted(results, key=lambda result: position[result.id])


def summary(results: Sequence[CheckResult]) -> CheckStatus:
    statuses = {result.status for result in results}
    for worst in (CheckStatus.FAIL, CheckStatus.UNKNOWN, CheckStatus.WARN):
        if worst in statuses:
            return worst
    return CheckStatus.OK


def repaired(result: CheckResult, what: str) -> CheckResult:
    return replace(result, repaired=what)


# ------------------------------------------------------------------------------------------------------ token


def token_checks(debug: Mapping[str, Any], now: datetime) -> list[CheckResult]:
    """From debug_token's `data`."""
    results = []
    if debug.get("is_valid") is not True:
        results.append(CheckResult("token.valid", CheckStatus.FAIL, "Meta says the token is not valid.", _REGENERATE))
        return results + unknown(("token.expiry", "token.scopes"), "Not checked: the token is not valid.")
    kind = debug.get("type")
    if kind == "SYSTEM_USER":
        results.append(ok("token.valid", "A valid system-user token."))
    else:
        results.append(
            CheckResult("token.valid", CheckStatus.WARN, f"A valid {kind or 'non-system-user'} token.", _REGENERATE)
        )
    expires = debug.get("expires_at")
    if not expires:
        results.append(ok("token.expiry", "The token never expires."))
    else:
        when = datetime.fromtimestamp(int(expires), now.tzinfo)
        status = CheckStatus.FAIL if when <= now else CheckStatus.WARN
        detail = f"The token {'expired' if when <= now else 'expires'} on {when.date().isoformat()}."
        results.append(CheckResult("token.expiry", status, detail, _REGENERATE))
    scopes = [str(scope) for scope in debug.get("scopes") or []]
    missing = [scope for scope in REQUIRED_SCOPES if scope not in scopes]
    if missing:
        fix = "Generate the token again and tick " + " and ".join(REQUIRED_SCOPES) + "."
        results.append(CheckResult("token.scopes", CheckStatus.FAIL, f"Missing: {', '.join(missing)}.", fix))
    else:
        results.append(ok("token.scopes", "Both WhatsApp permissions are granted."))
    return results


def app_secret_check(has_app_secret: bool, refusal: IntegrationError | None) -> CheckResult:
    if not has_app_secret:
        return CheckResult(
            "token.app_secret_proof",
            CheckStatus.WARN,
            "No app secret is stored: Meta's webhooks cannot be verified, so they are not wired to this service.",
            "Add the App ID and App secret (App Dashboard > App settings > Basic), then connect again.",
        )
    if refusal is not None:
        return CheckResult("token.app_secret_proof", CheckStatus.FAIL, refusal.message, refusal.fix)
    return ok("token.app_secret_proof", "Meta accepts the app ID and secret.")


# ------------------------------------------------------------------------------------------------------ phone


def phone_checks(phone: Mapping[str, Any]) -> list[CheckResult]:
    """From GET /{phone_number_id} with health_status."""
    status = str(phone.get("status") or "UNKNOWN")
    name = str(phone.get("name_status") or "NONE")
    quality = str(phone.get("quality_rating") or "UNKNOWN")
    limit = phone.get("whatsapp_business_manager_messaging_limit")
    verification = str(phone.get("code_verification_status") or "UNKNOWN")
    whatsapp_manager = "Open WhatsApp Manager > Phone numbers and follow what Meta says there."
    return [
        _graded(
            "phone.status",
            status,
            {"CONNECTED": CheckStatus.OK},
            CheckStatus.FAIL if status in _RISKY_PHONE_STATUSES else CheckStatus.WARN,
            f"Meta's status of the number: {status}.",
            whatsapp_manager,
        ),
        _graded(
            "phone.name_status",
            name,
            {"APPROVED": CheckStatus.OK, "AVAILABLE_WITHOUT_REVIEW": CheckStatus.OK},
            CheckStatus.FAIL if name in ("DECLINED", "EXPIRED") else CheckStatus.WARN,
            f"Display name status: {name}.",
            "Request or fix the display name in WhatsApp Manager > Phone numbers > Profile.",
        ),
        _graded(
            "phone.quality",
            quality,
            {"GREEN": CheckStatus.OK},
            CheckStatus.FAIL if quality == "RED" else CheckStatus.WARN,
            f"Quality rating: {quality}.",
            "Review the quality of recent messages in WhatsApp Manager > Account quality.",
        ),
        ok("phone.messaging_limit", f"Messaging limit: {limit or 'not reported'}.")
        if limit != "TIER_250"
        else CheckResult(
            "phone.messaging_limit",
            CheckStatus.WARN,
            "Messaging limit: 250 customers a day (the lowest tier).",
            "Verify the business and keep quality high; Meta raises the limit by itself.",
        ),
        _graded(
            "phone.code_verification",
            verification,
            {"VERIFIED": CheckStatus.OK},
            CheckStatus.WARN,
            f"Code verification: {verification}.",
            "Verify the number with the code Meta sends (WhatsApp Manager > Phone numbers).",
        ),
        _health(phone.get("health_status")),
    ]


def _graded(
    check: str,
    value: str,
    good: Mapping[str, CheckStatus],
    otherwise: CheckStatus,
    detail: str,
    fix: str,
) -> CheckResult:
    status = good.get(value, otherwise)
    return CheckResult(check, status, detail, None if status == CheckStatus.OK else fix)


def _health(health: Any) -> CheckResult:
    if not isinstance(health, dict) or not isinstance(health.get("can_send_message"), str):
        return CheckResult("phone.health", CheckStatus.UNKNOWN, "Meta did not report the number's health.")
    overall = health["can_send_message"]
    if overall == "AVAILABLE":
        return ok("phone.health", "Meta lets every entity (number, WABA, business, app) send messages.")
    problems = []
    fixes = []
    for entity in health.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("can_send_message") == "AVAILABLE":
            continue
        for error in entity.get("errors") or []:
            if isinstance(error, dict):
                problems.append(
                    f"{entity.get('entity_type')}: {error.get('error_description') or error.get('error_code')}"
                )
                if error.get("possible_solution"):
                    fixes.append(str(error["possible_solution"]))
        for info in entity.get("additional_info") or []:
            problems.append(f"{entity.get('entity_type')}: {info}")
    detail = f"Meta says {overall}" + (f": {'; '.join(problems)}." if problems else ".")
    status = CheckStatus.FAIL if overall == "BLOCKED" else CheckStatus.WARN
    return CheckResult("phone.health", status, detail, " ".join(fixes) or "Open WhatsApp Manager > Account quality.")


# ------------------------------------------------------------------------------------------------------ WABA


def app_subscribed_check(subscribed_apps: Sequence[Mapping[str, Any]], app_id: str | None) -> CheckResult:
    apps = {
        str((entry.get("whatsapp_business_api_data") or {}).get("id"))
        for entry in subscribed_apps
        if isinstance(entry.get("whatsapp_business_api_data"), dict)
    }
    if app_id is not None and app_id in apps:
        return ok("waba.app_subscribed", "The app receives this WhatsApp Business Account's webhooks.")
    if app_id is None and apps:
        return ok("waba.app_subscribed", f"{len(apps)} app(s) receive this account's webhooks.")
    return CheckResult(
        "waba.app_subscribed",
        CheckStatus.FAIL,
        "The app is not subscribed to this WhatsApp Business Account: no webhook of it reaches the app.",
        "Use Repair (it subscribes the app again), or Connect again.",
        repairable=True,
    )


def webhook_override_check(configuration: Mapping[str, Any], ours: str | None) -> CheckResult:
    current = configuration.get("phone_number")
    if ours is None:
        return CheckResult(
            "waba.webhook_override",
            CheckStatus.WARN,
            "Meta's webhooks are not wired to this service for this number (it was connected without the app "
            "secret, or is not connected).",
            "Add the App ID and App secret, then Connect.",
        )
    if current == ours:
        return ok("waba.webhook_override", "Meta delivers this number's messages and statuses to this service.")
    if not current:
        detail = "The number's webhook override is gone: Meta delivers its events elsewhere (or nowhere)."
    else:
        holder = str(current).split("/")[2] if str(current).count("/") >= 2 else str(current)[:100]
        detail = f"Another platform holds the number's webhook override: {holder}."
    return CheckResult(
        "waba.webhook_override",
        CheckStatus.FAIL,
        detail,
        "Use Repair to set it back to this service (take the number off the other platform first).",
        repairable=True,
    )


# ------------------------------------------------------------------------------------------------------ Evolution


@dataclass(frozen=True)
class InstanceFacts:
    exists: bool
    number: str | None = None
    business_id: str | None = None
    token_fingerprint: str | None = None
    webhook_matches: bool | None = None  # None: no config of ours to compare with


def evolution_checks(
    facts: InstanceFacts, phone_number_id: str, waba_id: str, stored_fingerprint: str
) -> list[CheckResult]:
    if not facts.exists:
        missing = CheckResult(
            "evolution.instance",
            CheckStatus.FAIL,
            "The Evolution instance of this integration does not exist.",
            "Use Repair (it re-creates the instance), or Connect again.",
            repairable=True,
        )
        rest = ("evolution.number", "evolution.token", "evolution.webhook")
        return [missing, *unknown(rest, "Not checked: the instance does not exist.")]
    results = [ok("evolution.instance", "The instance exists.")]
    if facts.number == phone_number_id and facts.business_id in (waba_id, None):
        results.append(ok("evolution.number", "It serves this phone number ID and WABA."))
    else:
        results.append(
            CheckResult(
                "evolution.number",
                CheckStatus.FAIL,
                f"It serves number {facts.number} of WABA {facts.business_id}.",
                "Contact support with the integration id: the gateway instance must be re-created by an operator.",
            )
        )
    if facts.token_fingerprint == stored_fingerprint:
        results.append(ok("evolution.token", "It sends with the token stored here (fingerprints match)."))
    else:
        results.append(
            CheckResult(
                "evolution.token",
                CheckStatus.FAIL,
                f"It sends with another token ({facts.token_fingerprint or 'unknown'}, not {stored_fingerprint}).",
                "Use Repair (it re-creates the instance with the stored token).",
                repairable=True,
            )
        )
    if facts.webhook_matches is False:
        results.append(
            CheckResult(
                "evolution.webhook",
                CheckStatus.FAIL,
                "Its webhook configuration is not ours (URL, secret or events differ): statuses stop arriving.",
                "Use Repair (it sets the configuration again).",
                repairable=True,
            )
        )
    else:
        results.append(ok("evolution.webhook", "It posts the events we consume to this service, with our secret."))
    return results


def not_connected(status: str) -> list[CheckResult]:
    detail = f"No instance is expected while the integration is {status}."
    checks = ("evolution.instance", "evolution.number", "evolution.token", "evolution.webhook")
    return [CheckResult(check, CheckStatus.OK, detail) for check in checks]


# ------------------------------------------------------------------------------------------------------ traffic


@dataclass(frozen=True)
class TrafficFacts:
    activity: WebhookActivity
    stuck_messages: int
    failures_by_code: Mapping[int | None, int]
    dead_letters: Mapping[str, int]  # queue -> messages of this integration waiting there


def traffic_checks(facts: TrafficFacts, now: datetime, *, meta_wired: bool, connected: bool) -> list[CheckResult]:
    return [
        _arrival("traffic.meta_events", "Meta", facts.activity.last_meta_event_at, now, expected=meta_wired),
        _arrival(
            "traffic.evolution_events", "Evolution", facts.activity.last_evolution_event_at, now, expected=connected
        ),
        ok("traffic.stuck_messages", "No message waits at SENT for more than 24 hours.")
        if not facts.stuck_messages
        else CheckResult(
            "traffic.stuck_messages",
            CheckStatus.WARN,
            f"{facts.stuck_messages} message(s) sent more than 24 hours ago have no delivery report.",
            "Check the webhook items above: Meta's statuses may not reach this service.",
        ),
        ok("traffic.recent_failures", "No message failed in the last 7 days.")
        if not facts.failures_by_code
        else CheckResult(
            "traffic.recent_failures",
            CheckStatus.WARN,
            "Failed in the last 7 days, by Meta's code: "
            + ", ".join(
                f"{code if code is not None else 'no code'}: {count}" for code, count in facts.failures_by_code.items()
            )
            + ".",
            "Open a failed message (GET …/messages/{wamid}) for Meta's reason and its fix.",
        ),
        ok("traffic.dead_letters", "No message of this integration waits in a dead-letter queue.")
        if not any(facts.dead_letters.values())
        else CheckResult(
            "traffic.dead_letters",
            CheckStatus.FAIL,
            "Waiting in dead-letter queues: "
            + ", ".join(f"{queue}: {count}" for queue, count in facts.dead_letters.items() if count)
            + ".",
            "Operators: fix the cause in the logs, then `make redrive` moves them back.",
        ),
    ]


def _arrival(check: str, side: str, last: datetime | None, now: datetime, *, expected: bool) -> CheckResult:
    if last is not None and now - last <= _QUIET_AFTER:
        return ok(check, f"{side}'s last webhook arrived at {last.isoformat(timespec='seconds')}.")
    if not expected:
        return ok(check, f"{side}'s webhooks are not expected now.")
    detail = (
        f"No webhook from {side} since {last.isoformat(timespec='seconds')}."
        if last
        else f"No webhook from {side} yet."
    )
    return CheckResult(check, CheckStatus.WARN, detail, "Send a test message: its statuses prove the path works.")
