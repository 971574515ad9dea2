from __future__ import annotations

from datetime import UTC, datetime

import pytest

from whatsapp_integrations.domain.meta_errors import CODES, TOKEN_SUBCODES, advise


@pytest.mark.parametrize(
    ("subcode", "code"),
    [(463, "token_expired"), (467, "token_invalidated"), (460, "token_password_changed"), (None, "token_invalid")],
)
def test_token_errors_ask_for_a_new_token(subcode: int | None, code: str) -> None:
    # Given Meta's 190 with a subcode
    # When it is advised
    advice = advise(190, subcode, http_status=401)
    # Then it is permanent, asks for reauthorisation and tells how to get a new token
    assert (advice.code, advice.retryable, advice.reauth_required) == (code, False, True)
    assert "System users" in advice.fix


@pytest.mark.parametrize("code", [1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056, 133004, 131057])
def test_transient_codes_are_retried(code: int) -> None:
    assert advise(code).retryable is True
    assert advise(code).retry_after_seconds


@pytest.mark.parametrize("code", [0, 3, 10, 100, 190, 200, 299, 368, 131031, 131048, 133016])
def test_permanent_codes_are_not_retried(code: int) -> None:
    assert advise(code).retryable is False


def test_waba_rate_limit_waits_until_the_next_hour() -> None:
    advice = advise(80007, now=datetime(2026, 11, 29, 10, 45, 30, tzinfo=UTC))
    assert advice.retry_after_seconds == 14 * 60 + 30


def test_permission_range_maps_to_permission_denied() -> None:
    assert advise(230).code == "permission_denied"


def test_missing_object_is_explained() -> None:
    advice = advise(100, 33)
    assert advice.code == "object_not_found"
    assert "WhatsApp Manager" in advice.fix


def test_unknown_codes_follow_is_transient_and_http_status() -> None:
    assert advise(999999, is_transient=True).retryable is True
    assert advise(999999, http_status=502).retryable is True
    assert advise(999999, http_status=400).retryable is False


def test_every_catalogued_code_has_a_message_and_a_fix() -> None:
    for advice in [*CODES.values(), *TOKEN_SUBCODES.values()]:
        assert advice.code and advice.message and advice.fix
