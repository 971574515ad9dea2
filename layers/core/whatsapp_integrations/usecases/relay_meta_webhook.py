"""The relay worker: one queued post of Meta's at a time, forwarded to Evolution's `/webhook/meta` (what Evolution
would drop of it was recorded when the post arrived). Evolution down or failing is a transient failure: the message
comes back with the relay's backoff, and dead-letters once its attempts are spent (`make redrive` brings it back)."""

from __future__ import annotations

from whatsapp_integrations.adapters.evolution_client import EvolutionUnavailable
from whatsapp_integrations.adapters.relay_queue import RelayItem
from whatsapp_integrations.domain.provisioning import TransientFailure, provisioning_error
from whatsapp_integrations.services import Services


def relay_meta_webhook(item: RelayItem, services: Services) -> None:
    try:
        services.meta_forwarder.forward(item.post)
    except EvolutionUnavailable as error:
        raise TransientFailure(
            provisioning_error("evolution_unavailable", f"HTTP {error.status or 'no answer'}.")
        ) from None
