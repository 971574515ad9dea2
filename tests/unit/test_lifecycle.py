from __future__ import annotations

from whatsapp_integrations.domain.lifecycle import ALLOWED_TRANSITIONS, IntegrationStatus, can_transition

S = IntegrationStatus


def test_every_status_has_its_transitions_defined() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(IntegrationStatus)


def test_a_validated_integration_can_only_start_connecting() -> None:
    assert can_transition(S.VALIDATED, S.CONNECTING)
    assert not can_transition(S.VALIDATED, S.CONNECTED)


def test_disconnect_then_connect_again_is_allowed() -> None:
    assert can_transition(S.CONNECTED, S.DISCONNECTING)
    assert can_transition(S.DISCONNECTING, S.DISCONNECTED)
    assert can_transition(S.DISCONNECTED, S.CONNECTING)


def test_no_status_transitions_to_itself() -> None:
    assert all(status not in targets for status, targets in ALLOWED_TRANSITIONS.items())
