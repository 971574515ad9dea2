"""The only code that touches PostgreSQL, KMS, Secrets Manager and the Graph API."""
