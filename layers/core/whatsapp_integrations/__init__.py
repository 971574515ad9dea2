"""WhatsApp Business integrations for a multi-tenant SaaS: domain, use cases and adapters shared by every function."""
