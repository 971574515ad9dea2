"""The integration behind each Evolution instance, kept briefly by a warm function so that the common webhook (a
status) costs one round trip instead of two.

Only what addresses and authenticates a webhook is kept, and every request is still checked against it. A request
the kept copy refuses is checked again against a fresh read, so a reconnect's new secret is accepted at once; what
is kept otherwise lags the database by at most TTL_SECONDS (a deleted integration's last events may be recorded).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from whatsapp_integrations.adapters import webhook_store
from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.webhook_store import WebhookTarget

TTL_SECONDS = 15.0
# A bound on memory, not a working-set size: past it the cache starts again empty.
MAX_TARGETS = 10_000


class WebhookTargets:
    def __init__(
        self, database: Database, *, ttl_seconds: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._database = database
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._kept: dict[UUID, tuple[WebhookTarget, float]] = {}

    def find(self, integration_id: UUID) -> WebhookTarget | None:
        """The kept target while it is fresh, else a fresh read."""
        kept = self._kept.get(integration_id)
        if kept is not None and kept[1] > self._clock():
            return kept[0]
        return self.read(integration_id)

    def read(self, integration_id: UUID) -> WebhookTarget | None:
        """The target as the database has it now (kept for the next requests)."""
        target = self._database.autocommit(lambda session: webhook_store.find_target(session, integration_id))
        if target is None:
            self._kept.pop(integration_id, None)
            return None
        if len(self._kept) >= MAX_TARGETS:
            self._kept.clear()
        self._kept[integration_id] = (target, self._clock() + self._ttl_seconds)
        return target
