from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from local import graph_simulator as sim
from whatsapp_integrations.adapters import audit_log
from whatsapp_integrations.adapters.secret_cipher import SecretContext
from whatsapp_integrations.domain.audit import AuditEntry
from whatsapp_integrations.domain.caller import Caller, Origin
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.create_integration import create_integration
from whatsapp_integrations.usecases.update_integration import IntegrationChanges, update_integration

SECOND_TOKEN = sim.VALID_TOKEN[:-4] + "ZZZZ"


def demo(phone: str, **extra: str) -> MetaCredentials:
    return MetaCredentials(phone_number_id=phone, waba_id=sim.DEMO_WABA_ID, access_token=sim.VALID_TOKEN, **extra)


def pg_dump_binary() -> str:
    found = shutil.which("pg_dump") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))), None)
    if found is None:
        pytest.fail("pg_dump is needed to dump the database")
    return str(found)


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(
    services: Services, caller: Caller, other_caller: Caller
) -> None:
    # Given two integrations of two tenants
    first = create_integration(caller, "A", demo(sim.DEMO_PHONE_NUMBER_IDS[0]), services)
    second = create_integration(
        other_caller,
        "B",
        demo(sim.DEMO_PHONE_NUMBER_IDS[1], app_id=sim.DEMO_APP_ID, app_secret=sim.DEMO_APP_SECRET),
        services,
    )
    # When an attacker with database access copies A's token ciphertext into B's row
    services.database.in_transaction(
        lambda session: session.execute(
            "UPDATE integrations SET access_token_ciphertext = "
            "(SELECT access_token_ciphertext FROM integrations WHERE id = :source) WHERE id = :target",
            source=first.id,
            target=second.id,
        )
    )
    moved = services.database.in_transaction(
        lambda session: session.fetch_one(
            "SELECT access_token_ciphertext, app_secret_ciphertext FROM integrations WHERE id = :id", id=second.id
        )
    )
    # Then decrypting it in B's row fails: the encryption context binds tenant, integration and field
    with pytest.raises(ClientError, match="InvalidCiphertextException"):
        services.cipher.decrypt(
            moved["access_token_ciphertext"], SecretContext(other_caller.tenant_id, second.id, "access_token")
        )
    # And a ciphertext used for another field of the same row fails too
    with pytest.raises(ClientError, match="InvalidCiphertextException"):
        services.cipher.decrypt(
            moved["app_secret_ciphertext"], SecretContext(other_caller.tenant_id, second.id, "access_token")
        )
    # While in its own row it still decrypts
    assert (
        services.cipher.decrypt(
            moved["access_token_ciphertext"], SecretContext(caller.tenant_id, first.id, "access_token")
        )
        == sim.VALID_TOKEN
    )


def test_a_database_dump_contains_no_plaintext_secret(services: Services, caller: Caller, database_url: str) -> None:
    # Given integrations created and updated with tokens and an app secret
    created = create_integration(
        caller,
        "A",
        demo(sim.DEMO_PHONE_NUMBER_IDS[0], app_id=sim.DEMO_APP_ID, app_secret=sim.DEMO_APP_SECRET),
        services,
    )
    update_integration(caller, created.id, IntegrationChanges({"access_token": SECOND_TOKEN}), 1, services)
    services.database.in_transaction(
        lambda session: audit_log.record(
            session,
            tenant_id=caller.tenant_id,
            integration_id=created.id,
            origin=Origin("probe"),
            entry=AuditEntry("probe"),
        )
    )
    # When the whole database is dumped
    parts = urlsplit(database_url)
    dump = subprocess.run(
        [
            pg_dump_binary(),
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "--data-only",
            parts.path.lstrip("/"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # Then no secret appears, neither as text nor as hex-encoded bytes
    assert str(created.id) in dump and created.token_fingerprint in dump  # the dump holds the rows
    for secret in (sim.VALID_TOKEN, SECOND_TOKEN, sim.DEMO_APP_SECRET):
        assert secret not in dump
        assert secret.encode().hex() not in dump
