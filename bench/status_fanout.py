"""The status sync at scale, as ratios: the scheduler's fan-out and the worker's checks per second.

1. Fan-out: 10,000 connected integrations seeded straight into PostgreSQL, then `schedule_status_sync` against a
   moto SQS queue. SendMessageBatch calls are counted against the fewest possible (ceil(N / 10)); the run's wall
   time is compared with the same number of bare SendMessageBatch calls of 10 tiny messages each; and the
   DelaySeconds of every message are checked for an even spread over the interval.
2. Worker: `sync_integration_status` against the Evolution and Graph simulators with a fixed latency injected into
   every answer, run by 1 worker and by C workers, each worker with its own Services (its own database connection,
   as one Lambda execution environment has). The ideal is checks x external calls per check x latency / workers.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import queue
import statistics
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from bench.seed import connect, seed_integrations
from bench.stats import print_table, ratio
from local.evolution_simulator import EvolutionSimulator
from local.graph_simulator import DEMO_PHONE_NUMBER_IDS, DEMO_WABA_ID, VALID_TOKEN, GraphSimulator
from local.postgres import create_database, drop_database, find_or_start_postgres
from local.stack import ROOT, aws_environment, create_kms_key, free_port
from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.migrations import apply_migrations
from whatsapp_integrations.adapters.secret_cipher import SecretContext
from whatsapp_integrations.adapters.status_sync_queue import StatusSyncQueue
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.provisioning import Operation, ProvisioningMessage
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services, build_services
from whatsapp_integrations.settings import Settings
from whatsapp_integrations.usecases.provision_integration import provision
from whatsapp_integrations.usecases.schedule_status_sync import BATCH_SIZE, schedule_status_sync
from whatsapp_integrations.usecases.sync_integration_status import sync_integration_status

DATABASE_NAME = "wa_bench_status_fanout"
EVOLUTION_API_KEY = "bench-evolution-key"

# Part 1
FANOUT_INTEGRATIONS = 10_000
FANOUT_TENANT = "bench-fanout"
FIRST_SEEDED_PHONE_NUMBER = 700_000_000_000_000  # far from the simulator's demo numbers (1000000000000NN)
WARMUP_BATCHES = 50  # untimed bare batches first: warm boto3's connection and moto

# Part 2
WORKER_TENANT = "bench-worker"
LATENCY_SECONDS = 0.02
WORKERS = 10
PARALLEL_CHECKS = 200
SEQUENTIAL_CHECKS = 2 * len(DEMO_PHONE_NUMBER_IDS)
# The calls a healthy check makes: fetchInstances, webhook/find, connectionState; GET /{phone_number_id}.
EXPECTED_CALLS_PER_CHECK = 4
INSERT_CONNECTING = """
INSERT INTO integrations (id, tenant_id, name, phone_number_id, waba_id, access_token_ciphertext, kms_key_id,
                          token_fingerprint, status)
VALUES (:id, :tenant_id, :name, :phone_number_id, :waba_id, :ciphertext, :kms_key_id, :fingerprint, 'connecting')
"""


# ------------------------------------------------------------------------------------------------ part 1: fan-out


class CountingSqs:
    """The boto3 SQS client, with every send_message_batch call counted and its entries kept.

    moto's SQS rescans the whole queue on every message it accepts, so filling one queue with 10,000 messages costs
    quadratic time. The queue is purged after every batch, and the purge is timed apart so it can be taken out.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.batch_calls = 0
        self.entries: list[dict[str, Any]] = []
        self.purge_seconds = 0.0

    def send_message_batch(self, **arguments: Any) -> dict[str, Any]:
        self.batch_calls += 1
        self.entries.extend(arguments["Entries"])
        answer = dict(self._client.send_message_batch(**arguments))
        started = time.perf_counter()
        self._client.purge_queue(QueueUrl=arguments["QueueUrl"])
        self.purge_seconds += time.perf_counter() - started
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@dataclass(frozen=True)
class SchedulerRun:
    seconds: float
    queued: int
    batch_calls: int
    delays: list[int]
    distinct_integrations: int


@dataclass(frozen=True)
class FanOut:
    runs: list[SchedulerRun]
    baseline_seconds: list[float]
    interval_seconds: int


def fresh_queue(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName=f"bench-status-sync-{uuid4().hex[:12]}")["QueueUrl"])


def run_scheduler(services: Services, sqs: Any) -> SchedulerRun:
    url = fresh_queue(sqs)
    counting = CountingSqs(sqs)
    try:
        started = time.perf_counter()
        queued = schedule_status_sync(services, StatusSyncQueue(counting, url), correlation_id="bench-fanout")
        seconds = time.perf_counter() - started - counting.purge_seconds
    finally:
        sqs.delete_queue(QueueUrl=url)
    bodies = {entry["MessageBody"] for entry in counting.entries}
    delays = [int(entry["DelaySeconds"]) for entry in counting.entries]
    return SchedulerRun(seconds, queued, counting.batch_calls, delays, len(bodies))


def run_bare_batches(sqs: Any, calls: int) -> float:
    """The floor: `calls` SendMessageBatch calls of 10 tiny messages each, nothing else (same wrapper, same purge)."""
    url = fresh_queue(sqs)
    counting = CountingSqs(sqs)
    entries = [{"Id": str(index), "MessageBody": "x"} for index in range(BATCH_SIZE)]
    try:
        started = time.perf_counter()
        for _ in range(calls):
            if counting.send_message_batch(QueueUrl=url, Entries=entries).get("Failed"):
                raise RuntimeError("a bare SendMessageBatch entry failed")
        return time.perf_counter() - started - counting.purge_seconds
    finally:
        sqs.delete_queue(QueueUrl=url)


def measure_fanout(database_url: str, settings: Settings, runs: int) -> FanOut:
    seeding = connect(database_url)
    try:
        seed_integrations(seeding, FANOUT_TENANT, FANOUT_INTEGRATIONS, first_phone_number=FIRST_SEEDED_PHONE_NUMBER)
        seeding.run("ANALYZE integrations")
    finally:
        seeding.close()
    services = build_services(settings)
    sqs = boto3.client("sqs", region_name=settings.aws_region)
    bare_calls = math.ceil(FANOUT_INTEGRATIONS / BATCH_SIZE)
    scheduler_runs: list[SchedulerRun] = []
    baseline: list[float] = []
    try:
        run_bare_batches(sqs, WARMUP_BATCHES)
        services.database.in_transaction(lambda session: session.fetch("SELECT count(*) FROM integrations"))
        for round_number in range(runs):  # taking turns, first one then the other, so drift hits both alike
            if round_number % 2:
                baseline.append(run_bare_batches(sqs, bare_calls))
                scheduler_runs.append(run_scheduler(services, sqs))
            else:
                scheduler_runs.append(run_scheduler(services, sqs))
                baseline.append(run_bare_batches(sqs, bare_calls))
    finally:
        services.database.close()
    return FanOut(scheduler_runs, baseline, settings.status_sync_interval_minutes * 60)


def note(text: str) -> None:
    print(textwrap.fill(text, width=116, initial_indent="  ", subsequent_indent="  "))


def report_fanout(fanout: FanOut) -> None:
    last = fanout.runs[-1]
    minimum = math.ceil(FANOUT_INTEGRATIONS / BATCH_SIZE)
    print(
        f"Part 1: schedule_status_sync over {FANOUT_INTEGRATIONS:,} connected integrations (seeded in PostgreSQL), "
        f"moto SQS on loopback, median of {len(fanout.runs)} runs"
    )
    note(
        "moto rescans a whole queue on every message it accepts (quadratic for 10,000 messages), so both the "
        "scheduler and the baseline purge the queue after each batch; purge time is measured apart and left out."
    )
    print_table(
        ["measure", "value", "baseline", "baseline value", "ratio"],
        [
            ["integrations queued", f"{last.queued:,}", "integrations seeded", f"{FANOUT_INTEGRATIONS:,}", ""],
            ["distinct integrations in bodies", f"{last.distinct_integrations:,}", "", "", ""],
            [
                "SendMessageBatch calls",
                f"{last.batch_calls:,}",
                f"minimum ceil(N/{BATCH_SIZE})",
                f"{minimum:,}",
                ratio(last.batch_calls, minimum),
            ],
            [
                "wall time, median s",
                f"{statistics.median(r.seconds for r in fanout.runs):.3f}",
                f"{minimum:,} bare batches of 10",
                f"{statistics.median(fanout.baseline_seconds):.3f}",
                ratio(statistics.median(r.seconds for r in fanout.runs), statistics.median(fanout.baseline_seconds)),
            ],
        ],
    )
    per_value = Counter(last.delays)
    interval = fanout.interval_seconds
    expected_per_value = FANOUT_INTEGRATIONS / interval
    note(
        f"DelaySeconds over the {interval} s interval: min {min(last.delays)}, max {max(last.delays)}, "
        f"{len(per_value)} distinct values (ideal {min(interval, FANOUT_INTEGRATIONS)}, 0..{interval - 1}); "
        f"messages per value {min(per_value.values())}..{max(per_value.values())} "
        f"(even: {math.floor(expected_per_value)}..{math.ceil(expected_per_value)}); "
        f"non-decreasing in send order: {all(a <= b for a, b in zip(last.delays, last.delays[1:], strict=False))}"
    )


# ------------------------------------------------------------------------------------------------ part 2: worker


@dataclass(frozen=True)
class CheckRun:
    workers: int
    checks: int
    seconds: float
    external_calls: int

    @property
    def calls_per_check(self) -> float:
        return self.external_calls / self.checks

    @property
    def ideal_seconds(self) -> float:
        """Every external call waits the injected latency and nothing else costs anything."""
        return self.external_calls * LATENCY_SECONDS / self.workers


@dataclass(frozen=True)
class Simulators:
    graph: GraphSimulator
    evolution: EvolutionSimulator

    def set_latency(self, seconds: float) -> None:
        self.graph.latency_seconds = seconds
        self.evolution.latency_seconds = seconds

    def calls(self) -> int:
        return len(self.graph.calls) + len(self.evolution.calls)

    def stop(self) -> None:
        self.evolution.stop()
        self.graph.stop()


def start_simulators() -> Simulators:
    graph = GraphSimulator().start()
    try:
        # One delivery attempt: the webhook URL is a closed port and nothing here consumes Evolution's events.
        evolution = EvolutionSimulator(api_key=EVOLUTION_API_KEY, graph_url=graph.base_url, max_attempts=1).start()
    except BaseException:
        graph.stop()
        raise
    return Simulators(graph, evolution)


def connect_for_real(services: Services) -> list[UUID]:
    """One integration per demo phone number, inserted as `connecting` and provisioned by the real provisioner."""
    ids: list[UUID] = []
    for phone_number_id in DEMO_PHONE_NUMBER_IDS:
        integration_id = uuid4()
        insert_connecting(services, integration_id, phone_number_id)
        message = ProvisioningMessage(WORKER_TENANT, integration_id, Operation.CONNECT, "bench-connect")
        provision(message, services, attempt=1)
        ids.append(integration_id)
    statuses = services.database.in_transaction(
        lambda session: session.fetch("SELECT status FROM integrations WHERE tenant_id = :t", t=WORKER_TENANT)
    )
    if [row["status"] for row in statuses] != ["connected"] * len(ids):
        raise RuntimeError(f"provisioning did not connect every integration: {statuses}")
    return ids


def insert_connecting(services: Services, integration_id: UUID, phone_number_id: str) -> None:
    ciphertext = services.cipher.encrypt(VALID_TOKEN, SecretContext(WORKER_TENANT, integration_id, "access_token"))
    services.database.in_transaction(
        lambda session: session.execute(
            INSERT_CONNECTING,
            id=integration_id,
            tenant_id=WORKER_TENANT,
            name=f"Bench {phone_number_id}",
            phone_number_id=phone_number_id,
            waba_id=DEMO_WABA_ID,
            ciphertext=ciphertext,
            kms_key_id=services.cipher.key_id,
            fingerprint=f"fp-{phone_number_id}",
        )
    )


def check(services: Services, integration_id: UUID, *, warm: bool) -> None:
    """One status check; once warm, a healthy integration must come out connected, unchanged and unrepaired."""
    report = sync_integration_status(WORKER_TENANT, integration_id, services, correlation_id="bench-check")
    integration = report.integration
    if integration is None or integration.status != IntegrationStatus.CONNECTED:
        raise RuntimeError(f"check of {integration_id} did not leave it connected: {integration}")
    if warm and (report.changes or report.repaired):
        raise RuntimeError(f"check of {integration_id} changed something: {report.changes} {report.repaired}")


def run_checks(pool: Sequence[Services], targets: Sequence[UUID], checks: int, simulators: Simulators) -> CheckRun:
    """`checks` checks, round robin over `targets`, pulled from one queue by one thread per Services in `pool`."""
    work: queue.SimpleQueue[UUID] = queue.SimpleQueue()
    for index in range(checks):
        work.put(targets[index % len(targets)])
    failures: list[BaseException] = []

    def worker(services: Services) -> None:
        while not failures:
            try:
                target = work.get_nowait()
            except queue.Empty:
                return
            try:
                check(services, target, warm=True)
            except BaseException as failure:
                failures.append(failure)

    threads = [threading.Thread(target=worker, args=(services,), name="bench-worker") for services in pool]
    calls_before = simulators.calls()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise failures[0]
    return CheckRun(len(pool), checks, seconds, simulators.calls() - calls_before)


@dataclass(frozen=True)
class WorkerResults:
    sequential: list[CheckRun]
    parallel: list[CheckRun]


def measure_workers(settings: Settings, simulators: Simulators, runs: int) -> WorkerResults:
    pool = [build_services(settings) for _ in range(WORKERS)]  # boto3 clients built here, in one thread
    try:
        targets = connect_for_real(pool[0])
        for index, services in enumerate(pool):  # untimed: opens every connection, fills every cache
            check(services, targets[index % len(targets)], warm=False)
        for target in targets:
            check(pool[0], target, warm=False)  # the first check records the phone profile
        simulators.set_latency(LATENCY_SECONDS)
        sequential: list[CheckRun] = []
        parallel: list[CheckRun] = []
        for _ in range(runs):  # taking turns, so drift hits both alike
            sequential.append(run_checks(pool[:1], targets, SEQUENTIAL_CHECKS, simulators))
            parallel.append(run_checks(pool, targets, PARALLEL_CHECKS, simulators))
        return WorkerResults(sequential, parallel)
    finally:
        simulators.set_latency(0.0)
        for services in pool:
            services.database.close()


def median_run(runs: Sequence[CheckRun]) -> CheckRun:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


def report_workers(results: WorkerResults) -> None:
    latency_ms = LATENCY_SECONDS * 1000
    print(
        f"Part 2: sync_integration_status, {latency_ms:.0f} ms injected into every Evolution and Graph answer, "
        f"median of {len(results.parallel)} runs"
    )
    note(
        f"{len(DEMO_PHONE_NUMBER_IDS)} integrations, one per simulator demo number (the live-phone-number unique "
        "index allows no more), connected for real by provision(); the checks go round robin over them, so with "
        f"{WORKERS} workers two may check the same one at once (a check holds its row lock only for its own short "
        "transactions). Every worker has its own Services and database connection. The 9 numbers share one WABA, "
        "so every check takes from one rate-limit row. Simulators, moto (KMS, Secrets Manager) and the workers "
        "share one Python process, so the workers also compete with them for the GIL on this machine's cores. "
        f"template.yaml sets no MaximumConcurrency for the status-sync function: {WORKERS} workers is this "
        "benchmark's choice."
    )
    rows = []
    for label, runs in (("1 worker", results.sequential), (f"{WORKERS} workers", results.parallel)):
        run = median_run(runs)
        rows.append(
            [
                label,
                str(run.checks),
                f"{run.calls_per_check:.2f}",
                f"{run.seconds:.3f}",
                f"{run.ideal_seconds:.3f}",
                f"{run.checks / run.seconds:.1f}",
                f"{run.checks / run.ideal_seconds:.1f}",
                ratio(run.seconds, run.ideal_seconds),
            ]
        )
    print_table(
        ["workers", "checks", "calls/check", "wall s", "ideal s", "checks/s", "ideal checks/s", "wall / ideal"], rows
    )
    sequential = median_run(results.sequential)
    fixed_ms = (sequential.seconds - sequential.ideal_seconds) / sequential.checks * 1000
    note(
        f"ideal = checks x calls per check x {latency_ms:.0f} ms / workers (expected {EXPECTED_CALLS_PER_CHECK} calls: "
        f"Evolution fetchInstances, webhook/find, connectionState; Graph GET phone number); "
        f"1 worker: {fixed_ms:.1f} ms per check on top of the injected latency"
    )


# ------------------------------------------------------------------------------------------------ main


def worker_settings(database_url: str, key_id: str, simulators: Simulators, secret_arn: str) -> Settings:
    return Settings(
        database_url=database_url,
        kms_key_id=key_id,
        graph_api_base_url=simulators.graph.base_url,
        evolution_base_url=simulators.evolution.base_url,
        evolution_api_key_secret_arn=secret_arn,
        evolution_webhook_url=f"http://127.0.0.1:{free_port()}/webhooks/evolution",  # closed: no one listens
        status_sync_meta_calls_per_waba_per_hour=5_000,  # the most Settings accepts; all checks share one WABA
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fanout-runs", type=int, default=2, help="timed scheduler runs (and baseline runs)")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds of worker checks")
    args = parser.parse_args()

    admin_url = find_or_start_postgres(ROOT / ".local")  # before anything points DATABASE_URL elsewhere
    database_url = create_database(admin_url, DATABASE_NAME, drop_first=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"  # moto: allow a purge per batch
    logger.setLevel("WARNING")  # the provisioner logs every step at INFO
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    simulators: Simulators | None = None
    try:
        host, port = moto.get_host_and_port()
        os.environ.update(aws_environment(f"http://{host}:{port}"))
        key_id = create_kms_key()
        secret_arn = boto3.client("secretsmanager").create_secret(
            Name="bench/evolution-api-key", SecretString=EVOLUTION_API_KEY
        )["ARN"]
        migrating = Database(connection_factory(Settings(database_url=database_url, kms_key_id=key_id)))
        apply_migrations(migrating)
        migrating.close()
        simulators = start_simulators()
        settings = worker_settings(database_url, key_id, simulators, secret_arn)
        fanout = measure_fanout(database_url, settings, args.fanout_runs)
        workers = measure_workers(settings, simulators, args.runs)
    finally:
        if simulators is not None:
            simulators.stop()
        moto.stop()
        drop_database(admin_url, DATABASE_NAME)
    report_fanout(fanout)
    print()
    report_workers(workers)


if __name__ == "__main__":
    main()
