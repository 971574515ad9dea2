"""Keyset pagination stays flat: list_page for a 100,000-row tenant as a ratio of the same page for a
1,000-row tenant, on the first page and on a page 90% deep, straight against PostgreSQL.

The plan of the deep page must be an index scan on integrations_tenant_page (the partial index of live rows):
anything else fails the bench, whatever the timings say."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bench import results
from bench.results import Figures, Goal
from bench.seed import bench_database, connect, seed_integrations
from bench.statements import captured
from bench.stats import Summary, print_table, ratio, time_interleaved
from local.postgres import create_database, drop_database, find_or_start_postgres
from local.stack import ROOT
from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.migrations import apply_migrations
from whatsapp_integrations.domain.integration import PageKey
from whatsapp_integrations.settings import Settings

DATABASE_NAME = bench_database("wa_bench_list")
TENANTS = {"big": 100_000, "small": 1_000}
PAGE_SIZE = 20
DEEP_FRACTION = 0.9
FLAT = 1.25  # the most a page of the big tenant may cost, as a multiple of the same page of the small one
INDEX = "integrations_tenant_page"


def prepare(database_url: str) -> None:
    apply_migrations(Database(connection_factory(Settings(database_url=database_url, kms_key_id="bench"))))
    connection = connect(database_url)
    try:
        for offset, (tenant, count) in enumerate(TENANTS.items()):
            seed_integrations(connection, tenant, count, first_phone_number=800_000_000_000_000 + offset * 10**9)
        connection.run("ANALYZE integrations")
    finally:
        connection.close()


def deep_key(database: Database, tenant: str) -> PageKey:
    """The position after DEEP_FRACTION of the tenant's rows, newest first."""
    row = database.autocommit(
        lambda session: session.fetch_one(
            "SELECT created_at, id FROM integrations WHERE tenant_id = :tenant AND deleted_at IS NULL "
            "ORDER BY created_at DESC, id DESC OFFSET :skip LIMIT 1",
            tenant=tenant,
            skip=int(TENANTS[tenant] * DEEP_FRACTION),
        )
    )
    assert row is not None
    return PageKey(row["created_at"], row["id"])


def page_reader(database: Database, tenant: str, after: PageKey | None) -> Callable[[], None]:
    def one_page() -> None:
        page = database.autocommit(
            lambda session: integrations_repository.list_page(
                session, tenant, status=None, after=after, limit=PAGE_SIZE
            )
        )
        assert len(page) == PAGE_SIZE

    return one_page


def explain(database: Database, tenant: str, after: PageKey) -> list[str]:
    """EXPLAIN ANALYZE of exactly the statement list_page builds."""
    sql, params = captured(
        lambda session: integrations_repository.list_page(session, tenant, status=None, after=after, limit=PAGE_SIZE)
    )
    rows = database.autocommit(lambda session: session.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", **params))
    return [str(next(iter(row.values()))) for row in rows]


def measure(database: Database, runs: int) -> tuple[dict[tuple[str, str], Summary], list[str]]:
    keys = {tenant: deep_key(database, tenant) for tenant in TENANTS}
    readers: dict[tuple[str, str], Callable[[], None]] = {}
    for tenant in TENANTS:
        readers[(tenant, "first")] = page_reader(database, tenant, None)
        readers[(tenant, "deep")] = page_reader(database, tenant, keys[tenant])
    return time_interleaved(readers, runs=runs, warmup=20), explain(database, "big", keys["big"])


def report(summaries: dict[tuple[str, str], Summary], plan: list[str], runs: int) -> None:
    print(
        f"list_page(limit={PAGE_SIZE}) straight on PostgreSQL, median of {runs} interleaved runs (one round trip each)"
    )
    rows = []
    for (tenant, page), summary in summaries.items():
        flat = ratio(summary.median_ms, summaries[("small", page)].median_ms)
        depth = "first page" if page == "first" else f"after {DEEP_FRACTION:.0%} of rows"
        rows.append([tenant, f"{TENANTS[tenant]:,}", depth, f"{summary.median_ms:.3f}", f"{summary.p95_ms:.3f}", flat])
    print_table(["tenant", "rows", "page", "median ms", "p95 ms", "vs small"], rows)
    print()
    print("EXPLAIN of the deep page for tenant 'big':")
    for line in plan:
        print(f"  {line}")
    if not any(f"Index Scan using {INDEX}" in line for line in plan):
        raise RuntimeError(f"the deep page is no index scan on {INDEX}: the keyset pagination lost its index")
    results.record(
        [
            Goal(
                f"list flat: {'first page' if page == 'first' else 'page 90% deep'}, 100k vs 1k integrations",
                "list_scaling",
                figures("big", page, summaries),
                figures("small", page, summaries),
                FLAT,
                "list_page alone, one round trip each",
            )
            for page in ("first", "deep")
        ]
    )


def figures(tenant: str, page: str, summaries: dict[tuple[str, str], Summary]) -> Figures:
    summary = summaries[(tenant, page)]
    return Figures(f"{TENANTS[tenant]:,} integrations", "ms", summary.min_ms, summary.median_ms, summary.runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100 if results.quick() else 500, help="timed calls per case")
    args = parser.parse_args()

    admin_url = find_or_start_postgres(ROOT / ".local")
    database_url = create_database(admin_url, DATABASE_NAME, drop_first=True)
    database = Database(connection_factory(Settings(database_url=database_url, kms_key_id="bench")))
    try:
        prepare(database_url)
        summaries, plan = measure(database, args.runs)
    finally:
        database.close()
        drop_database(admin_url, DATABASE_NAME)
    report(summaries, plan, args.runs)


if __name__ == "__main__":
    main()
