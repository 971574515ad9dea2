"""The connect flow through the local stack, as ratios: external calls per connect and time to `connected`.

1. Calls: the Evolution and Graph requests the simulators record between POST .../connect and `connected`,
   against the minimum the contract allows (Evolution: create the instance, find its webhook, read its connection
   state; Graph, wiring Meta's webhooks to the relay: subscribe the app to the WABA, check the app's subscription,
   set the phone number's override, read it back).
2. Time: POST .../connect until GET .../status (polled every 20 ms) says `connected`. With latency injected into
   every simulator answer, the baseline is the sum of the injected latencies on the calls made; with none, the
   baseline is one bare pg8000 SELECT 1 round trip, so the ratio is the cost of queue + poller + handler.

Every connect uses a fresh integration: create, connect, wait until connected (timed), delete and wait until it is
gone (untimed), so the 9 demo phone numbers can be reused. Latency is injected only while the connect runs, and the
two latency settings take turns within each round so drift hits both alike.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from bench import results
from bench.api_latency import expect
from bench.integrations import PARAMETERS
from bench.results import Figures, Goal
from bench.seed import bench_database, connect
from bench.stats import Summary, print_table, ratio, time_calls
from local.evolution_simulator import EvolutionSimulator
from local.graph_simulator import (
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_PHONE_NUMBER_IDS,
    DEMO_WABA_ID,
    VALID_TOKEN,
    GraphSimulator,
)
from local.postgres import drop_database, find_or_start_postgres
from local.stack import ROOT, LocalStack, StackConfig, start_stack

T = TypeVar("T")
Call = tuple[str, str]

DATABASE_NAME = bench_database("wa_bench_connect")
TENANT = "bench-connect-tenant"
PATH = "/integrations/whatsapp"
WARMUP = 1 if results.quick() else 2
SELECT_ONE_RUNS = 200
SELECT_ONE_WARMUP = 10
POLL_SECONDS = 0.02
SETTLE_TIMEOUT_SECONDS = 30.0
INJECTED_LATENCY_SECONDS = 0.05
LATENCIES = (INJECTED_LATENCY_SECONDS, 0.0)
SETTLED = frozenset({"connected", "disconnected", "error", "reauth_required", "validated"})
# The fewest calls a successful connect can make, per the provisioning contract (with the app secret, which
# connecting needs, Meta's webhooks are wired too).
MINIMUM_CALLS = {"Evolution": 3, "Graph": 4}
ENVIRONMENT = {
    # The provisioner logs INFO per step through a stdout handler bound at import, which redirect_stdout cannot catch.
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
_VERSION_PREFIX = re.compile(r"^/v\d+(?:\.\d+)?(?=/)")
_NUMERIC_ID = re.compile(r"/\d+(?=/|$)")


@dataclass(frozen=True)
class Simulators:
    graph: GraphSimulator
    evolution: EvolutionSimulator

    @classmethod
    def of(cls, stack: LocalStack) -> Simulators:
        if stack.graph_simulator is None or stack.evolution_simulator is None:
            raise RuntimeError("the benchmark needs the stack's embedded Graph and Evolution simulators")
        return cls(stack.graph_simulator, stack.evolution_simulator)

    def set_latency(self, seconds: float) -> None:
        """Both simulators read latency_seconds on every request, so this applies from the next call on."""
        self.graph.latency_seconds = seconds
        self.evolution.latency_seconds = seconds

    def marks(self) -> tuple[int, int]:
        return len(self.evolution.calls), len(self.graph.calls)


@dataclass(frozen=True)
class Connect:
    elapsed_ms: float
    evolution_calls: tuple[Call, ...]
    graph_calls: tuple[Call, ...]

    def calls(self, side: str) -> int:
        return len(self.evolution_calls if side == "Evolution" else self.graph_calls)

    @property
    def external_calls(self) -> int:
        return len(self.evolution_calls) + len(self.graph_calls)


def wait_for_status(http: httpx.Client, integration_id: str, wanted: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while True:
        status = expect(200)(http.get(f"{PATH}/{integration_id}/status", params={"history": 0})).json()
        if status["status"] == wanted:
            return
        if status["status"] in SETTLED or time.monotonic() > deadline:
            raise RuntimeError(f"integration {integration_id} is {status['status']}, not {wanted}: {status}")
        time.sleep(POLL_SECONDS)


def wait_until_gone(http: httpx.Client, integration_id: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while http.get(f"{PATH}/{integration_id}").status_code != 404:
        if time.monotonic() > deadline:
            raise RuntimeError(f"integration {integration_id} was not deleted in {SETTLE_TIMEOUT_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)


def create(http: httpx.Client, phone_number_id: str) -> str:
    body = {
        "name": "Bench",
        "phone_number_id": phone_number_id,
        "waba_id": DEMO_WABA_ID,
        "access_token": VALID_TOKEN,
        "app_id": DEMO_APP_ID,  # connecting needs the app secret (Meta signs every webhook with it)
        "app_secret": DEMO_APP_SECRET,
    }
    return str(expect(201)(http.post(PATH, json=body)).json()["id"])


def connect_once(http: httpx.Client, simulators: Simulators, phone_number_id: str, latency: float) -> Connect:
    """Create, connect (timed, with `latency` injected), delete; return the time and the calls made meanwhile."""
    integration_id = create(http, phone_number_id)
    evolution_mark, graph_mark = simulators.marks()
    simulators.set_latency(latency)
    started = time.perf_counter()
    expect(202)(http.post(f"{PATH}/{integration_id}/connect"))
    wait_for_status(http, integration_id, "connected")
    elapsed_ms = (time.perf_counter() - started) * 1000
    simulators.set_latency(0.0)
    connect = Connect(
        elapsed_ms,
        tuple(simulators.evolution.calls[evolution_mark:]),
        tuple(simulators.graph.calls[graph_mark:]),
    )
    expect(202)(http.delete(f"{PATH}/{integration_id}"))
    wait_until_gone(http, integration_id)
    return connect


def measure_connects(stack: LocalStack, runs: int) -> dict[float, list[Connect]]:
    simulators = Simulators.of(stack)
    numbers: Iterator[str] = itertools.cycle(DEMO_PHONE_NUMBER_IDS)
    samples: dict[float, list[Connect]] = {latency: [] for latency in LATENCIES}
    headers = {"Authorization": f"Bearer {stack.tokens.issue(TENANT, subject='bench-user')}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as http:
        for round_number in range(WARMUP + runs):
            for latency in LATENCIES:
                connect = connect_once(http, simulators, next(numbers), latency)
                if round_number >= WARMUP:
                    samples[latency].append(connect)
    return samples


@dataclass(frozen=True)
class Results:
    connects: dict[float, list[Connect]]
    select_one: Summary


def measure_select_one(database_url: str, runs: int) -> Summary:
    """One bare round trip: a prepared SELECT 1 on a reused connection."""
    database = connect(database_url)
    try:
        statement = database.prepare("SELECT 1")
        return time_calls(statement.run, runs=runs, warmup=SELECT_ONE_WARMUP)
    finally:
        database.close()


def measure(stack: LocalStack, runs: int) -> Results:
    select_one = measure_select_one(stack.database_url, SELECT_ONE_RUNS)
    return Results(measure_connects(stack, runs), select_one)


def route(call: Call) -> str:
    """`GET /webhook/find/wa-<id>` -> `GET /webhook/find`; `POST /v25.0/2000.../subscribed_apps` -> `POST /{id}/...`."""
    method, path = call
    path = _NUMERIC_ID.sub("/{id}", _VERSION_PREFIX.sub("", path))
    if not path.startswith("/{id}"):
        path = "/".join(path.split("/")[:3])
    return f"{method} {path}"


def calls_row(label: str, counts: Sequence[int], minimum: int) -> list[str]:
    mean = statistics.mean(counts)
    return [label, f"{mean:.2f}", str(max(counts)), str(minimum), ratio(mean, minimum)]


def report_calls(connects: Sequence[Connect]) -> None:
    rows = [calls_row(side, [c.calls(side) for c in connects], minimum) for side, minimum in MINIMUM_CALLS.items()]
    rows.append(calls_row("total", [c.external_calls for c in connects], sum(MINIMUM_CALLS.values())))
    print(f"External calls per successful connect, {len(connects)} connects (POST connect -> connected)")
    print_table(["side", "mean", "max", "minimum", "mean / minimum"], rows)
    routes = Counter(route(call) for c in connects for call in (*c.evolution_calls, *c.graph_calls))
    per_route = (f"{name} {count / len(connects):.2f}" for name, count in sorted(routes.items()))
    print("per connect, by route: " + ", ".join(per_route))


def timed_row(label: str, summary: Summary, baseline_label: str = "", baseline_ms: float | None = None) -> list[str]:
    if baseline_ms is None:
        return [label, f"{summary.median_ms:.2f}", f"{summary.p95_ms:.2f}", "", "", ""]
    versus = ratio(summary.median_ms, baseline_ms)
    return [label, f"{summary.median_ms:.2f}", f"{summary.p95_ms:.2f}", baseline_label, f"{baseline_ms:.2f}", versus]


def report_times(measured: Results) -> None:
    injected = measured.connects[INJECTED_LATENCY_SECONDS]
    with_latency = Summary.of([c.elapsed_ms for c in injected])
    without = Summary.of([c.elapsed_ms for c in measured.connects[0.0]])
    injected_ms = statistics.median(c.external_calls * INJECTED_LATENCY_SECONDS * 1000 for c in injected)
    latency_label = f"connect, {INJECTED_LATENCY_SECONDS * 1000:.0f} ms per external call"
    rows = [
        timed_row(latency_label, with_latency, "injected latency", injected_ms),
        timed_row("connect, no injected latency", without, "SELECT 1", measured.select_one.median_ms),
        timed_row("bare pg8000 SELECT 1", measured.select_one),
    ]
    print(f"POST connect -> connected, status polled every {POLL_SECONDS * 1000:.0f} ms, {with_latency.runs} each")
    print_table(["case", "median ms", "p95 ms", "baseline", "baseline ms", "median / baseline"], rows)


def goals(measured: Results) -> list[Goal]:
    connects = [connect for every in measured.connects.values() for connect in every]
    injected = measured.connects[INJECTED_LATENCY_SECONDS]
    fewest = sum(MINIMUM_CALLS.values())
    calls = [connect.external_calls for connect in connects]
    injected_ms = [c.external_calls * INJECTED_LATENCY_SECONDS * 1000 for c in injected]
    return [
        Goal(
            "connect: external calls per connect",
            "connect_flow",
            Figures.of(f"{len(connects)} connects, Evolution and Graph", calls, "calls"),
            Figures.exact("the fewest a connect can make", fewest, "calls"),
            1.0,
            "an extra call is a retry, an adopt or a webhook repair",
        ),
        Goal(
            f"connect: POST connect to connected, {INJECTED_LATENCY_SECONDS * 1000:.0f} ms per external call",
            "connect_flow",
            Figures.of("through the queue, the poller and the provisioner", [c.elapsed_ms for c in injected]),
            Figures.of("the injected latency of the calls made", injected_ms),
            None,
            f"status polled every {POLL_SECONDS * 1000:.0f} ms",
        ),
    ]


def report(measured: Results) -> None:
    report_calls([connect for connects in measured.connects.values() for connect in connects])
    print()
    report_times(measured)
    results.record(goals(measured))


def quietly(work: Callable[[], T]) -> T:
    """The handlers print Powertools' metric records to stdout; keep them out of the report."""
    with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return work()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2 if results.quick() else 20, help="timed connects per latency")
    args = parser.parse_args()

    admin_url = find_or_start_postgres(ROOT / ".local")  # before start_stack points DATABASE_URL at our database
    stack = start_stack(
        StackConfig(
            api_port=0,
            graph_port=0,
            moto_port=0,
            evolution_port=0,
            page_port=None,
            database_name=DATABASE_NAME,
            extra_environment=ENVIRONMENT,
            template_parameters=PARAMETERS,  # the tenant's quotas as a deployment would raise them for this traffic
            log=lambda _: None,
        )
    )
    try:
        measured = quietly(lambda: measure(stack, args.runs))
    finally:
        stack.stop()
        drop_database(admin_url, DATABASE_NAME)
    report(measured)


if __name__ == "__main__":
    main()
