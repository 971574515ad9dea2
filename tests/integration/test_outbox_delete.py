"""What dispatch sent is deleted without the request waiting for a WAL flush, and only that statement commits so."""

from __future__ import annotations

from uuid import uuid4

from whatsapp_integrations.adapters import outbox
from whatsapp_integrations.domain.outbox import OutgoingMessage
from whatsapp_integrations.services import Services


def test_a_sent_message_is_deleted_and_later_commits_wait_for_the_disk_again(services: Services) -> None:
    # Given a message in the outbox
    message = OutgoingMessage("tenant-outbox", uuid4(), "domain_event", {"detail_type": "Test", "detail": {}})
    entry = services.database.in_transaction(lambda session: outbox.add(session, [message]))[0]
    # When it is deleted as sent
    services.database.autocommit(lambda session: outbox.delete_sent(session, [entry.id]))
    # Then it is gone, and the connection's next transactions commit durably, as before
    assert services.database.autocommit(outbox.pending_count) == 0
    setting = services.database.autocommit(
        lambda session: session.fetch_one("SELECT current_setting('synchronous_commit') AS value")
    )
    assert setting == {"value": "on"}
