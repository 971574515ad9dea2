from __future__ import annotations

from enum import StrEnum


class IntegrationStatus(StrEnum):
    VALIDATED = "validated"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"
    DISCONNECTED = "disconnected"
    ERROR = "error"
    REAUTH_REQUIRED = "reauth_required"


_S = IntegrationStatus

ALLOWED_TRANSITIONS: dict[IntegrationStatus, frozenset[IntegrationStatus]] = {
    _S.VALIDATED: frozenset({_S.CONNECTING, _S.REAUTH_REQUIRED}),
    _S.CONNECTING: frozenset({_S.CONNECTED, _S.ERROR, _S.REAUTH_REQUIRED, _S.DISCONNECTING}),
    _S.CONNECTED: frozenset({_S.DISCONNECTING, _S.ERROR, _S.REAUTH_REQUIRED, _S.CONNECTING}),
    _S.DISCONNECTING: frozenset({_S.DISCONNECTED, _S.ERROR}),
    _S.DISCONNECTED: frozenset({_S.CONNECTING, _S.REAUTH_REQUIRED}),
    _S.ERROR: frozenset({_S.CONNECTING, _S.DISCONNECTING, _S.CONNECTED, _S.REAUTH_REQUIRED}),
    _S.REAUTH_REQUIRED: frozenset({_S.CONNECTING, _S.DISCONNECTING, _S.VALIDATED, _S.CONNECTED}),
}


def can_transition(current: IntegrationStatus, target: IntegrationStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def sources_of(target: IntegrationStatus) -> frozenset[IntegrationStatus]:
    """Every status from which `target` may be reached."""
    return frozenset(status for status, targets in ALLOWED_TRANSITIONS.items() if target in targets)
