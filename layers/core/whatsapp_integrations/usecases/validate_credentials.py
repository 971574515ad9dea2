from __future__ import annotations

from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.domain.validated_credentials import ValidatedCredentials
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.live_validation import validate_live
from whatsapp_integrations.usecases.meta_call_guard import count_meta_call, reject_malformed


def validate_credentials(caller: Caller, credentials: MetaCredentials, services: Services) -> ValidatedCredentials:
    """The form's dry run: the same validation as create, storing nothing."""
    reject_malformed(credentials)
    count_meta_call(caller, services)
    return validate_live(credentials, services.graph, services.clock())
