"""Each tenant's quota of changing requests (POST, PUT, DELETE), counted in PostgreSQL so that it holds across every
Lambda instance. Reads are not counted: they change nothing and API Gateway's throttling bounds them."""

from __future__ import annotations

from whatsapp_integrations.adapters import rate_limiter
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.services import Services

REQUESTS_BUCKET = "requests"


def take_request_quota(caller: Caller, services: Services) -> None:
    """Raises RateLimited (429 with Retry-After) once the tenant's requests of this minute are used up."""
    services.database.autocommit(
        lambda session: rate_limiter.take(
            session,
            tenant_id=caller.tenant_id,
            bucket=REQUESTS_BUCKET,
            limit=services.settings.tenant_requests_per_minute,
            now=services.clock(),
            what="requests that change something",
        )
    )
