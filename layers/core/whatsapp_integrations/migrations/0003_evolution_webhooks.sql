-- What Evolution's webhooks tell us: message statuses per wamid with their history, outgoing messages, and when
-- each contact last wrote (the 24-hour customer-service window).

ALTER TABLE integrations
    -- HMAC-SHA-256 of the access token under a server-side key: lets the global webhook's `apikey` field prove
    -- the integration without storing anything that reveals the token.
    ADD COLUMN token_hmac text;

CREATE TABLE whatsapp_messages (
    integration_id  uuid        NOT NULL,
    tenant_id       text        NOT NULL,
    wamid           text        NOT NULL CHECK (length(wamid) BETWEEN 1 AND 256),
    recipient       text,
    sent_at         timestamptz,
    progress        text        NOT NULL CHECK (progress IN ('PENDING', 'SENT', 'DELIVERED', 'READ', 'PLAYED')),
    progress_rank   smallint    NOT NULL,
    failed_at       timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, wamid)
);

-- One row per (message, status): the primary key is the webhook's dedupe key, so a replay changes nothing.
CREATE TABLE whatsapp_message_statuses (
    integration_id  uuid        NOT NULL,
    wamid           text        NOT NULL,
    status          text        NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, wamid, status)
);

CREATE TABLE contact_activity (
    integration_id   uuid        NOT NULL,
    contact          text        NOT NULL CHECK (length(contact) BETWEEN 1 AND 64),
    last_inbound_at  timestamptz NOT NULL,
    PRIMARY KEY (integration_id, contact)
);
