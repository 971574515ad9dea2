"""A Graph API failure met by a background step, as the integration error to record and the retry decision."""

from __future__ import annotations

from datetime import datetime

from whatsapp_integrations.adapters.graph_client import GraphError
from whatsapp_integrations.domain.meta_errors import MetaErrorAdvice, advise
from whatsapp_integrations.domain.provisioning import IntegrationError


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
