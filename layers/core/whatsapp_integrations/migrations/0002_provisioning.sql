-- Provisioning through Evolution API: the instance we own, the webhook secret, the last error, and every
-- status transition.

ALTER TABLE integrations
    ADD COLUMN evolution_instance_name   text,
    ADD COLUMN evolution_instance_id     text,
    ADD COLUMN evolution_state           text,
    -- SHA-256 of the per-integration secret Evolution sends in its webhook headers; the KMS ciphertext is kept
    -- only so that a drifted webhook config can be repaired.
    ADD COLUMN webhook_secret_hash       text,
    ADD COLUMN webhook_secret_ciphertext bytea,
    ADD COLUMN last_error                jsonb,
    ADD COLUMN last_checked_at           timestamptz,
    ADD COLUMN pending_operation         text CHECK (pending_operation IN ('connect', 'disconnect', 'delete', 'reprovision'));

CREATE UNIQUE INDEX integrations_evolution_instance ON integrations (evolution_instance_name)
    WHERE deleted_at IS NULL AND evolution_instance_name IS NOT NULL;

CREATE TABLE integration_status_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text        NOT NULL,
    integration_id  uuid        NOT NULL,
    from_status     text        NOT NULL,
    to_status       text        NOT NULL,
    reason          text        NOT NULL,
    error           jsonb,
    correlation_id  text,
    occurred_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX integration_status_history_page ON integration_status_history (tenant_id, integration_id, id DESC);
