from __future__ import annotations

from uuid import uuid4

import pytest

from local import graph_simulator as sim
from tests.integration.conftest import limited_services, stopped_clock
from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.domain.errors import (
    CredentialsRejected,
    IntegrationNotFound,
    MetaUnavailable,
    PhoneNumberAlreadyConnected,
    RateLimited,
    VersionMismatch,
)
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.create_integration import create_integration
from whatsapp_integrations.usecases.delete_integration import delete_integration
from whatsapp_integrations.usecases.get_integration import get_integration
from whatsapp_integrations.usecases.list_audit_events import list_audit_events
from whatsapp_integrations.usecases.list_integrations import list_integrations
from whatsapp_integrations.usecases.secrets_storage import decrypt_access_token, decrypt_app_secret
from whatsapp_integrations.usecases.update_integration import IntegrationChanges, update_integration
from whatsapp_integrations.usecases.validate_credentials import validate_credentials

PHONE = sim.DEMO_PHONE_NUMBER_IDS[0]


def demo(phone: str = PHONE, token: str = sim.VALID_TOKEN, **extra: str) -> MetaCredentials:
    return MetaCredentials(phone_number_id=phone, waba_id=sim.DEMO_WABA_ID, access_token=token, **extra)


def count_rows(services: Services) -> int:
    return int(
        services.database.in_transaction(lambda session: session.fetch_one("SELECT count(*) AS n FROM integrations"))[
            "n"
        ]
    )


def stored_secrets(services: Services, caller: Caller, integration_id):
    found = services.database.in_transaction(
        lambda session: integrations_repository.get_for_update(session, caller.tenant_id, integration_id)
    )
    assert found is not None
    return found[1]


def test_create_validates_live_and_stores_a_validated_integration(services: Services, caller: Caller) -> None:
    # Given the demo credentials
    # When the tenant creates an integration
    created = create_integration(caller, "Main number", demo(), services)
    # Then it is validated, shows Meta's profile and the token facts, and never the token
    assert created.status == "validated" and created.version == 1
    assert created.phone_profile.verified_name == "Demo Shop 1"
    assert created.token_facts.type == "SYSTEM_USER"
    assert sim.VALID_TOKEN not in created.model_dump_json()
    assert created.token_fingerprint.startswith("…" + sim.VALID_TOKEN[-4:])
    assert get_integration(caller, created.id, services) == created
    # And the stored ciphertext decrypts back only with its own context
    secrets = stored_secrets(services, caller, created.id)
    assert decrypt_access_token(services.cipher, caller.tenant_id, created.id, secrets) == sim.VALID_TOKEN


def test_an_expired_token_stores_nothing_and_says_how_to_fix_it(services: Services, caller: Caller) -> None:
    with pytest.raises(CredentialsRejected) as raised:
        create_integration(caller, "Main", demo(token=sim.EXPIRED_TOKEN), services)
    [problem] = raised.value.problems
    assert (problem.code, problem.meta_code, problem.meta_subcode) == ("token_expired", 190, 463)
    assert problem.fbtrace_id and "Generate new token" in problem.fix
    assert count_rows(services) == 0


@pytest.mark.parametrize("token", [sim.RATE_LIMITED_TOKEN, sim.GRAPH_5XX_TOKEN])
def test_meta_trouble_is_unavailable_and_stores_nothing(services: Services, caller: Caller, token: str) -> None:
    with pytest.raises(MetaUnavailable) as raised:
        create_integration(caller, "Main", demo(token=token), services)
    assert raised.value.retry_after_seconds > 0
    assert count_rows(services) == 0


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        (demo(token=sim.NO_MESSAGING_SCOPE_TOKEN), ("access_token", "token_missing_scope")),
        (demo(phone=sim.FOREIGN_PHONE_NUMBER_ID), ("phone_number_id", "phone_number_not_in_waba")),
        (demo(token=sim.USER_TOKEN), ("access_token", "token_not_system_user")),
        (demo(app_id=sim.DEMO_APP_ID, app_secret="f" * 32), ("app_secret", "app_secret_invalid")),
        (demo(token=sim.REQUIRES_PROOF_TOKEN), ("app_secret", "app_secret_required")),
    ],
)
def test_each_demo_failure_names_its_field(services: Services, caller: Caller, credentials, expected) -> None:
    with pytest.raises(CredentialsRejected) as raised:
        validate_credentials(caller, credentials, services)
    assert expected in {(problem.field, problem.code) for problem in raised.value.problems}


def test_dry_run_validation_stores_nothing(services: Services, caller: Caller) -> None:
    validated = validate_credentials(caller, demo(app_id=sim.DEMO_APP_ID, app_secret=sim.DEMO_APP_SECRET), services)
    assert validated.phone_profile.display_phone_number
    assert count_rows(services) == 0


def test_an_expiring_token_is_accepted_with_a_warning(services: Services, caller: Caller) -> None:
    created = create_integration(
        caller, "Main", demo(token=sim.EXPIRING_TOKEN, app_id=sim.DEMO_APP_ID, app_secret=sim.DEMO_APP_SECRET), services
    )
    assert [warning.code for warning in created.warnings] == ["token_expires"]
    assert created.token_facts.expires_at is not None


def test_without_the_app_secret_it_is_stored_with_a_warning_that_connecting_needs_it(
    services: Services, caller: Caller
) -> None:
    # Given credentials without the app ID and secret
    created = create_integration(caller, "Main", demo(), services)
    # Then the integration is stored, and the warning says why it cannot be connected yet
    assert [warning.code for warning in created.warnings] == ["app_secret_missing"]
    assert "connected" in created.warnings[0].message


def test_a_phone_number_belongs_to_one_live_integration_across_tenants(
    services: Services, caller: Caller, other_caller: Caller
) -> None:
    # Given tenant A connected the number
    first = create_integration(caller, "A", demo(), services)
    # When tenant B, with valid credentials for it, tries the same number, it is refused
    with pytest.raises(PhoneNumberAlreadyConnected):
        create_integration(other_caller, "B", demo(), services)
    # And once A deletes it, B may use it
    delete_integration(caller, first.id, None, services)
    assert create_integration(other_caller, "B", demo(), services).tenant_id == other_caller.tenant_id


def test_renaming_needs_no_call_to_meta(services: Services, caller: Caller, graph: sim.GraphSimulator) -> None:
    created = create_integration(caller, "Old", demo(), services)
    graph.reset_calls()
    renamed = update_integration(caller, created.id, IntegrationChanges({"name": "New"}), 1, services)
    assert (renamed.name, renamed.version) == ("New", 2)
    assert graph.calls == []


def test_a_stale_version_is_refused_and_changes_nothing(services: Services, caller: Caller) -> None:
    created = create_integration(caller, "Main", demo(), services)
    update_integration(caller, created.id, IntegrationChanges({"name": "Second"}), 1, services)
    with pytest.raises(VersionMismatch) as raised:
        update_integration(caller, created.id, IntegrationChanges({"name": "Third"}), 1, services)
    assert raised.value.current_version == 2
    assert get_integration(caller, created.id, services).name == "Second"


def test_changed_credentials_are_validated_again_and_bad_ones_change_nothing(
    services: Services, caller: Caller
) -> None:
    created = create_integration(caller, "Main", demo(), services)
    with pytest.raises(CredentialsRejected):
        update_integration(caller, created.id, IntegrationChanges({"access_token": sim.EXPIRED_TOKEN}), 1, services)
    unchanged = get_integration(caller, created.id, services)
    assert unchanged == created
    assert (
        decrypt_access_token(
            services.cipher, caller.tenant_id, created.id, stored_secrets(services, caller, created.id)
        )
        == sim.VALID_TOKEN
    )


def test_omitted_secrets_keep_their_value_and_null_removes_the_app(services: Services, caller: Caller) -> None:
    created = create_integration(caller, "Main", demo(app_id=sim.DEMO_APP_ID, app_secret=sim.DEMO_APP_SECRET), services)
    assert created.has_app_secret
    # When only the phone number changes, the stored token and secret are reused for the validation
    moved = update_integration(
        caller, created.id, IntegrationChanges({"phone_number_id": sim.DEMO_PHONE_NUMBER_IDS[1]}), 1, services
    )
    secrets = stored_secrets(services, caller, created.id)
    assert moved.phone_number_id == sim.DEMO_PHONE_NUMBER_IDS[1] and moved.has_app_secret
    assert decrypt_app_secret(services.cipher, caller.tenant_id, created.id, secrets) == sim.DEMO_APP_SECRET
    # When app_id and app_secret are sent as null, they are removed
    cleared = update_integration(
        caller, created.id, IntegrationChanges({"app_id": None, "app_secret": None}), 2, services
    )
    assert (cleared.app_id, cleared.has_app_secret) == (None, False)


def test_the_audit_trail_lists_changes_newest_first_without_secrets(services: Services, caller: Caller) -> None:
    created = create_integration(caller, "Main", demo(), services)
    update_integration(caller, created.id, IntegrationChanges({"access_token": sim.VALID_TOKEN + "X"}), 1, services)
    delete_integration(caller, created.id, 2, services)
    # The audit trail of a deleted integration is no longer served, so read it from a fresh one
    kept = create_integration(caller, "Kept", demo(), services)
    update_integration(caller, kept.id, IntegrationChanges({"name": "Kept 2"}), 1, services)
    page = list_audit_events(caller, kept.id, services, before_id=None, limit=10)
    assert [event.action for event in page.items] == ["integration.updated", "integration.created"]
    assert page.items[0].changed_fields == ["name"] and page.items[0].actor == caller.actor
    assert page.items[0].request_id == caller.request_id
    rows = services.database.in_transaction(lambda s: s.fetch("SELECT details::text AS d FROM audit_events"))
    assert all(sim.VALID_TOKEN not in row["d"] for row in rows)


def test_audit_pages_follow_each_other(services: Services, caller: Caller) -> None:
    created = create_integration(caller, "v1", demo(), services)
    for version in range(1, 5):
        update_integration(caller, created.id, IntegrationChanges({"name": f"v{version + 1}"}), version, services)
    first = list_audit_events(caller, created.id, services, before_id=None, limit=3)
    second = list_audit_events(caller, created.id, services, before_id=first.next_before_id, limit=3)
    assert len(first.items) == 3 and len(second.items) == 2 and second.next_before_id is None
    assert [event.id for event in first.items + second.items] == sorted(
        (event.id for event in first.items + second.items), reverse=True
    )


def test_another_tenants_id_is_not_found_everywhere(services: Services, caller: Caller, other_caller: Caller) -> None:
    created = create_integration(caller, "Main", demo(), services)
    with pytest.raises(IntegrationNotFound):
        get_integration(other_caller, created.id, services)
    with pytest.raises(IntegrationNotFound):
        update_integration(other_caller, created.id, IntegrationChanges({"name": "x"}), 1, services)
    with pytest.raises(IntegrationNotFound):
        delete_integration(other_caller, created.id, None, services)
    with pytest.raises(IntegrationNotFound):
        list_audit_events(other_caller, created.id, services, before_id=None, limit=5)
    assert list_integrations(other_caller, services, status=None, after=None, limit=10).items == []
    assert get_integration(caller, created.id, services).name == "Main"


def test_listing_pages_through_everything_once(services: Services, caller: Caller) -> None:
    ids = {
        create_integration(caller, f"n{i}", demo(phone=phone), services).id
        for i, phone in enumerate(sim.DEMO_PHONE_NUMBER_IDS[:5])
    }
    seen, after = [], None
    while True:
        page = list_integrations(caller, services, status=None, after=after, limit=2)
        seen.extend(item.id for item in page.items)
        if page.next_key is None:
            break
        after = page.next_key
    assert len(seen) == 5 and set(seen) == ids
    assert list_integrations(caller, services, status=IntegrationStatus.CONNECTED, after=None, limit=10).items == []
    assert len(list_integrations(caller, services, status=IntegrationStatus.VALIDATED, after=None, limit=10).items) == 5


def test_the_meta_call_limit_holds_across_instances(services: Services, caller: Caller, migrated) -> None:
    # Given a limit of 2 calls a minute and two "Lambda instances" with their own connections, in the same minute
    clock = stopped_clock()
    limited = limited_services(migrated, clock)
    other_instance = limited_services(migrated, clock)
    # When the tenant validates twice on one and once on the other
    validate_credentials(caller, demo(), limited)
    validate_credentials(caller, demo(), other_instance)
    # Then the third call is refused with a Retry-After, whichever instance serves it
    with pytest.raises(RateLimited) as raised:
        validate_credentials(caller, demo(), limited)
    assert 1 <= raised.value.retry_after_seconds <= 61
    # And another tenant is not affected
    validate_credentials(Caller(f"t-{uuid4().hex[:6]}", "u"), demo(), limited)
    other_instance.database.close()
    limited.database.close()
