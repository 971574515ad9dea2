"""The status-sync worker's checks per second, for context (no goal): sync_integration_status with 20 ms injected into
every Evolution and Graph answer, by 1 worker and by 10 workers, each with its own Services (its own database
connection, as one Lambda execution environment has), against what the external calls alone would take.

The Graph simulator knows 9 demo phone numbers and the live-phone-number index allows one integration each, so 9
integrations, connected for real by provision(), are checked round robin. Every timed check must leave its
integration connected with no change and no repair; a check that makes more calls than the expected 4
(fetchInstances, webhook/find, connectionState; GET phone number) shows in the figures.
"""

from __future__ import annotations

import argparse
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from bench import results
from bench.backends import Backends, start_backends
from bench.results import Figures, Goal
from bench.seed import bench_database
from local.graph_simulator import DEMO_PHONE_NUMBER_IDS, DEMO_WABA_ID, VALID_TOKEN
from whatsapp_integrations.adapters.database import Session
from whatsapp_integrations.adapters.secret_cipher import SecretContext
from whatsapp_integrations.domain.lifecycle import IntegrationStatus
from whatsapp_integrations.domain.provisioning import Operation, ProvisioningMessage
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import Services, build_services
from whatsapp_integrations.settings import Settings
from whatsapp_integrations.usecases.provision_integration import provision
from whatsapp_integrations.usecases.sync_integration_status import sync_integration_status

DATABASE_NAME = bench_database("wa_bench_status_worker")
TENANT = "bench-worker"
LATENCY_SECONDS = 0.02
WORKERS = 10
PARALLEL_CHECKS = 100 if results.quick() else 200
SEQUENTIAL_CHECKS = 2 * len(DEMO_PHONE_NUMBER_IDS)
INSERT_CONNECTING = """
INSERT INTO integrations (id, tenant_id, name, phone_number_id, waba_id, access_token_ciphertext, kms_key_id,
                          token_fingerprint, status)
VALUES (:id, :tenant_id, :name, :phone_number_id, :waba_id, :ciphertext, :kms_key_id, :fingerprint, 'connecting')
"""


@dataclass(frozen=True)
class CheckRun:
    workers: int
    checks: int
    seconds: float
    external_calls: int

    @property
    def ideal_seconds(self) -> float:
        """Every external call waits the injected latency and nothing else costs anything."""
        return self.external_calls * LATENCY_SECONDS / self.workers


class Latency:
    def __init__(self, backends: Backends) -> None:
        assert backends.graph is not None and backends.evolution is not None
        self._graph, self._evolution = backends.graph, backends.evolution

    def set(self, seconds: float) -> None:
        self._graph.latency_seconds = seconds
        self._evolution.latency_seconds = seconds

    def calls(self) -> int:
        return len(self._graph.calls) + len(self._evolution.calls)


def connect_for_real(services: Services) -> list[UUID]:
    """One integration per demo phone number, inserted as `connecting` and provisioned by the real provisioner."""
    ids: list[UUID] = []
    for phone_number_id in DEMO_PHONE_NUMBER_IDS:
        integration_id = uuid4()
        ciphertext = services.cipher.encrypt(VALID_TOKEN, SecretContext(TENANT, integration_id, "access_token"))
        insert = {
            "id": integration_id,
            "tenant_id": TENANT,
            "name": f"Bench {phone_number_id}",
            "phone_number_id": phone_number_id,
            "waba_id": DEMO_WABA_ID,
            "ciphertext": ciphertext,
            "kms_key_id": services.cipher.key_id,
            "fingerprint": f"fp-{phone_number_id}",
        }
        services.database.autocommit(partial(execute_insert, values=insert))
        provision(ProvisioningMessage(TENANT, integration_id, Operation.CONNECT, "bench-connect"), services, attempt=1)
        ids.append(integration_id)
    return ids


def execute_insert(session: Session, values: dict[str, Any]) -> int:
    return session.execute(INSERT_CONNECTING, **values)


def check(services: Services, integration_id: UUID, *, warm: bool) -> None:
    """One status check; once warm, a healthy integration must come out connected, unchanged and unrepaired."""
    report = sync_integration_status(TENANT, integration_id, services, correlation_id="bench-check")
    integration = report.integration
    if integration is None or integration.status != IntegrationStatus.CONNECTED:
        raise RuntimeError(f"check of {integration_id} did not leave it connected: {integration}")
    if warm and (report.changes or report.repaired):
        raise RuntimeError(f"check of {integration_id} changed something: {report.changes} {report.repaired}")


def run_checks(pool: Sequence[Services], targets: Sequence[UUID], checks: int, latency: Latency) -> CheckRun:
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
    calls_before = latency.calls()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise failures[0]
    return CheckRun(len(pool), checks, seconds, latency.calls() - calls_before)


def measure(settings: Settings, latency: Latency, runs: int) -> tuple[list[CheckRun], list[CheckRun]]:
    pool = [build_services(settings) for _ in range(WORKERS)]
    try:
        targets = connect_for_real(pool[0])
        for index, services in enumerate(pool):  # untimed: opens every connection, fills every cache
            check(services, targets[index % len(targets)], warm=False)
        for target in targets:
            check(pool[0], target, warm=False)  # the first check records the phone profile
        latency.set(LATENCY_SECONDS)
        sequential: list[CheckRun] = []
        parallel: list[CheckRun] = []
        for _ in range(runs):  # taking turns, so drift hits both alike
            sequential.append(run_checks(pool[:1], targets, SEQUENTIAL_CHECKS, latency))
            parallel.append(run_checks(pool, targets, PARALLEL_CHECKS, latency))
        return sequential, parallel
    finally:
        latency.set(0.0)
        for services in pool:
            services.database.close()


def goal(label: str, runs: list[CheckRun]) -> Goal:
    calls = runs[-1].external_calls / runs[-1].checks
    return Goal(
        f"status sync worker: {label}, {LATENCY_SECONDS * 1000:.0f} ms per external call",
        "status_worker",
        Figures.of(f"{runs[0].checks} checks, wall", [run.seconds for run in runs], "s"),
        Figures.of("the external calls alone", [run.ideal_seconds for run in runs], "s"),
        None,
        f"{calls:.2f} external calls per check; workers, simulators and moto share one process and its GIL",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1 if results.quick() else 5, help="timed rounds of checks")
    args = parser.parse_args()

    logger.setLevel("ERROR")  # the provisioner logs every step, and that these have no app secret
    backends = start_backends(DATABASE_NAME)
    try:
        # No public URL: the check then makes exactly its 4 calls (no override of Meta's to read back)
        settings = backends.settings(status_sync_meta_calls_per_waba_per_hour=5_000, public_api_url=None)
        sequential, parallel = measure(settings, Latency(backends), args.runs)
    finally:
        backends.stop()
    print(f"sync_integration_status, {args.runs} run(s) of each, taking turns")
    results.record([goal("1 worker", sequential), goal(f"{WORKERS} workers", parallel)])


if __name__ == "__main__":
    main()
