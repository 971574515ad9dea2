"""The functions' database role: it reads and writes rows, nothing more. The audit trail and the status history take
new rows only, and not even the trigger that guards them can be dropped or disabled with this role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit
from uuid import uuid4

import pg8000.native
import pytest
from pg8000.exceptions import DatabaseError

from whatsapp_integrations.settings import Settings

PASSWORD = "runtime-role-test"


@pytest.fixture
def runtime(migrated: Settings) -> Iterator[pg8000.native.Connection]:
    """A login role that is a member of whatsapp_runtime, as a deployment creates it, connected to the test database."""
    assert migrated.database_url is not None
    parts = urlsplit(migrated.database_url)
    admin = pg8000.native.Connection(
        user=parts.username or "postgres",
        host=parts.hostname,
        port=parts.port or 5432,
        database=parts.path.lstrip("/"),
        password=parts.password,
    )
    name = f"runtime_test_{os.getpid()}"
    admin.run(f"DROP ROLE IF EXISTS {name}")
    admin.run(f"CREATE ROLE {name} LOGIN PASSWORD '{PASSWORD}' IN ROLE whatsapp_runtime")
    connection = pg8000.native.Connection(
        user=name, host=parts.hostname, port=parts.port or 5432, database=parts.path.lstrip("/"), password=PASSWORD
    )
    yield connection
    connection.close()
    admin.run(f"DROP OWNED BY {name}")
    admin.run(f"DROP ROLE {name}")
    admin.close()


def sqlstate(error: DatabaseError) -> str:
    return str(error.args[0].get("C")) if error.args and isinstance(error.args[0], dict) else ""


def test_the_runtime_role_adds_audit_rows_and_reads_them(runtime: pg8000.native.Connection) -> None:
    tenant = f"t-{uuid4().hex[:8]}"
    runtime.run(
        "INSERT INTO audit_events (tenant_id, integration_id, actor, action) VALUES (:t, :i, 'u', 'probe')",
        t=tenant,
        i=uuid4(),
    )
    assert runtime.run("SELECT action FROM audit_events WHERE tenant_id = :t", t=tenant) == [["probe"]]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete",
        "DROP TRIGGER audit_events_no_update_or_delete ON audit_events",
        "DROP TABLE audit_events",
        "UPDATE integration_status_history SET reason = 'forged'",
        "DELETE FROM integration_status_history",
        "ALTER TABLE integrations ADD COLUMN backdoor text",
        "CREATE TABLE shadow (id int)",
        "TRUNCATE integrations",
    ],
)
def test_the_runtime_role_cannot_rewrite_history_or_the_schema(
    runtime: pg8000.native.Connection, statement: str
) -> None:
    # When the runtime role tries it, then PostgreSQL refuses for lack of privilege (not for lack of rows)
    with pytest.raises(DatabaseError) as refused:
        runtime.run(statement)
    assert sqlstate(refused.value) == "42501", refused.value
