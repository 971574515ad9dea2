"""Integrations in PostgreSQL. Every statement is scoped to one tenant; only the phone-number index spans tenants."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from pg8000.exceptions import DatabaseError

from whatsapp_integrations.adapters.database import Row, Session, sqlstate
from whatsapp_integrations.domain.errors import PhoneNumberAlreadyConnected
from whatsapp_integrations.domain.integration import CheckTarget, Integration, PageKey, StatusChange, StoredSecrets
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.provisioning import IntegrationError
from whatsapp_integrations.domain.state_change import InstanceUpdate
from whatsapp_integrations.domain.validated_credentials import PhoneProfile

_UNIQUE_VIOLATION = "23505"
_COLUMNS = """id, tenant_id, name, phone_number_id, waba_id, app_id, token_fingerprint,
    app_secret_ciphertext IS NOT NULL AS has_app_secret, status, phone_profile, token_facts, warnings, version,
    created_at, updated_at, status_changed_at, last_error, evolution_instance_name, evolution_state, last_checked_at,
    pending_operation, meta_callback_url"""


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


_WITH_SECRETS = f"""SELECT {_COLUMNS}, access_token_ciphertext, app_secret_ciphertext, kms_key_id,
    webhook_secret_ciphertext, webhook_secrets_for, meta_verify_token_ciphertext
    FROM integrations WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL"""


def get_for_update(session: Session, tenant_id: str, integration_id: UUID) -> tuple[Integration, StoredSecrets] | None:
    """The row and its secrets, locked until the end of the caller's transaction (and no longer)."""
    return _with_secrets(session.fetch_one(f"{_WITH_SECRETS} FOR UPDATE", tenant_id=tenant_id, id=integration_id))


def get_with_secrets(
    session: Session, tenant_id: str, integration_id: UUID
) -> tuple[Integration, StoredSecrets] | None:
    return _with_secrets(session.fetch_one(_WITH_SECRETS, tenant_id=tenant_id, id=integration_id))


def _with_secrets(row: Row | None) -> tuple[Integration, StoredSecrets] | None:
    if row is None:
        return None
    secrets = StoredSecrets(
        row.pop("access_token_ciphertext"),
        row.pop("app_secret_ciphertext"),
        row.pop("kms_key_id"),
        row.pop("webhook_secret_ciphertext"),
        row.pop("webhook_secrets_for"),
        row.pop("meta_verify_token_ciphertext"),
    )
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


def transition(
    session: Session,
    integration: Integration,
    *,
    allowed_from: frozenset[IntegrationStatus],
    to: IntegrationStatus,
    reason: str,
    correlation_id: str | None,
    error: IntegrationError | None,
    pending_operation: str | None,
    instance: InstanceUpdate,
    expected_version: int | None,
    lease_owner: str | None,
) -> tuple[Integration, IntegrationStatus] | None:
    """Move to `to` only from one of `allowed_from` (and at `expected_version`, and while `lease_owner` holds the
    lease, when given), and record the change in the history: one statement. Returns the moved integration and
    the status it moved from, or None when the row did not qualify (another request got there first)."""
    row = session.fetch_one(
        f"""WITH target AS (
                SELECT id AS target_id, status AS from_status FROM integrations
                WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL AND status = ANY(:allowed_from)
                  AND (CAST(:expected_version AS integer) IS NULL OR version = :expected_version)
                  AND (CAST(:lease_owner AS text) IS NULL OR lease_owner = :lease_owner)
                FOR UPDATE
            ), moved AS (
                UPDATE integrations SET status = :to, status_changed_at = now(), last_error = CAST(:error AS jsonb),
                    pending_operation = :pending_operation,
                    evolution_instance_name = CASE WHEN :clear_instance THEN NULL
                        ELSE COALESCE(:instance_name, evolution_instance_name) END,
                    evolution_instance_id = CASE WHEN :clear_instance THEN NULL
                        ELSE COALESCE(:instance_id, evolution_instance_id) END,
                    evolution_state = CASE WHEN :clear_instance THEN NULL ELSE COALESCE(:state, evolution_state) END,
                    last_checked_at = COALESCE(:checked_at, last_checked_at),
                    version = version + 1, updated_at = now()
                FROM target WHERE id = target.target_id
                RETURNING {_COLUMNS}, target.from_status
            ), history AS (
                INSERT INTO integration_status_history (tenant_id, integration_id, from_status, to_status, reason,
                    error, correlation_id)
                SELECT tenant_id, id, from_status, :to, :reason, CAST(:error AS jsonb), :correlation_id FROM moved
            )
            SELECT * FROM moved""",
        to=to.value,
        error=error.model_dump_json() if error else None,
        pending_operation=pending_operation,
        instance_name=instance.name,
        instance_id=instance.instance_id,
        state=instance.state,
        checked_at=instance.checked_at,
        clear_instance=instance.clear,
        tenant_id=integration.tenant_id,
        id=integration.id,
        allowed_from=sorted(status.value for status in allowed_from),
        expected_version=expected_version,
        lease_owner=lease_owner,
        reason=reason,
        correlation_id=correlation_id,
    )
    if row is None:
        return None
    from_status = IntegrationStatus(row.pop("from_status"))
    return _integration(row), from_status


def store_webhook_secrets(
    session: Session,
    tenant_id: str,
    integration_id: UUID,
    *,
    evolution_secret_hash: str,
    evolution_secret_ciphertext: bytes,
    meta_verify_token_hash: str,
    meta_verify_token_ciphertext: bytes,
    issued_for: str,
    lease_owner: str,
) -> bool:
    """False when `lease_owner` no longer holds the provisioning lease (nothing written)."""
    changed = session.execute(
        """UPDATE integrations SET webhook_secret_hash = :evolution_secret_hash,
               webhook_secret_ciphertext = :evolution_secret_ciphertext,
               meta_verify_token_hash = :meta_verify_token_hash,
               meta_verify_token_ciphertext = :meta_verify_token_ciphertext, webhook_secrets_for = :issued_for
           WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL AND lease_owner = :lease_owner""",
        evolution_secret_hash=evolution_secret_hash,
        evolution_secret_ciphertext=evolution_secret_ciphertext,
        meta_verify_token_hash=meta_verify_token_hash,
        meta_verify_token_ciphertext=meta_verify_token_ciphertext,
        issued_for=issued_for,
        tenant_id=tenant_id,
        id=integration_id,
        lease_owner=lease_owner,
    )
    return changed == 1


def store_meta_callback_url(
    session: Session, tenant_id: str, integration_id: UUID, url: str | None, lease_owner: str | None
) -> bool:
    """The override we set at Meta (None: removed). A provisioner passes its lease; a repair passes None."""
    changed = session.execute(
        """UPDATE integrations SET meta_callback_url = :url
           WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL
             AND (CAST(:lease_owner AS text) IS NULL OR lease_owner = :lease_owner)""",
        url=url,
        tenant_id=tenant_id,
        id=integration_id,
        lease_owner=lease_owner,
    )
    return changed == 1


def store_token_hmac(session: Session, tenant_id: str, integration_id: UUID, token_hmac: str, lease_owner: str) -> bool:
    changed = session.execute(
        "UPDATE integrations SET token_hmac = :token_hmac "
        "WHERE tenant_id = :tenant_id AND id = :id AND lease_owner = :lease_owner",
        token_hmac=token_hmac,
        tenant_id=tenant_id,
        id=integration_id,
        lease_owner=lease_owner,
    )
    return changed == 1


def acquire_lease(session: Session, tenant_id: str, integration_id: UUID, owner: str, seconds: int) -> bool:
    """Claim the integration for one provisioning run: free, expired, or already ours."""
    changed = session.execute(
        """UPDATE integrations SET lease_owner = :owner, lease_expires_at = now() + make_interval(secs => :seconds)
           WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL
             AND (lease_owner IS NULL OR lease_owner = :owner OR lease_expires_at < now())""",
        owner=owner,
        seconds=seconds,
        tenant_id=tenant_id,
        id=integration_id,
    )
    return changed == 1


def lease_owner(session: Session, tenant_id: str, integration_id: UUID) -> str | None:
    row = session.fetch_one(
        "SELECT lease_owner FROM integrations WHERE tenant_id = :tenant_id AND id = :id",
        tenant_id=tenant_id,
        id=integration_id,
    )
    return row["lease_owner"] if row else None


def release_lease(session: Session, tenant_id: str, integration_id: UUID, owner: str) -> None:
    session.execute(
        "UPDATE integrations SET lease_owner = NULL, lease_expires_at = NULL "
        "WHERE tenant_id = :tenant_id AND id = :id AND lease_owner = :owner",
        tenant_id=tenant_id,
        id=integration_id,
        owner=owner,
    )


def status_history(session: Session, tenant_id: str, integration_id: UUID, limit: int) -> list[StatusChange]:
    rows = session.fetch(
        """SELECT from_status, to_status, reason, error, correlation_id, occurred_at FROM integration_status_history
           WHERE tenant_id = :tenant_id AND integration_id = :id ORDER BY id DESC LIMIT :limit""",
        tenant_id=tenant_id,
        id=integration_id,
        limit=limit,
    )
    return [StatusChange.model_validate(row) for row in rows]


def set_pending_operation(session: Session, integration: Integration, operation: str) -> Integration | None:
    """Record what to do once the running operation ends (a delete arriving while disconnecting)."""
    row = session.fetch_one(
        f"""UPDATE integrations SET pending_operation = :operation, version = version + 1, updated_at = now()
            WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL AND status = :status
            RETURNING {_COLUMNS}""",
        operation=operation,
        tenant_id=integration.tenant_id,
        id=integration.id,
        status=integration.status.value,
    )
    return _integration(row) if row else None


def needing_check(session: Session, *, after_id: UUID | None, limit: int, stuck_before: datetime) -> list[CheckTarget]:
    """Every live integration whose state may drift, across tenants (the scheduler's scan), in id order.

    Connecting ones are included only once they are older than the provisioning retry budget.
    """
    rows = session.fetch(
        """SELECT id, tenant_id FROM integrations
           WHERE deleted_at IS NULL
             AND (status IN ('connected', 'error', 'reauth_required')
                  OR (status = 'connecting' AND status_changed_at < :stuck_before))
             AND (CAST(:after_id AS uuid) IS NULL OR id > :after_id)
           ORDER BY id LIMIT :limit""",
        after_id=after_id,
        limit=limit,
        stuck_before=stuck_before,
    )
    return [CheckTarget(row["id"], row["tenant_id"]) for row in rows]


def record_check(
    session: Session,
    integration: Integration,
    *,
    phone_profile: PhoneProfile | None,
    evolution_state: str | None,
    checked_at: datetime,
) -> Integration | None:
    """What a status check saw, recorded only while the integration is still at the version the check read (None
    otherwise). The status itself changes only through `transition`. A changed profile is a new version of what
    GET shows (its ETag moves); a check that only confirms what was known is not."""
    row = session.fetch_one(
        f"""UPDATE integrations SET
                version = version + CASE WHEN phone_profile IS DISTINCT FROM
                    COALESCE(CAST(:phone_profile AS jsonb), phone_profile) THEN 1 ELSE 0 END,
                phone_profile = COALESCE(CAST(:phone_profile AS jsonb), phone_profile),
                evolution_state = COALESCE(:evolution_state, evolution_state), last_checked_at = :checked_at
            WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL AND version = :version
            RETURNING {_COLUMNS}""",
        version=integration.version,
        phone_profile=phone_profile.model_dump_json() if phone_profile else None,
        evolution_state=evolution_state,
        checked_at=checked_at,
        tenant_id=integration.tenant_id,
        id=integration.id,
    )
    return _integration(row) if row else None
