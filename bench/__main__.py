"""Every bench, one after the other, each in its own interpreter; their goals end up in bench/results.json.

`python -m bench` is the full run (`make bench`); `python -m bench --quick` (or BENCH_QUICK=1) the quick one that
`make test` runs, with fewer samples and smaller data.

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

from bench import results

BENCHES = (
    "cold_start",
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", default=results.quick(), help="the quick mode (CI)")
    parser.add_argument("benches", nargs="*", default=BENCHES, help="only these benches")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    environment = {**os.environ, "BENCH_QUICK": "1" if args.quick else "0"}

    results.start(mode)
    started = time.perf_counter()
    failed = []
    for bench in args.benches:
        print(f"\n=== bench.{bench} ({mode})", flush=True)
        bench_started = time.perf_counter()
        exit_code = subprocess.run([sys.executable, "-m", f"bench.{bench}"], env=environment, check=False).returncode
        results.record_bench(bench, time.perf_counter() - bench_started, exit_code)
        if exit_code != 0:
            failed.append(bench)
    seconds = time.perf_counter() - started

    goals = results.read()["goals"]
    print(f"\n=== every goal ({mode} mode, {seconds:.0f} s)")
    results.print_goals(goals)
    missed = [goal["name"] for goal in goals if goal["holds"] is False]
    print(f"\n{len(goals)} figures, {len(missed)} goal(s) not holding; benches that failed: {failed or 'none'}")
    if args.quick and seconds > QUICK_BUDGET_SECONDS:
        print(f"the quick mode took {seconds:.0f} s, over its budget of {QUICK_BUDGET_SECONDS} s")
    results.record_total(seconds)
    strict = os.environ.get("BENCH_STRICT", "") not in ("", "0")
    return 1 if failed or (strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
