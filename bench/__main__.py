"""Every bench, each in its own interpreter; their goals end up in bench/results.json.

`python -m bench` is the full run (`make bench`): one bench at a time, so that no bench shares the machine with
another and its figures are the ones of record. `python -m bench --quick` (or BENCH_QUICK=1) is the quick one that
`make test` runs, with fewer samples and smaller data, two benches at a time (`--lanes`): it checks that every bench
still runs and still finds what it checks, and its figures, taken beside another bench, are rougher.

The exit status is 1 when a bench fails: it crashed, or a check that is not a timing failed (a handler's answer, the
fewest SQS calls, the order of what was sent). A timing goal that does not hold is reported, as NO in the table and
`"holds": false` in results.json, but fails the run only with BENCH_STRICT=1: a ratio of a few samples on a shared
two-core machine moves with whatever else runs there, and CI must not fail on a neighbour's load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench import results

BENCHES = (
    "cold_start",  # the longest first, so that the lanes of the quick mode end together
    "db_auth_token",
    "read_latency",
    "list_scaling",
    "webhook_ingest",
    "status_fanout",
    "status_worker",
    "relay",
    "api_latency",
    "connect_flow",
    "page_paint",
)
QUICK_BUDGET_SECONDS = 90
QUICK_LANES = 2


def run_bench(bench: str, mode: str, environment: dict[str, str], lanes: int) -> int:
    """One bench in its own interpreter. Beside another, its output is kept and printed in one piece when it ends."""
    started = time.perf_counter()
    if lanes == 1:
        print(f"\n=== bench.{bench} ({mode})", flush=True)
        exit_code = subprocess.run([sys.executable, "-m", f"bench.{bench}"], env=environment, check=False).returncode
    else:
        finished = subprocess.run(
            [sys.executable, "-m", f"bench.{bench}"],
            env=environment,
            check=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        exit_code = finished.returncode
        took = time.perf_counter() - started
        print(f"\n=== bench.{bench} ({mode}, {took:.0f} s)\n{finished.stdout}", end="", flush=True)
    results.record_bench(bench, time.perf_counter() - started, exit_code)
    return exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", default=results.quick(), help="the quick mode (CI)")
    parser.add_argument("--lanes", type=int, help=f"benches at a time ({QUICK_LANES} in the quick mode, else 1)")
    parser.add_argument("benches", nargs="*", default=BENCHES, help="only these benches")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    lanes = max(1, args.lanes or (QUICK_LANES if args.quick else 1))
    environment = {**os.environ, "BENCH_QUICK": "1" if args.quick else "0"}

    results.start(mode)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        codes = pool.map(lambda bench: run_bench(bench, mode, environment, lanes), args.benches)
        exit_codes = dict(zip(args.benches, codes, strict=True))
    failed = [bench for bench, exit_code in exit_codes.items() if exit_code != 0]
    seconds = time.perf_counter() - started

    goals = results.read()["goals"]
    print(f"\n=== every goal ({mode} mode, {seconds:.0f} s, {lanes} bench(es) at a time)")
    results.print_goals(goals)
    missed = [goal["name"] for goal in goals if goal["holds"] is False]
    print(f"\n{len(goals)} figures, {len(missed)} goal(s) not holding; benches that failed: {failed or 'none'}")
    if args.quick and seconds > QUICK_BUDGET_SECONDS:
        print(f"the quick mode took {seconds:.0f} s, over its budget of {QUICK_BUDGET_SECONDS} s")
    results.record_run(seconds, lanes)
    strict = os.environ.get("BENCH_STRICT", "") not in ("", "0")
    return 1 if failed or (strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
