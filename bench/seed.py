"""Bulk rows for one tenant, written straight to PostgreSQL (no KMS, no Meta): list and get never decrypt. And each
bench's own database name."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

import pg8000.native

SEED_SQL = """
INSERT INTO integrations (id, tenant_id, name, phone_number_id, waba_id, access_token_ciphertext, kms_key_id,
                          token_fingerprint, status, created_at, updated_at, status_changed_at)
SELECT gen_random_uuid(), :tenant_id, 'Bench ' || n, (CAST(:first_phone_number AS bigint) + n)::text, '200000000000001',
       '\\x00'::bytea, 'bench', 'fp-' || n, 'connected',
       created, created, created
FROM generate_series(1, :count) AS n,
     LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00' + n * interval '37 seconds' AS created) AS spread
"""


def bench_database(name: str) -> str:
    """A bench's own database, named for its process too: a `make test` (its quick benches) beside a `make bench`
    never drops the other's database under it."""
    return f"{name}_{os.getpid()}"


def connect(url: str) -> pg8000.native.Connection:
    parts = urlsplit(url)
    return pg8000.native.Connection(
        user=unquote(parts.username or "postgres"),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        database=parts.path.lstrip("/"),
        password=unquote(parts.password) if parts.password else None,
    )


def seed_integrations(
    connection: pg8000.native.Connection, tenant_id: str, count: int, first_phone_number: int
) -> None:
    """Insert `count` live integrations for `tenant_id`, phone numbers first_phone_number+1.., created 37 s apart."""
    connection.run(SEED_SQL, tenant_id=tenant_id, count=count, first_phone_number=first_phone_number)
