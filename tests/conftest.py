from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Properties, not timings: Hypothesis's default 200 ms deadline failed a correct example whose first call ran while
# the other tiers kept both cores busy (make test runs them side by side). Performance is measured in bench/.
settings.register_profile("properties", deadline=None)
settings.load_profile("properties")

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test carries the marker of the folder it lives in, so `-m unit` etc. select a tier."""
    for item in items:
        tier = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


def start_well_inside_a_window(window_seconds: int, needed_seconds: float) -> None:
    """Rate limits count in fixed windows of wall-clock time (adapters/rate_limiter.py: minutes and hours from
    2000-01-01 UTC). A test that needs its requests counted in one window waits for the next one when the current
    one ends within `needed_seconds`, instead of failing when the clock crosses it."""
    left = window_seconds - time.time() % window_seconds
    if left < needed_seconds:
        time.sleep(left + 0.1)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the functions' Powertools logger writes, formatted exactly as in CloudWatch."""
    from whatsapp_integrations.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)
