"""bench/results.json: every goal of every bench, with its subject and baseline figures, their ratio, the goal and
whether it holds. `python -m bench` starts the file; each bench adds its goals as it finishes.

A ratio is subject / baseline of the medians (the typical request); the ratio of the minimums is kept beside it (the
least disturbed sample, what the code costs when nothing else runs). A goal holds when the ratio of the medians is
at most the goal.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.file_lock import exclusive

RESULTS = Path(__file__).resolve().parent / "results.json"
# Benches that run side by side (the quick mode's lanes) update the file in turn
LOCK = RESULTS.parent.parent / ".local" / "bench-results.lock"


@dataclass(frozen=True)
class Figures:
    """One side of a comparison: what was measured, in which unit, and its minimum and median over `runs`."""

    label: str
    unit: str
    minimum: float
    median: float
    runs: int

    @classmethod
    def of(cls, label: str, samples: Sequence[float], unit: str = "ms") -> Figures:
        return cls(label, unit, min(samples), statistics.median(samples), len(samples))

    @classmethod
    def exact(cls, label: str, value: float, unit: str) -> Figures:
        """A count or a fixed budget: the same figure as minimum and median."""
        return cls(label, unit, value, value, 1)


@dataclass(frozen=True)
class Goal:
    name: str
    bench: str
    subject: Figures
    baseline: Figures
    goal: float | None  # the highest ratio that holds; None: measured for context, no goal
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.subject.median / self.baseline.median

    @property
    def ratio_of_minimums(self) -> float:
        return self.subject.minimum / self.baseline.minimum

    @property
    def holds(self) -> bool | None:
        if self.goal is None:
            return None
        # A hair of tolerance for float noise on exact figures (calls / minimum calls = 1.0).
        return self.ratio <= self.goal + 1e-9

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bench": self.bench,
            "subject": asdict(self.subject),
            "baseline": asdict(self.baseline),
            "ratio": round(self.ratio, 3),
            "ratio_of_minimums": round(self.ratio_of_minimums, 3),
            "goal": self.goal,
            "holds": self.holds,
            "note": self.note,
        }


def quick() -> bool:
    """BENCH_QUICK=1: fewer samples and smaller data, so that every bench together fits in CI's time."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0", "false")


def start(mode: str) -> None:
    """A fresh file for one run of every bench."""
    _write(
        {
            "mode": mode,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "benches": {},
            "goals": [],
        }
    )


def record(goals: Sequence[Goal]) -> None:
    """Add (or replace, by name) goals in the file, and print them."""
    names = {goal.name for goal in goals}
    with _updating() as data:
        data["goals"] = [entry for entry in data["goals"] if entry["name"] not in names] + [g.to_json() for g in goals]
    print_goals([goal.to_json() for goal in goals])


def record_bench(name: str, seconds: float, exit_code: int) -> None:
    with _updating() as data:
        data["benches"][name] = {"seconds": round(seconds, 1), "exit_code": exit_code}


def record_run(seconds: float, lanes: int) -> None:
    with _updating() as data:
        data["seconds"] = round(seconds, 1)
        data["lanes"] = lanes


def read() -> dict[str, Any]:
    if not RESULTS.exists():
        start("single bench" + (" (quick)" if quick() else ""))
    return dict(json.loads(RESULTS.read_text()))


def print_goals(entries: Sequence[dict[str, Any]]) -> None:
    from bench.stats import print_table

    rows = [
        [
            entry["name"],
            _figure(entry["subject"]),
            _figure(entry["baseline"]),
            f"{entry['ratio']:.2f}x",
            f"{entry['ratio_of_minimums']:.2f}x",
            "-" if entry["goal"] is None else f"<= {entry['goal']:.2f}x",
            {True: "yes", False: "NO", None: "-"}[entry["holds"]],
        ]
        for entry in entries
    ]
    print_table(["goal", "subject (median, min)", "baseline (median, min)", "ratio", "of mins", "goal", "holds"], rows)


def markdown(data: dict[str, Any]) -> str:
    """The goals as a Markdown table (bench/README.md shows the latest full run's)."""
    lines = [
        f"{data['mode'].capitalize()} run of {data['started_at']}, Python {data['python']}, "
        f"{data['machine']['cpus']} CPUs, {data.get('seconds', 0):.0f} s in all"
        + (f", {data['lanes']} benches at a time." if data.get("lanes", 1) > 1 else "."),
        "",
        "| goal | subject (median, min) | baseline (median, min) | ratio | ratio of minimums | goal | holds |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in data["goals"]:
        goal = "-" if entry["goal"] is None else f"<= {entry['goal']:.2f}x"
        holds = {True: "yes", False: "**no**", None: "-"}[entry["holds"]]
        lines.append(
            f"| {entry['name']} | {_figure(entry['subject'])} | {_figure(entry['baseline'])} | "
            f"{entry['ratio']:.2f}x | {entry['ratio_of_minimums']:.2f}x | {goal} | {holds} |"
        )
    return "\n".join(lines)


def _figure(figures: dict[str, Any]) -> str:
    unit = figures["unit"]
    if figures["runs"] == 1:
        return f"{_number(figures['median'])} {unit}"
    return f"{_number(figures['median'])}, {_number(figures['minimum'])} {unit}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


@contextlib.contextmanager
def _updating() -> Iterator[dict[str, Any]]:
    with exclusive(LOCK):
        data = read()
        yield data
        _write(data)


def _write(data: dict[str, Any]) -> None:
    """Whole or not at all: a reader outside the lock (`python -m bench.results`) never sees half a file."""
    written = RESULTS.with_name(f".{RESULTS.name}.{os.getpid()}")
    written.write_text(json.dumps(data, indent=2) + "\n")
    written.replace(RESULTS)


if __name__ == "__main__":
    print(markdown(read()))
