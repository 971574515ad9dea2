-- One owner for every state change: what a transaction sends is written in it (the outbox) and sent after it;
-- the provisioner's exclusion becomes a lease on the row; audit rows say where a change came from.

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text        NOT NULL,
    integration_id  uuid        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('provisioning', 'domain_event')),
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text
);

CREATE INDEX outbox_integration ON outbox (integration_id, id);

ALTER TABLE integrations
    -- The provisioner that works on this integration now, and until when its claim holds (longer than the
    -- worker's timeout). Every write of a provisioning step requires the owner still to hold it.
    ADD COLUMN lease_owner        text,
    ADD COLUMN lease_expires_at   timestamptz,
    -- The connect request the current webhook secrets were issued for: a retry of the same connect reuses them,
    -- a new connect rotates them.
    ADD COLUMN webhook_secrets_for text;

ALTER TABLE audit_events
    ADD COLUMN source_ip  text,
    ADD COLUMN user_agent text;
