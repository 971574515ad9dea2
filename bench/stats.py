"""Timing and table helpers shared by the benchmarks. Times are milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Summary:
    median_ms: float
    p95_ms: float
    runs: int
    min_ms: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Summary:
        ordered = sorted(samples_ms)
        p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
        return cls(statistics.median(ordered), ordered[p95_index], len(ordered), ordered[0])


def time_calls(call: Callable[[], object], *, runs: int, warmup: int = 0) -> Summary:
    """Call `call` warmup + runs times; summarise the timed runs."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return Summary.of(samples)


def time_interleaved(calls: Mapping[K, Callable[[], object]], *, runs: int, warmup: int = 0) -> dict[K, Summary]:
    """Like time_calls for several calls at once, taking turns so drift (CPU clock, caches) hits all alike."""
    samples: dict[K, list[float]] = {label: [] for label in calls}
    for round_number in range(warmup + runs):
        for label, call in calls.items():
            started = time.perf_counter()
            call()
            if round_number >= warmup:
                samples[label].append((time.perf_counter() - started) * 1000)
    return {label: Summary.of(values) for label, values in samples.items()}


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline > 0 else "n/a"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    print(_row(headers, widths))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(_row(row, widths))


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
