"""Steps shared by every use case that reaches Meta: local checks first, then the tenant's rate limit."""

from __future__ import annotations

from whatsapp_integrations.adapters import rate_limiter
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials, check_locally
from whatsapp_integrations.domain.errors import CredentialsRejected
from whatsapp_integrations.services import Services

META_CALLS_BUCKET = "meta_calls"  # validate, create, update, repair: what a change needs
# Refresh and diagnostics are reads: a read-only token polling them must not use up what changes need
META_CHECKS_BUCKET = "meta_checks"
_COUNTED = {
    META_CALLS_BUCKET: "calls that reach Meta",
    META_CHECKS_BUCKET: "checks that reach Meta (diagnostics, refresh)",
}


def reject_malformed(credentials: MetaCredentials) -> None:
    problems = check_locally(credentials)
    if problems:
        raise CredentialsRejected(problems)


def count_meta_call(caller: Caller, services: Services, bucket: str = META_CALLS_BUCKET) -> None:
    """Committed on its own, so a call counts even when the validation that follows fails. Each bucket allows the
    tenant `meta_calls_per_minute`."""
    services.database.in_transaction(
        lambda session: rate_limiter.take(
            session,
            tenant_id=caller.tenant_id,
            bucket=bucket,
            limit=services.settings.meta_calls_per_minute,
            now=services.clock(),
            what=_COUNTED[bucket],
        )
    )
