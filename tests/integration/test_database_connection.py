from __future__ import annotations

import threading

import pg8000.native
import pytest

from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.migrations import apply_migrations, migration_files
from whatsapp_integrations.domain.errors import DatabaseUnavailable
from whatsapp_integrations.settings import Settings


def backend_pid(database: Database) -> int:
    return int(database.in_transaction(lambda session: session.fetch_one("SELECT pg_backend_pid() AS pid"))["pid"])


def terminate(settings: Settings, pid: int) -> None:
    admin = connection_factory(settings)()
    try:
        admin.run("SELECT pg_terminate_backend(:pid)", pid=pid)
    finally:
        admin.close()


def test_a_terminated_backend_is_replaced_on_the_next_call(migrated: Settings) -> None:
    # Given a warm connection
    database = Database(connection_factory(migrated))
    first_pid = backend_pid(database)
    # When the server terminates its backend between two calls
    terminate(migrated, first_pid)
    # Then the next call reconnects once and succeeds on a new backend
    second_pid = backend_pid(database)
    assert second_pid != first_pid
    database.close()


def test_every_terminated_call_recovers(migrated: Settings) -> None:
    # pg8000 reports a killed backend as InterfaceError or a raw ConnectionResetError; both must recover
    database = Database(connection_factory(migrated))
    for _ in range(10):
        terminate(migrated, backend_pid(database))
        assert database.in_transaction(lambda session: session.fetch_one("SELECT 1 AS one"))["one"] == 1
    database.close()


def test_an_unreachable_database_is_reported_as_unavailable() -> None:
    # Given a database URL where nothing listens
    database = Database(
        connection_factory(
            Settings(database_url="postgresql://x@127.0.0.1:1/none", kms_key_id="k", db_connect_timeout_seconds=1)
        )
    )
    # Then the call fails with the domain's retryable error, not a driver error
    with pytest.raises(DatabaseUnavailable):
        database.in_transaction(lambda session: session.fetch("SELECT 1"))


def test_a_failed_unit_of_work_is_rolled_back(migrated: Settings) -> None:
    database = Database(connection_factory(migrated))

    def half_done(session):
        session.execute("CREATE TABLE rollback_probe (id int)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        database.in_transaction(half_done)
    exists = database.in_transaction(
        lambda session: session.fetch_one("SELECT to_regclass('rollback_probe') IS NOT NULL AS present")
    )
    assert exists["present"] is False
    database.close()


def test_migrations_apply_once_even_when_runners_race(migrated: Settings) -> None:
    # Given the schema is already current
    # When eight runners start at once
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        database = Database(connection_factory(migrated))
        try:
            results.append(apply_migrations(database))
        except BaseException as error:  # collected for the assertion below
            errors.append(error)
        finally:
            database.close()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then none fails and none applies anything again
    assert errors == []
    assert results == [[]] * 8
    database = Database(connection_factory(migrated))
    versions = database.in_transaction(lambda s: s.fetch("SELECT version FROM schema_migrations ORDER BY version"))
    assert [row["version"] for row in versions] == [version for version, _ in migration_files()]
    database.close()


def test_migrations_on_an_empty_database_apply_every_file(admin_database_url: str) -> None:
    from local.postgres import create_database, drop_database

    url = create_database(admin_database_url, "wa_migration_probe", drop_first=True)
    try:
        database = Database(connection_factory(Settings(database_url=url, kms_key_id="k")))
        assert apply_migrations(database) == [version for version, _ in migration_files()]
        assert apply_migrations(database) == []
        database.close()
    finally:
        drop_database(admin_database_url, "wa_migration_probe")


def test_the_audit_trail_refuses_update_delete_and_truncate(migrated: Settings) -> None:
    connection = connection_factory(migrated)()
    try:
        connection.run(
            "INSERT INTO audit_events (tenant_id, integration_id, actor, action) "
            "VALUES ('t', gen_random_uuid(), 'a', 'probe')"
        )
        for statement in ("UPDATE audit_events SET actor = 'b'", "DELETE FROM audit_events", "TRUNCATE audit_events"):
            with pytest.raises(pg8000.native.DatabaseError, match="append-only"):
                connection.run(statement)
    finally:
        connection.close()
