"""The envelope Evolution posts to our webhook (evolution-api-v2.md section 8), read defensively.

`apikey` carries the tenant's Meta access token: it is taken out here, before anything can store, log or trace it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from whatsapp_integrations.domain.errors import MalformedWebhook
from whatsapp_integrations.domain.evolution_instance import INSTANCE_NAME_PREFIX
from whatsapp_integrations.domain.text import storable

MAX_ENTRIES = 1000  # an array `data` Evolution batches; the same bound as Meta's 1,000 updates per post


@dataclass(frozen=True)
class EvolutionWebhook:
    event: str
    instance: str
    data: Any
    apikey: str | None = field(default=None, repr=False)

    @property
    def integration_id(self) -> UUID | None:
        """Our instances are named after the integration; any other name is not ours."""
        if not self.instance.startswith(INSTANCE_NAME_PREFIX):
            return None
        named = self.instance.removeprefix(INSTANCE_NAME_PREFIX)
        try:
            parsed = UUID(named)
        except ValueError:
            return None
        return parsed if str(parsed) == named else None  # only the form we name instances with, not {…}, urn: …

    def entries(self) -> list[EvolutionWebhook]:
        """Each item of an array `data` as a webhook of its own (updates may come batched), else this one."""
        if isinstance(self.data, list):
            return [replace(self, data=item) for item in self.data]
        return [self]

    def text(self, *path: str) -> str | None:
        """A string at `path` inside `data`, or None when any step is missing or of another type, or it could not be
        stored (domain/text.py)."""
        value: Any = self.data
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value if isinstance(value, str) and value and storable(value) else None

    def number(self, *path: str) -> int | None:
        value: Any = self.data
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_webhook(raw_body: str, event_from_path: str | None = None) -> EvolutionWebhook:
    try:
        envelope = json.loads(raw_body)
    except (ValueError, RecursionError):
        raise MalformedWebhook("the body is not JSON") from None
    if not isinstance(envelope, dict):
        raise MalformedWebhook("the body is not a JSON object")
    apikey = envelope.pop("apikey", None)
    event = envelope.get("event")
    instance = envelope.get("instance")
    if not isinstance(event, str) or not event:
        if event_from_path is None:
            raise MalformedWebhook("`event` is missing")
        event = event_from_path.replace("-", ".")
    if not isinstance(instance, str) or not instance:
        raise MalformedWebhook("`instance` is missing")
    data = envelope.get("data")
    if isinstance(data, list) and len(data) > MAX_ENTRIES:
        raise MalformedWebhook(f"`data` holds more than {MAX_ENTRIES} entries")
    return EvolutionWebhook(
        event=event.strip().lower(),
        instance=instance,
        data=data,
        apikey=apikey if isinstance(apikey, str) and apikey.isascii() else None,  # tokens are ASCII; hashing can't fail
    )
