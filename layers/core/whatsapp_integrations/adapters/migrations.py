"""Apply the ordered plain-SQL files under migrations/ once each, one runner at a time."""

from __future__ import annotations

from importlib import resources

from whatsapp_integrations.adapters.database import Database, Session

# Any constant works; it only has to be the same for every runner of this schema.
_ADVISORY_LOCK_KEY = 7_120_443_901


RUNTIME_GRANTS = "runtime_grants.sql"


def migration_files() -> list[tuple[str, str]]:
    """The numbered migrations, in order."""
    folder = resources.files("whatsapp_integrations") / "migrations"
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql") and entry.name[:4].isdigit()),
        key=lambda entry: entry.name,
    )
    return [(entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8")) for entry in files]


def runtime_grants() -> str:
    return (resources.files("whatsapp_integrations") / "migrations" / RUNTIME_GRANTS).read_text(encoding="utf-8")


def apply_migrations(database: Database) -> list[str]:
    """Return the versions applied by this call (empty when the schema was already current)."""
    return database.in_transaction(_apply_all)


def _apply_all(session: Session) -> list[str]:
    # A transaction-level lock: concurrent runners wait here, then find the work already done.
    session.execute("SELECT pg_advisory_xact_lock(:key)", key=_ADVISORY_LOCK_KEY)
    session.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
        "applied_at timestamptz NOT NULL DEFAULT now())"
    )
    done = {row["version"] for row in session.fetch("SELECT version FROM schema_migrations")}
    applied = []
    for version, sql in migration_files():
        if version in done:
            continue
        session.execute_script(sql)
        session.execute("INSERT INTO schema_migrations (version) VALUES (:version)", version=version)
        applied.append(version)
    session.execute_script(runtime_grants())
    return applied
