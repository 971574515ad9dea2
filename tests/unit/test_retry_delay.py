from __future__ import annotations

from whatsapp_integrations.settings import RetryPolicy, Settings


def test_the_delay_doubles_up_to_the_cap_with_jitter() -> None:
    # Given a policy of 10 s doubling up to 60 s
    policy = RetryPolicy(base_seconds=10, cap_seconds=60, max_attempts=8)
    # When the delays of six failures in a row are drawn
    delays = [policy.delay_seconds(attempt) for attempt in range(1, 7)]
    # Then each lies between half and all of its ceiling
    for delay, ceiling in zip(delays, [10, 20, 40, 60, 60, 60], strict=True):
        assert ceiling // 2 <= delay <= ceiling


def test_the_other_sides_retry_after_wins_when_longer() -> None:
    policy = RetryPolicy(base_seconds=10, cap_seconds=60, max_attempts=8)
    assert policy.delay_seconds(1, retry_after=900) == 900


def test_no_delay_exceeds_what_sqs_allows() -> None:
    policy = RetryPolicy(base_seconds=900, cap_seconds=43_200, max_attempts=50)
    assert policy.delay_seconds(40, retry_after=10**9) == 43_200


def test_the_last_attempt_and_the_budget_follow_max_attempts() -> None:
    # Given a policy with 5 attempts capped at 300 s
    policy = RetryPolicy(base_seconds=5, cap_seconds=300, max_attempts=5)
    # Then attempt 5 is the last, and the retries of one message can never take longer than 5 x 300 s
    assert not policy.is_last(4) and policy.is_last(5)
    assert policy.budget_seconds == 1500


def test_the_relay_outlasts_ten_minutes_of_evolution_down_before_dead_lettering() -> None:
    # Given the relay's default policy
    policy = Settings(database_url="postgresql://x@127.0.0.1/x", kms_key_id="k").relay_retry
    # When every delay is as short as the jitter allows (half its ceiling)
    shortest_wait = sum(
        min(policy.base_seconds * 2 ** (attempt - 1), policy.cap_seconds) // 2
        for attempt in range(1, policy.max_attempts)
    )
    # Then a post is still being retried more than ten minutes after Evolution went down
    assert shortest_wait > 600
