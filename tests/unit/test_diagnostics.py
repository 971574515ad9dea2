"""The connection doctor's judgments: each check's ok, warn, fail and unknown outcomes, from Meta's and Evolution's
answers as they come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from whatsapp_integrations.domain import diagnostics as checks
from whatsapp_integrations.domain.diagnostics import CheckStatus, InstanceFacts, TrafficFacts
from whatsapp_integrations.domain.integration import WebhookActivity
from whatsapp_integrations.domain.provisioning import IntegrationError

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
VALID = {
    "is_valid": True,
    "type": "SYSTEM_USER",
    "expires_at": 0,
    "scopes": ["whatsapp_business_management", "whatsapp_business_messaging"],
}
PHONE = {
    "status": "CONNECTED",
    "name_status": "APPROVED",
    "quality_rating": "GREEN",
    "whatsapp_business_manager_messaging_limit": "TIER_2K",
    "code_verification_status": "VERIFIED",
    "health_status": {"can_send_message": "AVAILABLE", "entities": []},
}
OURS = "https://api.example.com/webhooks/meta/1"


def by_id(results: list[checks.CheckResult]) -> dict[str, CheckStatus]:
    return {result.id: result.status for result in results}


@pytest.mark.parametrize(
    ("debug", "expected"),
    [
        (VALID, {"token.valid": "ok", "token.expiry": "ok", "token.scopes": "ok"}),
        ({**VALID, "type": "USER"}, {"token.valid": "warn", "token.expiry": "ok", "token.scopes": "ok"}),
        (
            {**VALID, "expires_at": int((NOW + timedelta(days=20)).timestamp())},
            {"token.valid": "ok", "token.expiry": "warn", "token.scopes": "ok"},
        ),
        (
            {**VALID, "expires_at": int((NOW - timedelta(days=1)).timestamp())},
            {"token.valid": "ok", "token.expiry": "fail", "token.scopes": "ok"},
        ),
        (
            {**VALID, "scopes": ["whatsapp_business_management"]},
            {"token.valid": "ok", "token.expiry": "ok", "token.scopes": "fail"},
        ),
        ({"is_valid": False}, {"token.valid": "fail", "token.expiry": "unknown", "token.scopes": "unknown"}),
    ],
    ids=["valid", "user token", "expires soon", "expired", "missing scope", "invalid"],
)
def test_token_checks(debug: dict[str, Any], expected: dict[str, str]) -> None:
    assert by_id(checks.token_checks(debug, NOW)) == expected


def test_the_app_secret_check() -> None:
    refusal = IntegrationError(code="app_secret_invalid", message="wrong", fix="copy it")
    assert checks.app_secret_check(True, None).status == CheckStatus.OK
    assert checks.app_secret_check(True, refusal).status == CheckStatus.FAIL
    assert checks.app_secret_check(False, None).status == CheckStatus.WARN


@pytest.mark.parametrize(
    ("change", "check", "status"),
    [
        ({}, "phone.status", "ok"),
        ({"status": "PENDING"}, "phone.status", "warn"),
        ({"status": "FLAGGED"}, "phone.status", "fail"),
        ({"name_status": "PENDING_REVIEW"}, "phone.name_status", "warn"),
        ({"name_status": "DECLINED"}, "phone.name_status", "fail"),
        ({"quality_rating": "YELLOW"}, "phone.quality", "warn"),
        ({"quality_rating": "RED"}, "phone.quality", "fail"),
        ({"whatsapp_business_manager_messaging_limit": "TIER_250"}, "phone.messaging_limit", "warn"),
        ({"code_verification_status": "EXPIRED"}, "phone.code_verification", "warn"),
        ({"health_status": None}, "phone.health", "unknown"),
    ],
)
def test_phone_checks(change: dict[str, Any], check: str, status: str) -> None:
    assert by_id(checks.phone_checks({**PHONE, **change}))[check] == status


def test_a_blocked_entity_shows_metas_own_reason_and_solution() -> None:
    health = {
        "can_send_message": "BLOCKED",
        "entities": [
            {"entity_type": "PHONE_NUMBER", "can_send_message": "AVAILABLE"},
            {
                "entity_type": "WABA",
                "can_send_message": "BLOCKED",
                "errors": [
                    {
                        "error_code": 141010,
                        "error_description": "The account has been disabled.",
                        "possible_solution": "Request a review in Business Support Home.",
                    }
                ],
            },
        ],
    }
    [result] = [item for item in checks.phone_checks({**PHONE, "health_status": health}) if item.id == "phone.health"]
    assert result.status == CheckStatus.FAIL
    assert (
        "WABA: The account has been disabled." in result.detail
        and result.fix == "Request a review in Business Support Home."
    )


def test_waba_checks() -> None:
    subscribed = [{"whatsapp_business_api_data": {"id": "300000000000001"}}]
    assert checks.app_subscribed_check(subscribed, "300000000000001").status == CheckStatus.OK
    missing = checks.app_subscribed_check([], "300000000000001")
    assert (missing.status, missing.repairable) == (CheckStatus.FAIL, True)
    assert checks.webhook_override_check({"phone_number": OURS}, OURS).status == CheckStatus.OK
    taken = checks.webhook_override_check({"phone_number": "https://other.example/hook"}, OURS)
    assert (taken.status, taken.repairable) == (CheckStatus.FAIL, True) and "other.example" in taken.detail
    assert checks.webhook_override_check({}, OURS).status == CheckStatus.FAIL
    assert checks.webhook_override_check({}, None).status == CheckStatus.WARN


def test_evolution_checks() -> None:
    good = InstanceFacts(True, "111", "222", "fp", True)
    assert set(by_id(checks.evolution_checks(good, "111", "222", "fp")).values()) == {CheckStatus.OK}
    mismatched = InstanceFacts(True, "999", "222", "other-fp", False)
    assert by_id(checks.evolution_checks(mismatched, "111", "222", "fp")) == {
        "evolution.instance": "ok",
        "evolution.number": "fail",
        "evolution.token": "fail",
        "evolution.webhook": "fail",
    }
    gone = checks.evolution_checks(InstanceFacts(False), "111", "222", "fp")
    assert by_id(gone)["evolution.instance"] == "fail" and gone[0].repairable
    assert {result.status for result in gone[1:]} == {CheckStatus.UNKNOWN}


def test_traffic_checks() -> None:
    quiet = TrafficFacts(WebhookActivity(NOW - timedelta(days=2), None), 3, {131047: 2, None: 1}, {"relay": 1})
    assert by_id(checks.traffic_checks(quiet, NOW, meta_wired=True, connected=True)) == {
        "traffic.meta_events": "warn",
        "traffic.evolution_events": "warn",
        "traffic.stuck_messages": "warn",
        "traffic.recent_failures": "warn",
        "traffic.dead_letters": "fail",
    }
    busy = TrafficFacts(WebhookActivity(NOW - timedelta(minutes=3), NOW), 0, {}, {"relay": 0})
    assert set(by_id(checks.traffic_checks(busy, NOW, meta_wired=True, connected=True)).values()) == {CheckStatus.OK}


def test_the_summary_is_the_worst_item_and_every_link_points_to_its_section() -> None:
    results = [*checks.unknown(("token.valid",), "Meta could not be reached."), checks.ok("token.scopes", "fine")]
    assert checks.summary(results) == CheckStatus.UNKNOWN
    assert checks.summary([*results, checks.CheckResult("token.expiry", CheckStatus.FAIL, "x")]) == CheckStatus.FAIL
    assert results[0].link == "docs/troubleshooting.md#check-token-valid"
