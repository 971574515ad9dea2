from __future__ import annotations

import pytest

from whatsapp_integrations.domain.credentials import MetaCredentials, check_locally, token_fingerprint

TOKEN = "EAADEMOVALIDTOKEN0000000000000000000000000000"


def credentials(**overrides: str | None) -> MetaCredentials:
    values: dict[str, str | None] = {
        "phone_number_id": "100000000000001",
        "waba_id": "200000000000001",
        "access_token": TOKEN,
    }
    values.update(overrides)
    return MetaCredentials(**values)  # type: ignore[arg-type]


def codes(problems: list) -> set[tuple[str, str]]:
    return {(problem.field, problem.code) for problem in problems}


def test_well_formed_credentials_have_no_local_problem() -> None:
    # Given credentials shaped like Meta's
    # When they are checked locally
    problems = check_locally(credentials(app_id="300000000000001", app_secret="0123456789abcdef0123456789abcdef"))
    # Then nothing is reported
    assert problems == []


@pytest.mark.parametrize("pasted", ["+1 555 010 0000", "+15550100000", "(555) 010-0000", "5511999990000"])
def test_a_phone_number_in_the_id_field_is_named_as_such(pasted: str) -> None:
    # Given a phone number typed where the phone number ID belongs
    # When it is checked
    problems = check_locally(credentials(phone_number_id=pasted))
    # Then the problem says exactly that
    assert codes(problems) == {("phone_number_id", "phone_number_instead_of_id")}
    assert "phone number ID" in problems[0].fix


@pytest.mark.parametrize("waba_id", ["abc", "12 34", "", "1234"])
def test_a_waba_id_must_be_digits(waba_id: str) -> None:
    assert codes(check_locally(credentials(waba_id=waba_id))) == {("waba_id", "waba_id_malformed")}


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "access_token_missing"),
        ("EAA token with spaces in it 1234567", "access_token_malformed"),
        ("short", "access_token_malformed"),
        ("XYZ" + "a" * 40, "access_token_not_meta"),
    ],
)
def test_token_shape(token: str, code: str) -> None:
    assert codes(check_locally(credentials(access_token=token))) == {("access_token", code)}


def test_an_app_secret_needs_its_app_id() -> None:
    problems = check_locally(credentials(app_secret="0123456789abcdef0123456789abcdef"))
    assert ("app_id", "app_id_required") in codes(problems)


def test_the_same_id_twice_is_caught() -> None:
    problems = check_locally(credentials(waba_id="100000000000001"))
    assert ("waba_id", "same_id_twice") in codes(problems)


def test_fingerprint_shows_last_four_and_a_short_hash_never_the_token() -> None:
    # Given a token
    # When it is fingerprinted
    fingerprint = token_fingerprint(TOKEN)
    # Then only its tail and a hash prefix show, and different tokens differ
    assert fingerprint.startswith("…0000 (sha256:")
    assert TOKEN[:-4] not in fingerprint
    assert fingerprint != token_fingerprint(TOKEN[:-1] + "1")


def test_credentials_repr_hides_secrets() -> None:
    shown = repr(credentials(app_id="300000000000001", app_secret="0123456789abcdef0123456789abcdef"))
    assert TOKEN not in shown
    assert "0123456789abcdef" not in shown
