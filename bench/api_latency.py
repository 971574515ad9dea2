"""Latency of the API end to end through the local stack (gateway, JWT check, handler), for context: no goal (the
handler-only goals are bench/read_latency.py's).

Each request is shown against GET /integrations/whatsapp/not-a-uuid, a 400 before any I/O, which is what the local
gateway, the JWT check and Powertools' resolver cost on their own. Requests reuse one kept-alive connection, as a
browser or the SaaS backend would. Every port is picked free.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from bench import results
from bench.integrations import PARAMETERS
from bench.results import Figures, Goal
from bench.seed import bench_database, connect, seed_integrations
from bench.stats import Summary
from local.graph_simulator import DEMO_PHONE_NUMBER_IDS, DEMO_WABA_ID, VALID_TOKEN
from local.postgres import drop_database, find_or_start_postgres
from local.stack import ROOT, LocalStack, StackConfig, start_stack

DATABASE_NAME = bench_database("wa_bench")
TENANT = "bench-tenant"
PATH = "/integrations/whatsapp"
WARMUP = 10
GATEWAY_400 = "GET not-a-uuid -> 400 (no I/O)"
CREATE = "POST create (Graph simulator + KMS)"


def expect(status: int) -> Callable[[httpx.Response], httpx.Response]:
    def check(response: httpx.Response) -> httpx.Response:
        if response.status_code != status:
            raise RuntimeError(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
            )
        return response

    return check


def creator(http: httpx.Client) -> Callable[[], float]:
    """POST create, timed; the integration is then deleted (untimed) to free its demo phone number."""
    numbers: Iterator[str] = itertools.cycle(DEMO_PHONE_NUMBER_IDS)
    created_201 = expect(201)

    def create_then_delete() -> float:
        body = {"name": "Bench", "phone_number_id": next(numbers), "waba_id": DEMO_WABA_ID, "access_token": VALID_TOKEN}
        started = time.perf_counter()
        response = created_201(http.post(PATH, json=body))
        elapsed_ms = (time.perf_counter() - started) * 1000
        expect(204)(http.delete(f"{PATH}/{response.json()['id']}"))
        return elapsed_ms

    return create_then_delete


def getter(http: httpx.Client, url: str, status: int, **params: int) -> Callable[[], httpx.Response]:
    check = expect(status)
    return lambda: check(http.get(url, params=params))


def seed_and_pick_one(database_url: str) -> str:
    """Give the tenant more than a page of integrations (straight in PostgreSQL); return one id."""
    database = connect(database_url)
    try:
        seed_integrations(database, TENANT, 40, first_phone_number=900_000_000_000_000)
        return str(database.run("SELECT id FROM integrations WHERE tenant_id = :t LIMIT 1", t=TENANT)[0][0])
    finally:
        database.close()


def measure(stack: LocalStack, runs: int) -> dict[str, Summary]:
    """Each round sends every request once, taking turns, so drift hits them all alike."""
    some_id = seed_and_pick_one(stack.owner_database_url)
    headers = {"Authorization": f"Bearer {stack.tokens.issue(TENANT, subject='bench-user')}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as http:
        requests = {
            GATEWAY_400: getter(http, f"{PATH}/not-a-uuid", 400),
            "GET one integration": getter(http, f"{PATH}/{some_id}", 200),
            "GET list (limit 20)": getter(http, PATH, 200, limit=20),
        }
        create = creator(http)
        samples: dict[str, list[float]] = {label: [] for label in [*requests, CREATE]}
        for _ in range(WARMUP + runs):
            for label, request in requests.items():
                started = time.perf_counter()
                request()
                samples[label].append((time.perf_counter() - started) * 1000)
            samples[CREATE].append(create())
    return {label: Summary.of(values[WARMUP:]) for label, values in samples.items()}


def report(measured: dict[str, Summary]) -> None:
    gateway = measured[GATEWAY_400]
    base = Figures(GATEWAY_400, "ms", gateway.min_ms, gateway.median_ms, gateway.runs)
    print(f"API latency over loopback, {gateway.runs} requests each after {WARMUP} warm-up")
    results.record(
        [
            Goal(
                f"through the local gateway: {label}",
                "api_latency",
                Figures(label, "ms", summary.min_ms, summary.median_ms, summary.runs),
                base,
                None,
                "end to end over HTTP: gateway, JWT check, handler",
            )
            for label, summary in measured.items()
            if label != GATEWAY_400
        ]
    )


def quietly(work: Callable[[], dict[str, Summary]]) -> dict[str, Summary]:
    """The handlers print Powertools' metric records to stdout; keep them out of the report."""
    with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return work()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30 if results.quick() else 200, help="timed requests per route")
    args = parser.parse_args()

    admin_url = find_or_start_postgres(ROOT / ".local")  # before start_stack points DATABASE_URL at wa_bench
    stack = start_stack(
        StackConfig(
            api_port=0,
            graph_port=0,
            moto_port=0,
            evolution_port=0,
            page_port=None,
            database_name=DATABASE_NAME,
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
