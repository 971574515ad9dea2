"""Latency of the API through the local stack, as ratios of one bare PostgreSQL round trip (SELECT 1).

A second baseline, GET /integrations/whatsapp/not-a-uuid (400 before any I/O), isolates what the local
gateway, the JWT check and Powertools' resolver cost on their own.

Requests reuse one kept-alive connection, as a browser or the SaaS backend would.
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

from bench.seed import connect, seed_integrations
from bench.stats import Summary, print_table, ratio, time_calls
from local.graph_simulator import DEMO_PHONE_NUMBER_IDS, DEMO_WABA_ID, VALID_TOKEN
from local.postgres import drop_database, find_or_start_postgres
from local.stack import ROOT, LocalStack, StackConfig, start_stack

DATABASE_NAME = "wa_bench"
TENANT = "bench-tenant"
PATH = "/integrations/whatsapp"
WARMUP = 10
# Settings caps META_CALLS_PER_MINUTE at 10,000: the highest allowed, far above what the create loop needs.
CALLS_PER_MINUTE = "10000"


def expect(status: int) -> Callable[[httpx.Response], httpx.Response]:
    def check(response: httpx.Response) -> httpx.Response:
        if response.status_code != status:
            raise RuntimeError(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
            )
        return response

    return check


def measure_create(http: httpx.Client, runs: int) -> Summary:
    """Time POST create only; each created integration is deleted (untimed) to free its demo phone number."""
    numbers: Iterator[str] = itertools.cycle(DEMO_PHONE_NUMBER_IDS)
    created_201 = expect(201)

    def create_then_delete() -> float:
        body = {"name": "Bench", "phone_number_id": next(numbers), "waba_id": DEMO_WABA_ID, "access_token": VALID_TOKEN}
        started = time.perf_counter()
        response = created_201(http.post(PATH, json=body))
        elapsed_ms = (time.perf_counter() - started) * 1000
        expect(204)(http.delete(f"{PATH}/{response.json()['id']}"))
        return elapsed_ms

    for _ in range(WARMUP):
        create_then_delete()
    return Summary.of([create_then_delete() for _ in range(runs)])


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


def measure_select_one(database_url: str, runs: int) -> Summary:
    database = connect(database_url)
    try:
        return time_calls(lambda: database.run("SELECT 1"), runs=runs, warmup=WARMUP)
    finally:
        database.close()


def measure(stack: LocalStack, runs: int) -> dict[str, Summary]:
    some_id = seed_and_pick_one(stack.database_url)
    results = {"bare pg8000 SELECT 1": measure_select_one(stack.database_url, runs)}
    headers = {"Authorization": f"Bearer {stack.tokens.issue(TENANT, subject='bench-user')}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as http:
        routes = {
            "GET not-a-uuid -> 400 (no I/O)": getter(http, f"{PATH}/not-a-uuid", 400),
            "GET one integration": getter(http, f"{PATH}/{some_id}", 200),
            "GET list (limit 20)": getter(http, PATH, 200, limit=20),
        }
        for label, call in routes.items():
            results[label] = time_calls(call, runs=runs, warmup=WARMUP)
        results["POST create (Graph sim + KMS)"] = measure_create(http, runs)
    return results


def report(results: dict[str, Summary]) -> None:
    bare = results["bare pg8000 SELECT 1"].median_ms
    gateway = results["GET not-a-uuid -> 400 (no I/O)"].median_ms
    rows = [
        [label, f"{s.median_ms:.2f}", f"{s.p95_ms:.2f}", ratio(s.median_ms, bare), ratio(s.median_ms, gateway)]
        for label, s in results.items()
    ]
    runs = next(iter(results.values())).runs
    print(f"API latency over loopback, {runs} requests each after {WARMUP} warm-up (ratios of medians)")
    print_table(["request", "median ms", "p95 ms", "vs SELECT 1", "vs gateway 400"], rows)


def quietly(work: Callable[[], dict[str, Summary]]) -> dict[str, Summary]:
    """The handlers print Powertools' metric records to stdout; keep them out of the report."""
    with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return work()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="timed requests per route")
    args = parser.parse_args()

    admin_url = find_or_start_postgres(ROOT / ".local")  # before start_stack points DATABASE_URL at wa_bench
    stack = start_stack(
        StackConfig(
            api_port=0,
            graph_port=0,
            moto_port=0,
            database_name=DATABASE_NAME,
            extra_environment={"META_CALLS_PER_MINUTE": CALLS_PER_MINUTE},
            log=lambda _: None,
        )
    )
    try:
        results = quietly(lambda: measure(stack, args.runs))
    finally:
        stack.stop()
        drop_database(admin_url, DATABASE_NAME)
    report(results)


if __name__ == "__main__":
    main()
