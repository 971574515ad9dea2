"""A Graph API failure met by a background step, as the integration error to record and the retry decision."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from whatsapp_integrations.adapters.graph_client import GraphError, GraphUnreachable
from whatsapp_integrations.domain.meta_errors import MetaErrorAdvice, advise
from whatsapp_integrations.domain.provisioning import (
    IntegrationError,
    PermanentFailure,
    TransientFailure,
    provisioning_error,
)


def classify_graph_error(error: GraphError, now: datetime) -> tuple[IntegrationError, MetaErrorAdvice]:
    advice = advise(error.code, error.subcode, http_status=error.http_status, is_transient=error.is_transient, now=now)
    recorded = IntegrationError(
        code=advice.code,
        message=advice.message,
        fix=advice.fix,
        meta_code=error.code,
        meta_subcode=error.subcode,
        fbtrace_id=error.fbtrace_id,
    )
    return recorded, advice


@contextmanager
def graph_failures(clock: Callable[[], datetime], *, ours_to_fix: frozenset[int] = frozenset()) -> Iterator[None]:
    """A background step's Graph calls: unreachable or retryable answers become TransientFailure, the rest
    PermanentFailure (reauth_required when the fix is a new token). `ours_to_fix`: codes that are permanent for a
    tenant but mean our side failed here (a callback handshake against our own endpoint), retried like transient
    ones."""
    try:
        yield
    except GraphUnreachable:
        raise TransientFailure(provisioning_error("meta_unreachable")) from None
    except GraphError as error:
        failure, advice = classify_graph_error(error, clock())
        if advice.retryable or error.code in ours_to_fix:
            raise TransientFailure(failure, advice.retry_after_seconds) from None
        raise PermanentFailure(failure, reauth_required=advice.reauth_required) from None
