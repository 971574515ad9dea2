"""bench/results.json: every goal with its figures, ratio and whether it holds, one file for a whole run."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench import results
from bench.results import Figures, Goal


@pytest.fixture
def results_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "results.json"
    monkeypatch.setattr(results, "RESULTS", path)
    monkeypatch.setattr(results, "LOCK", tmp_path / "results.lock")
    return path


def goal(name: str, subject: float, baseline: float, target: float | None) -> Goal:
    return Goal(name, "bench", Figures.of("s", [subject, subject * 2]), Figures.of("b", [baseline]), target)


def test_a_goal_holds_when_the_ratio_of_the_medians_is_at_most_the_goal() -> None:
    # Medians 1.5 and 1.0 (the subject's samples are 1.0 and 2.0): a ratio of 1.5
    assert goal("at", 1.0, 1.0, 1.5).holds is True
    assert goal("over", 1.0, 1.0, 1.4).holds is False
    # A figure given for context has no goal, so it neither holds nor misses
    assert goal("context", 1.0, 1.0, None).holds is None
    # The ratio of the minimums is kept beside it
    assert goal("at", 1.0, 1.0, 1.5).ratio_of_minimums == 1.0


def test_a_run_starts_one_file_and_each_bench_adds_its_goals(
    results_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a fresh run
    results.start("quick")
    # When two benches record, one of them twice under the same name
    results.record([goal("a", 1.0, 1.0, 2.0)])
    results.record([goal("b", 3.0, 1.0, 2.0), goal("a", 1.0, 2.0, 2.0)])
    results.record_bench("bench", 1.25, 0)
    # Then the file holds each goal once, the latest, with everything a reader needs
    data = json.loads(results_file.read_text())
    assert data["mode"] == "quick" and data["benches"] == {"bench": {"seconds": 1.2, "exit_code": 0}}
    assert [(entry["name"], entry["holds"]) for entry in data["goals"]] == [("b", False), ("a", True)]
    assert set(data["goals"][0]) == {
        "name",
        "bench",
        "subject",
        "baseline",
        "ratio",
        "ratio_of_minimums",
        "goal",
        "holds",
        "note",
    }
    # And the Markdown table shows a goal that does not hold plainly
    assert "| b | 4.5, 3 ms | 1 ms | 4.50x | 3.00x | <= 2.00x | **no** |" in results.markdown(data)


def test_benches_recording_side_by_side_lose_nothing(results_file: Path) -> None:
    # Given a run whose benches run two at a time (the quick mode's lanes)
    results.start("quick")
    # When two of them record their durations at the same moments, each update a read-modify-write of the file
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda number: results.record_bench(f"bench-{number}", 1.0, 0), range(60)))
    results.record_run(12.0, 2)
    # Then every bench is in the file, and the run says how many ran at a time
    data = json.loads(results_file.read_text())
    assert set(data["benches"]) == {f"bench-{number}" for number in range(60)}
    assert "12 s in all, 2 benches at a time." in results.markdown(data)
