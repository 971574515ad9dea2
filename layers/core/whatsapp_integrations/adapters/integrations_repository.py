"""Integrations in PostgreSQL. Every statement is scoped to one tenant except the global phone-number guard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pg8000.exceptions import DatabaseError

from whatsapp_integrations.adapters.database import Row, Session, sqlstate
from whatsapp_integrations.domain.errors import PhoneNumberAlreadyConnected
from whatsapp_integrations.domain.integration import Integration
from whatsapp_integrations.domain.lifecycle import IntegrationStatus

_UNIQUE_VIOLATION = "23505"
_COLUMNS = """id, tenant_id, name, phone_number_id, waba_id, app_id, token_fingerprint,
    app_secret_ciphertext IS NOT NULL AS has_app_secret, status, phone_profile, token_facts, warnings, version,
    created_at, updated_at, status_changed_at"""


@dataclass(frozen=True)
class StoredSecrets:
    access_token_ciphertext: bytes
    app_secret_ciphertext: bytes | None
    kms_key_id: str


@dataclass(frozen=True)
class PageKey:
    """Position after the last row of a page, newest first."""

    created_at: datetime
    id: UUID


def insert(session: Session, integration: Integration, secrets: StoredSecrets) -> Integration:
    try:
        row = session.fetch_one(
            f"""INSERT INTO integrations (id, tenant_id, name, phone_number_id, waba_id, app_id,
                    access_token_ciphertext, app_secret_ciphertext, kms_key_id, token_fingerprint, status,
                    phone_profile, token_facts, warnings)
                VALUES (:id, :tenant_id, :name, :phone_number_id, :waba_id, :app_id, :access_token_ciphertext,
                    :app_secret_ciphertext, :kms_key_id, :token_fingerprint, :status, CAST(:phone_profile AS jsonb),
                    CAST(:token_facts AS jsonb), CAST(:warnings AS jsonb))
                RETURNING {_COLUMNS}""",
            id=integration.id,
            tenant_id=integration.tenant_id,
            name=integration.name,
            phone_number_id=integration.phone_number_id,
            waba_id=integration.waba_id,
            app_id=integration.app_id,
            access_token_ciphertext=secrets.access_token_ciphertext,
            app_secret_ciphertext=secrets.app_secret_ciphertext,
            kms_key_id=secrets.kms_key_id,
            token_fingerprint=integration.token_fingerprint,
            status=integration.status.value,
            **_json_columns(integration),
        )
    except DatabaseError as error:
        _raise_if_phone_number_taken(error)
        raise
    assert row is not None
    return _integration(row)


def get(session: Session, tenant_id: str, integration_id: UUID) -> Integration | None:
    row = session.fetch_one(
        f"SELECT {_COLUMNS} FROM integrations WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL",
        tenant_id=tenant_id,
        id=integration_id,
    )
    return _integration(row) if row else None


def get_for_update(session: Session, tenant_id: str, integration_id: UUID) -> tuple[Integration, StoredSecrets] | None:
    row = session.fetch_one(
        f"""SELECT {_COLUMNS}, access_token_ciphertext, app_secret_ciphertext, kms_key_id FROM integrations
            WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL FOR UPDATE""",
        tenant_id=tenant_id,
        id=integration_id,
    )
    if row is None:
        return None
    secrets = StoredSecrets(row.pop("access_token_ciphertext"), row.pop("app_secret_ciphertext"), row.pop("kms_key_id"))
    return _integration(row), secrets


def list_page(
    session: Session, tenant_id: str, *, status: IntegrationStatus | None, after: PageKey | None, limit: int
) -> list[Integration]:
    conditions = ["tenant_id = :tenant_id", "deleted_at IS NULL"]
    params: dict[str, Any] = {"tenant_id": tenant_id, "limit": limit}
    if status is not None:
        conditions.append("status = :status")
        params["status"] = status.value
    if after is not None:
        conditions.append("(created_at, id) < (:after_created_at, :after_id)")
        params.update(after_created_at=after.created_at, after_id=after.id)
    rows = session.fetch(
        f"SELECT {_COLUMNS} FROM integrations WHERE {' AND '.join(conditions)} "
        "ORDER BY created_at DESC, id DESC LIMIT :limit",
        **params,
    )
    return [_integration(row) for row in rows]


def replace(session: Session, integration: Integration, secrets: StoredSecrets, expected_version: int) -> Integration:
    """Write the new state when the stored version is still `expected_version`; the caller holds the row lock."""
    try:
        row = session.fetch_one(
            f"""UPDATE integrations SET name = :name, phone_number_id = :phone_number_id, waba_id = :waba_id,
                    app_id = :app_id, access_token_ciphertext = :access_token_ciphertext,
                    app_secret_ciphertext = :app_secret_ciphertext, kms_key_id = :kms_key_id,
                    token_fingerprint = :token_fingerprint, phone_profile = CAST(:phone_profile AS jsonb),
                    token_facts = CAST(:token_facts AS jsonb), warnings = CAST(:warnings AS jsonb),
                    version = version + 1, updated_at = now()
                WHERE tenant_id = :tenant_id AND id = :id AND version = :expected_version AND deleted_at IS NULL
                RETURNING {_COLUMNS}""",
            name=integration.name,
            phone_number_id=integration.phone_number_id,
            waba_id=integration.waba_id,
            app_id=integration.app_id,
            access_token_ciphertext=secrets.access_token_ciphertext,
            app_secret_ciphertext=secrets.app_secret_ciphertext,
            kms_key_id=secrets.kms_key_id,
            token_fingerprint=integration.token_fingerprint,
            tenant_id=integration.tenant_id,
            id=integration.id,
            expected_version=expected_version,
            **_json_columns(integration),
        )
    except DatabaseError as error:
        _raise_if_phone_number_taken(error)
        raise
    assert row is not None, "the caller locked the row at this version"
    return _integration(row)


def soft_delete(session: Session, tenant_id: str, integration_id: UUID) -> bool:
    changed = session.execute(
        "UPDATE integrations SET deleted_at = now(), updated_at = now(), version = version + 1 "
        "WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL",
        tenant_id=tenant_id,
        id=integration_id,
    )
    return changed == 1


def _json_columns(integration: Integration) -> dict[str, str]:
    return {
        "phone_profile": integration.phone_profile.model_dump_json(),
        "token_facts": integration.token_facts.model_dump_json(),
        "warnings": json.dumps([warning.model_dump() for warning in integration.warnings]),
    }


def _integration(row: Row) -> Integration:
    return Integration.model_validate(row)


def _raise_if_phone_number_taken(error: DatabaseError) -> None:
    if sqlstate(error) == _UNIQUE_VIOLATION:
        raise PhoneNumberAlreadyConnected() from None
