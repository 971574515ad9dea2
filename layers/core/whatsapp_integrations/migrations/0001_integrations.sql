-- Integrations, their append-only audit trail, and the per-tenant rate-limit windows.

CREATE TABLE integrations (
    id                       uuid PRIMARY KEY,
    tenant_id                text        NOT NULL CHECK (length(tenant_id) BETWEEN 1 AND 200),
    name                     text        NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    phone_number_id          text        NOT NULL CHECK (phone_number_id ~ '^[0-9]{5,20}$'),
    waba_id                  text        NOT NULL CHECK (waba_id ~ '^[0-9]{5,20}$'),
    app_id                   text                 CHECK (app_id ~ '^[0-9]{5,20}$'),
    -- KMS ciphertexts; the encryption context binds each to tenant_id, id and the field name.
    access_token_ciphertext  bytea       NOT NULL,
    app_secret_ciphertext    bytea,
    kms_key_id               text        NOT NULL,
    token_fingerprint        text        NOT NULL,
    status                   text        NOT NULL CHECK (status IN (
        'validated', 'connecting', 'connected', 'disconnecting', 'disconnected', 'error', 'reauth_required')),
    phone_profile            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    token_facts              jsonb       NOT NULL DEFAULT '{}'::jsonb,
    warnings                 jsonb       NOT NULL DEFAULT '[]'::jsonb,
    version                  integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    status_changed_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at               timestamptz
);

-- One live integration per phone number across all tenants.
CREATE UNIQUE INDEX integrations_live_phone_number ON integrations (phone_number_id) WHERE deleted_at IS NULL;
-- Keyset pagination per tenant, newest first, with and without a status filter.
CREATE INDEX integrations_tenant_page ON integrations (tenant_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX integrations_tenant_status_page ON integrations (tenant_id, status, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

CREATE TABLE audit_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text        NOT NULL,
    integration_id  uuid        NOT NULL,
    actor           text        NOT NULL,
    action          text        NOT NULL,
    request_id      text,
    changed_fields  text[]      NOT NULL DEFAULT '{}',
    details         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    occurred_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX audit_events_integration_page ON audit_events (tenant_id, integration_id, id DESC);

CREATE FUNCTION audit_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_are_append_only();

CREATE TABLE rate_limit_windows (
    tenant_id     text        NOT NULL,
    bucket        text        NOT NULL,
    window_start  timestamptz NOT NULL,
    calls         integer     NOT NULL,
    PRIMARY KEY (tenant_id, bucket, window_start)
);
