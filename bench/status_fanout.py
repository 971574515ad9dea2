"""The status-sync scheduler's fan-out at scale: schedule_status_sync over 100,000 connected integrations (10,000 in
the quick mode), seeded straight into PostgreSQL, with every SQS call taking 15 ms.

SQS is bench/sqs_stub.py in a process of its own: each SendMessageBatch waits 15 ms, succeeds and is kept for the
checks. The scheduler reaches it with its real boto3 client (Services' own, pointed there by AWS_ENDPOINT_URL_SQS),
so boto3's own work per call is in the figures. Goals: the run within the budget (60 s for 100,000, the same per
integration for fewer), and exactly the fewest calls (ceil(N / 10)). Every integration must be queued once, their
DelaySeconds spread evenly over the interval; anything else fails the bench.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench import results
from bench.results import Figures, Goal
from bench.seed import bench_database, connect, seed_integrations
from local.postgres import create_database, drop_database, find_or_start_postgres, with_database
from local.stack import ROOT, migrate
from whatsapp_integrations.services import build_services
from whatsapp_integrations.settings import Settings
from whatsapp_integrations.usecases.schedule_status_sync import BATCH_SIZE, SENDERS, schedule_status_sync

DATABASE_NAME = bench_database("wa_bench_status_fanout")
TENANT = "bench-fanout"
FIRST_SEEDED_PHONE_NUMBER = 700_000_000_000_000  # far from the simulators' demo numbers (1000000000000NN)
SQS_LATENCY_MS = 15
BUDGET_SECONDS_PER_100K = 60.0
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/bench-status-sync"


class SqsStub:
    def __init__(self, url: str) -> None:
        self.url = url

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url, timeout=10) as answer:  # noqa: S310 - loopback
            return dict(json.load(answer))

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/reset", method="POST"), timeout=10).close()  # noqa: S310


@contextmanager
def sqs_stub(latency_ms: int) -> Iterator[SqsStub]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.sqs_stub", str(latency_ms)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().split()[1])
        yield SqsStub(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class Run:
    seconds: float
    queued: int
    stats: dict[str, Any]


def fan_out(settings: Settings, stub: SqsStub, integrations: int, runs: int) -> list[Run]:
    """`runs` scheduler runs, each checked: every integration once, the fewest calls, an even spread."""
    services = build_services(settings)
    done = []
    try:
        services.database.autocommit(lambda session: session.fetch("SELECT count(*) FROM integrations"))  # connected
        for _ in range(runs):
            stub.reset()
            started = time.perf_counter()
            queued = schedule_status_sync(services, services.status_sync_queue, correlation_id="bench-fanout")
            done.append(Run(time.perf_counter() - started, queued, stub.stats()))
            check(done[-1], integrations, settings.status_sync_interval_minutes * 60)
    finally:
        services.database.close()
    return done


def check(run: Run, integrations: int, interval: int) -> None:
    stats, fewest = run.stats, math.ceil(integrations / BATCH_SIZE)
    problems = []
    if run.queued != integrations or stats["distinct_bodies"] != integrations or stats["entries"] != integrations:
        problems.append(f"{run.queued} queued, {stats['distinct_bodies']} distinct of {stats['entries']} sent")
    if stats["calls"] != fewest:
        problems.append(f"{stats['calls']} SendMessageBatch calls, not the fewest: {fewest}")
    per_delay = [int(count) for count in stats["delays"].values()]
    even = integrations / interval
    delays = [int(delay) for delay in stats["delays"]]
    if min(delays) != 0 or max(delays) >= interval or max(per_delay) > math.ceil(even) or min(per_delay) < int(even):
        problems.append(f"DelaySeconds not spread evenly over {interval} s: {stats['delays']}")
    if problems:
        raise RuntimeError("; ".join(problems))


def goals(runs: list[Run], integrations: int) -> list[Goal]:
    fewest = math.ceil(integrations / BATCH_SIZE)
    budget = BUDGET_SECONDS_PER_100K * integrations / 100_000
    wall = Figures.of(f"{integrations:,} integrations, wall time", [run.seconds for run in runs], "s")
    return [
        Goal(
            f"status fan-out: {integrations:,} integrations, {SQS_LATENCY_MS} ms per SQS call",
            "status_fanout",
            wall,
            Figures.exact("the budget", budget, "s"),
            1.0,
            f"{SENDERS} calls in flight; every integration queued once, delays spread evenly",
        ),
        Goal(
            "status fan-out: SendMessageBatch calls",
            "status_fanout",
            Figures.exact("calls made", runs[-1].stats["calls"], "calls"),
            Figures.exact(f"ceil(N / {BATCH_SIZE})", fewest, "calls"),
            1.0,
        ),
        Goal(
            "status fan-out: wall time vs its SQS calls alone",
            "status_fanout",
            wall,
            Figures.exact(
                f"{fewest:,} calls x {SQS_LATENCY_MS} ms / {SENDERS}", fewest * SQS_LATENCY_MS / SENDERS / 1000, "s"
            ),
            None,
            "what the scheduler adds: reading the integrations, building the messages, boto3's work per call",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--integrations", type=int, default=10_000 if results.quick() else 100_000)
    parser.add_argument("--runs", type=int, default=1 if results.quick() else 3, help="timed scheduler runs")
    args = parser.parse_args()

    admin_url = find_or_start_postgres(ROOT / ".local")
    owner_url = create_database(admin_url, DATABASE_NAME, drop_first=True)
    try:
        migrate(owner_url)
        seeding = connect(owner_url)
        try:
            seed_integrations(seeding, TENANT, args.integrations, first_phone_number=FIRST_SEEDED_PHONE_NUMBER)
            seeding.run("ANALYZE integrations")
        finally:
            seeding.close()
        with sqs_stub(SQS_LATENCY_MS) as stub:
            os.environ.update(
                {
                    "AWS_ENDPOINT_URL_SQS": stub.url,
                    "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench",
                    "AWS_EC2_METADATA_DISABLED": "true",
                }
            )
            settings = Settings(
                database_url=with_database(owner_url, DATABASE_NAME),
                kms_key_id="bench",
                status_sync_queue_url=QUEUE_URL,
            )
            runs = fan_out(settings, stub, args.integrations, args.runs)
    finally:
        drop_database(admin_url, DATABASE_NAME)
    print(f"schedule_status_sync, {args.integrations:,} integrations, {SQS_LATENCY_MS} ms per call, {args.runs} run(s)")
    results.record(goals(runs, args.integrations))


if __name__ == "__main__":
    main()
