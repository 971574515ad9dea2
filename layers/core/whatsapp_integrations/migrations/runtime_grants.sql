-- What the functions' database role may do (applied after every migration run, so new tables are covered).
-- The tables belong to the migration owner; the runtime role only reads and writes rows, never changes the schema,
-- and on the audit trail and the status history it may only add rows: it can neither update, delete or truncate
-- them, nor drop or disable the trigger that forbids it (only an owner can).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatsapp_runtime') THEN
        CREATE ROLE whatsapp_runtime NOLOGIN;
    END IF;
EXCEPTION
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'whatsapp_runtime is missing and the migration owner may not create roles: create it, then migrate again';
    WHEN duplicate_object OR unique_violation THEN
        NULL;  -- roles belong to the cluster: a migration of another database created it at the same moment
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'whatsapp_runtime') THEN
        RETURN;
    END IF;
    EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM whatsapp_runtime';
    EXECUTE 'GRANT USAGE ON SCHEMA public TO whatsapp_runtime';
    EXECUTE 'GRANT SELECT ON schema_migrations TO whatsapp_runtime';
    EXECUTE 'GRANT SELECT, INSERT ON audit_events, integration_status_history TO whatsapp_runtime';
    EXECUTE 'GRANT SELECT, INSERT, UPDATE ON whatsapp_messages, whatsapp_message_statuses, contact_activity,
        integration_activity TO whatsapp_runtime';
    EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON integrations, rate_limit_windows, outbox TO whatsapp_runtime';
    EXECUTE 'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO whatsapp_runtime';
END
$$;
