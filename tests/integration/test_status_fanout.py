"""The status-sync scheduler's fan-out: every integration that needs a check is queued once, ten per
SendMessageBatch, the batches in parallel, and SQS's refusals are counted, not lost silently."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

import pytest

from whatsapp_integrations.adapters.status_sync_queue import StatusSyncQueue
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.schedule_status_sync import SENDERS, schedule_status_sync

INTEGRATIONS = 205


class RecordingSqs:
    """SendMessageBatch as SQS answers it, recording every call; `refuse` names the entry ids it fails, `crash_on`
    the call number that raises, and `together` how many of the first calls must be in flight at once to proceed."""

    def __init__(self, *, refuse: frozenset[str] = frozenset(), crash_on: int | None = None, together: int = 1) -> None:
        self.entries: list[dict[str, Any]] = []
        self.calls = 0
        self._refuse = refuse
        self._crash_on = crash_on
        self._together = together
        self._meeting = threading.Barrier(together)
        self._lock = threading.Lock()

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            call = self.calls
        if call <= self._together:
            self._meeting.wait(timeout=10)  # returns once `together` calls wait here at the same time, else raises
        if call == self._crash_on:
            raise ConnectionError("SQS unreachable")
        refused = [entry for entry in Entries if entry["Id"] in self._refuse]
        with self._lock:
            self.entries += [entry for entry in Entries if entry not in refused]
        return {
            "Successful": [{"Id": entry["Id"]} for entry in Entries if entry not in refused],
            "Failed": [{"Id": entry["Id"], "Code": "InternalError", "SenderFault": False} for entry in refused],
        }


@pytest.fixture
def integrations(services: Services) -> int:
    services.database.autocommit(
        lambda session: session.execute(
            """INSERT INTO integrations (id, tenant_id, name, phone_number_id, waba_id, access_token_ciphertext,
                   kms_key_id, token_fingerprint, status)
               SELECT gen_random_uuid(), 'tenant-fanout', 'Fan-out ' || n, (700000000000000 + n)::text,
                   '200000000000001', '\\x00', 'k', 'fp', 'connected'
               FROM generate_series(1, :count) AS n""",
            count=INTEGRATIONS,
        )
    )
    return INTEGRATIONS


def test_every_integration_is_queued_once_in_full_batches_sent_in_parallel(
    services: Services, integrations: int
) -> None:
    # Given an SQS that lets a call through only once as many calls as there are senders are waiting together
    sqs = RecordingSqs(together=SENDERS)
    # When the scheduler fans out
    queued = schedule_status_sync(services, StatusSyncQueue(sqs, "queue-url"), correlation_id="run-1")
    # Then every integration went out once, in the fewest calls, and those calls were in flight at the same time
    bodies = Counter(entry["MessageBody"] for entry in sqs.entries)
    assert queued == integrations == len(bodies)
    assert set(bodies.values()) == {1}
    assert sqs.calls == -(-integrations // 10)
    # And their delivery is spread evenly over the interval, in the order of the integrations
    delays = sorted(entry["DelaySeconds"] for entry in sqs.entries)
    assert delays[0] == 0 and delays[-1] < services.settings.status_sync_interval_minutes * 60


def test_entries_sqs_refuses_are_counted_and_reported(
    services: Services, integrations: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an SQS that fails the first two entries of every batch
    sqs = RecordingSqs(refuse=frozenset({"0", "1"}))
    calls = -(-integrations // 10)
    # When the scheduler fans out
    with caplog.at_level(logging.ERROR):
        queued = schedule_status_sync(services, StatusSyncQueue(sqs, "queue-url"), correlation_id="run-2")
    # Then what SQS refused is not counted as queued, and the run says how many
    assert queued == integrations - 2 * calls == len(sqs.entries)
    assert any(getattr(record, "failed", None) == 2 * calls for record in caplog.records)


def test_a_call_that_fails_outright_fails_the_run_after_the_other_batches(
    services: Services, integrations: int
) -> None:
    # Given an SQS that is unreachable for the fifth call only
    sqs = RecordingSqs(crash_on=5)
    # When the scheduler fans out, the run fails
    with pytest.raises(ConnectionError):
        schedule_status_sync(services, StatusSyncQueue(sqs, "queue-url"), correlation_id="run-3")
    # And every other batch was still sent
    assert sqs.calls == -(-integrations // 10)
    assert len(sqs.entries) == integrations - 10
