-- Meta's webhooks through our relay: the per-connect verify token Meta's handshake must present, the callback URL
-- we set as the phone number's override, what Meta's own statuses say that Evolution drops, and when each side
-- last reached us.

ALTER TABLE integrations
    -- SHA-256 of the verify token (checked by the handshake) and its KMS ciphertext (field meta_verify_token),
    -- kept so that a drifted override can be set again with the same token.
    ADD COLUMN meta_verify_token_hash        text,
    ADD COLUMN meta_verify_token_ciphertext  bytea,
    -- The override we set at Meta (the integration's own URL under PUBLIC_API_URL); NULL: none set by us.
    ADD COLUMN meta_callback_url             text;

-- Meta's failure details and pricing, beside the status they came with (Evolution passes neither on).
ALTER TABLE whatsapp_message_statuses
    ADD COLUMN error_code     integer,
    ADD COLUMN error_title    text,
    ADD COLUMN error_message  text,
    ADD COLUMN error_details  text,
    ADD COLUMN pricing        jsonb;

CREATE TABLE integration_activity (
    integration_id           uuid PRIMARY KEY,
    tenant_id                text        NOT NULL,
    last_meta_event_at       timestamptz,
    last_evolution_event_at  timestamptz
);
