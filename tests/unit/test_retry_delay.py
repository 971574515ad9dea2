from __future__ import annotations

from whatsapp_integrations.domain.provisioning import retry_delay_seconds


def test_the_backoff_grows_with_jitter_and_stops_at_the_cap() -> None:
    # Given the first six attempts with a 10 s base and a 60 s cap
    delays = [retry_delay_seconds(attempt, base=10, cap=60) for attempt in range(1, 7)]
    # Then each lies between half and all of its exponential ceiling, never above the cap
    ceilings = [10, 20, 40, 60, 60, 60]
    assert all(ceiling // 2 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True))


def test_what_the_other_side_asked_for_is_respected() -> None:
    assert retry_delay_seconds(1, base=10, cap=60, retry_after=900) == 900


def test_sqs_visibility_limit_is_never_exceeded() -> None:
    assert retry_delay_seconds(40, base=900, cap=10**9, retry_after=10**9) == 43_200
