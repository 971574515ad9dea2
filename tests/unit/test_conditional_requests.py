"""If-None-Match on the read routes: which ETags match, and the status's ETag follows its body."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.http.routes import matches_if_none_match, status_body_etag
from whatsapp_integrations.http.schemas import ConnectionStatusResponse, EvolutionInstanceView, WebhooksView


@pytest.mark.parametrize(
    ("header", "current", "matches"),
    [
        (None, '"3"', False),
        ('"3"', '"3"', True),
        ('W/"3"', '"3"', True),  # weak comparison: W/ is ignored on both sides
        ('"3"', 'W/"3"', True),
        ('"2"', '"3"', False),
        ('"1", "2",  W/"3"', '"3"', True),
        ("*", '"3"', True),
        ("3", '"3"', False),  # an unquoted value is no ETag of ours
        ("", '"3"', False),
    ],
)
def test_if_none_match_uses_the_weak_comparison(header: str | None, current: str, matches: bool) -> None:
    # Given the client's If-None-Match and the answer's ETag, When compared, Then only the same tag matches
    assert matches_if_none_match(header, current) is matches


def _status(checked_at: datetime | None) -> ConnectionStatusResponse:
    return ConnectionStatusResponse(
        id=uuid4(),
        status=IntegrationStatus.CONNECTED,
        status_changed_at=datetime(2026, 1, 1, tzinfo=UTC),
        pending_operation=None,
        last_error=None,
        evolution=EvolutionInstanceView(instance_name="wa-x", state="open"),
        last_checked_at=checked_at,
        version=4,
        history=[],
        webhooks=WebhooksView(meta_callback_url=None, last_meta_event_at=None, last_evolution_event_at=None),
    )


def test_the_status_etag_is_weak_and_changes_with_the_body_at_the_same_version() -> None:
    # Given two status bodies of the same version that differ only in when they were last checked
    earlier = _status(datetime(2026, 1, 1, 12, tzinfo=UTC))
    later = earlier.model_copy(update={"last_checked_at": datetime(2026, 1, 1, 13, tzinfo=UTC)})
    # When their ETags are computed
    first, second = status_body_etag(earlier), status_body_etag(later)
    # Then both are weak, the same body gives the same tag, and the later check gives another
    assert first.startswith('W/"') and second.startswith('W/"')
    assert status_body_etag(earlier.model_copy()) == first
    assert first != second
