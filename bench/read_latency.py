"""GET one integration and a page of 20, handler only, as ratios of the same statements run bare.

functions/get_integration and functions/list_integrations are loaded in-process as warm execution environments
(bench/handlers.py) and called with API Gateway HTTP API events (no gateway, no HTTP). What a request costs on top of
the handler's fixed part is its answer minus the same handler's 400 for bad input, which does no I/O (Powertools'
decorators, routing, validation, the problem answer). The baseline is the statement the repository runs for that
request, prepared once on a bare pg8000 connection of the same login and run with the same parameters: one round trip,
like the subject's. Every round calls each of the six once, taking turns, so drift hits all alike.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from uuid import UUID

import pg8000.native

from bench import results
from bench.backends import start_backends
from bench.handlers import invoker, loaded, quiet, status
from bench.results import Figures, Goal
from bench.seed import bench_database, connect, seed_integrations
from bench.statements import prepared
from bench.stats import Summary, time_interleaved
from local.gateway import http_api_event
from whatsapp_integrations.adapters import integrations_repository
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.settings import Settings

DATABASE_NAME = bench_database("wa_bench_read_latency")
TENANT = "bench-read-tenant"
INTEGRATIONS = 40  # more than a page
PAGE = 20
PATH = "/integrations/whatsapp"
CLAIMS = {"tenant_id": TENANT, "sub": "bench"}
WARMUP = 100


def get_event(integration_id: str) -> dict[str, object]:
    return http_api_event(
        "GET /integrations/whatsapp/{integration_id}",
        "GET",
        f"{PATH}/{integration_id}",
        path_parameters={"integration_id": integration_id},
        claims=CLAIMS,
    )


def list_event(query: str) -> dict[str, object]:
    return http_api_event("GET /integrations/whatsapp", "GET", PATH, raw_query=query, claims=CLAIMS)


def seed(database_url: str) -> UUID:
    connection = connect(database_url)
    try:
        seed_integrations(connection, TENANT, INTEGRATIONS, first_phone_number=910_000_000_000_000)
        connection.run("ANALYZE integrations")
        return UUID(str(connection.run("SELECT id FROM integrations WHERE tenant_id = :t LIMIT 1", t=TENANT)[0][0]))
    finally:
        connection.close()


def measure(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, Summary]:
    with quiet():
        return time_interleaved(calls, runs=runs, warmup=WARMUP)


def goal(name: str, answer: Summary, refused: Summary, bare: Summary, baseline: str, ratio: float | None) -> Goal:
    subject = Figures(
        f"{name} handler, minus its no-I/O 400",
        "ms",
        answer.min_ms - refused.min_ms,
        answer.median_ms - refused.median_ms,
        answer.runs,
    )
    return Goal(
        f"{name} (handler only)" if ratio is not None else f"{name} (handler only), same statement on our connection",
        "read_latency",
        subject,
        Figures(baseline, "ms", bare.min_ms, bare.median_ms, bare.runs),
        ratio,
        f"handler {answer.median_ms:.3f} ms, its 400 {refused.median_ms:.3f} ms (medians)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300 if results.quick() else 3000, help="interleaved rounds")
    args = parser.parse_args()

    backends = start_backends(DATABASE_NAME, simulators=False)
    connections: list[pg8000.native.Connection] = []
    try:
        integration_id = seed(backends.owner_url)
        # pg8000 as it comes, and a connection as the functions open it (its faster timestamp parser)
        bare = connect(backends.database_url)
        connections.append(bare)
        ours = connection_factory(Settings(database_url=backends.database_url, kms_key_id="bench"))()
        connections.append(ours)

        def one_row_on(connection: pg8000.native.Connection) -> Callable[[], list[object]]:
            return prepared(connection, lambda session: integrations_repository.get(session, TENANT, integration_id))

        def page_on(connection: pg8000.native.Connection) -> Callable[[], list[object]]:
            # The page the use case asks for: 20 and one more, to know whether there is a next page
            return prepared(
                connection,
                lambda session: integrations_repository.list_page(
                    session, TENANT, status=None, after=None, limit=PAGE + 1
                ),
            )

        with (
            loaded("get_integration", backends.function_environment("get_integration")) as get_function,
            loaded("list_integrations", backends.function_environment("list_integrations")) as list_function,
        ):
            found = invoker(get_function, status(200, lambda body: body["id"] == str(integration_id)))
            listed = invoker(list_function, status(200, lambda body: len(body["items"]) == PAGE))
            get_refused = invoker(get_function, status(400))
            list_refused = invoker(list_function, status(400))
            ok_event, bad_event = get_event(str(integration_id)), get_event("not-a-uuid")
            page_event, bad_page_event = list_event(f"limit={PAGE}"), list_event("limit=0")
            summaries = measure(
                {
                    "get": lambda: found(ok_event),
                    "get 400": lambda: get_refused(bad_event),
                    "one row": one_row_on(bare),
                    "one row, ours": one_row_on(ours),
                    "list": lambda: listed(page_event),
                    "list 400": lambda: list_refused(bad_page_event),
                    "page": page_on(bare),
                    "page, ours": page_on(ours),
                },
                args.runs,
            )
    finally:
        for connection in connections:
            connection.close()
        backends.stop()
    print(f"Reads, handler only, {args.runs} interleaved rounds after {WARMUP} warm-up")
    results.record(
        [
            goal(
                "GET one integration",
                summaries["get"],
                summaries["get 400"],
                summaries["one row"],
                "bare prepared one-row SELECT (the repository's statement)",
                1.5,
            ),
            goal(
                f"list a page of {PAGE}",
                summaries["list"],
                summaries["list 400"],
                summaries["page"],
                f"bare prepared SELECT of a page (the repository's statement, {PAGE} + 1 rows)",
                2.0,
            ),
            goal(
                "GET one integration",
                summaries["get"],
                summaries["get 400"],
                summaries["one row, ours"],
                "the same statement on a connection opened as the functions open theirs",
                None,
            ),
            goal(
                f"list a page of {PAGE}",
                summaries["list"],
                summaries["list 400"],
                summaries["page, ours"],
                "the same statement on a connection opened as the functions open theirs",
                None,
            ),
        ]
    )


if __name__ == "__main__":
    main()
