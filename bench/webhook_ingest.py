"""Evolution webhook ingest, handler only, as ratios of a bare prepared upsert + commit on the same database.

functions/evolution_webhook is loaded in-process as a warm execution environment (bench/handlers.py) and called with
API Gateway HTTP API events, built beforehand (no gateway, no HTTP). The integration is inserted straight in SQL as
`connected` with a known webhook secret, which every event carries in X-Webhook-Secret.

1. Per event, interleaved rounds: a new status (a new (wamid, status) pair: the common path), the same status again
   (a duplicate), a send.message, an array of three statuses, and the baseline: one `INSERT ... ON CONFLICT DO
   UPDATE` with a new key, prepared once on a bare pg8000 connection of the same login, committing on its own.
   For context, without a goal: the statement the function runs for a new status, captured from the webhook store and
   run the same way (what the database alone asks of a new status, with no handler around it).
   And the floor (bench/webhook_floor.py): Powertools' handler shape around that statement, none of the project's code.
2. Sustained: batches of new statuses and batches of bare upserts taking turns, until each has been busy for the
   given time; mean ms per event over the whole stretch.
3. Round trips per new status, counted on the function's own connection.

EVENT_BUS_NAME is unset (the template's other settings stand), so no PutEvents call is made or timed. With a bus, a
status that moves what readers see is also published and then deleted from the outbox: one more round trip
(`test_a_status_takes_one_round_trip_and_two_when_it_publishes` counts both cases).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pg8000.native

from bench import results
from bench.backends import start_backends
from bench.handlers import handler_invoker, invoker, loaded, quiet, status
from bench.results import Figures, Goal
from bench.seed import bench_database, connect
from bench.statements import captured
from bench.stats import Summary, time_interleaved
from bench.webhook_floor import floor_handler
from local.gateway import http_api_event
from local.round_trips import RoundTrips
from whatsapp_integrations.adapters import webhook_store
from whatsapp_integrations.adapters.database import Database, Session
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.webhook_store import StatusReport
from whatsapp_integrations.domain.message_status import MessageStatus
from whatsapp_integrations.services import default_services

T = TypeVar("T")
Event = dict[str, Any]

DATABASE_NAME = bench_database("wa_bench_webhook")
TENANT = "bench-webhook-tenant"
SECRET = "bench-webhook-secret"
WARMUP = 50
BATCH = 500  # events built (untimed) before each timed stretch of the sustained loop
STATUSES = ("SENT", "DELIVERED", "READ")  # each wamid gets these in order: one insert, then two upgrades
UPSERT_SQL = "INSERT INTO bench_upsert (k, v) VALUES (:k, :v) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
UPSERT = "bare prepared upsert + commit"
STATEMENT = "the status statement alone, bare prepared"
FLOOR = "the floor of a new status: Powertools' handler around the bare statement"
WEBHOOK_PATH = "/webhooks/evolution"
FRESH = "messages.update, new status"
DUPLICATE = "messages.update, duplicate"
SENT = "send.message, new message"
ARRAY = "messages.update, array of 3 new statuses"
GOAL = 1.5
MAX_ROUND_TRIPS = 2


class Events:
    """HTTP API events for one integration, as API Gateway would hand them to the function."""

    def __init__(self, integration_id: UUID) -> None:
        self.integration_id = integration_id
        self.instance = f"wa-{integration_id}"
        self._status_pairs: Iterator[tuple[int, str]] = (
            (number, status) for number in itertools.count() for status in STATUSES
        )
        self._messages = itertools.count()

    def fresh_status(self) -> Event:
        number, status = next(self._status_pairs)
        return self._event("messages.update", {"keyId": f"wamid.bench.{number}", "status": status})

    def status_array(self) -> Event:
        number = next(self._messages)
        return self._event("messages.update", [{"keyId": f"wamid.array.{number}", "status": s} for s in STATUSES])

    def sent_message(self) -> Event:
        number = next(self._messages)
        data = {
            "key": {"id": f"wamid.sent.{number}", "remoteJid": "5511999990000@s.whatsapp.net", "fromMe": True},
            "messageTimestamp": 1_700_000_000 + number,
        }
        return self._event("send.message", data)

    def _event(self, name: str, data: Any) -> Event:
        body = json.dumps({"event": name, "instance": self.instance, "data": data}).encode()
        return http_api_event(
            f"POST {WEBHOOK_PATH}",
            "POST",
            WEBHOOK_PATH,
            body=body,
            headers={"content-type": "application/json", "x-webhook-secret": SECRET},
        )


def prepare(owner_url: str) -> UUID:
    """The baseline's table (the functions' role may write it) and one connected integration, straight in SQL."""
    integration_id = uuid4()
    connection = connect(owner_url)
    try:
        connection.run("CREATE TABLE bench_upsert (k text PRIMARY KEY, v bigint NOT NULL)")
        connection.run("GRANT SELECT, INSERT, UPDATE ON bench_upsert TO whatsapp_runtime")
        connection.run(
            """INSERT INTO integrations (id, tenant_id, name, phone_number_id, waba_id, access_token_ciphertext,
               kms_key_id, token_fingerprint, status, webhook_secret_hash)
           VALUES (:id, :tenant, 'Bench', '100000000000001', '200000000000001', '\\x00', 'k', 'f',
               'connected', :hash)""",
            id=integration_id,
            tenant=TENANT,
            hash=hashlib.sha256(SECRET.encode()).hexdigest(),
        )
    finally:
        connection.close()
    return integration_id


def upserter(connection: pg8000.native.Connection) -> Callable[[str], None]:
    statement = connection.prepare(UPSERT_SQL)
    return lambda key: statement.run(k=key, v=1) and None


def status_statements(
    connection: pg8000.native.Connection, integration_id: UUID, count: int, prefix: str
) -> tuple[Callable[[dict[str, Any]], None], list[dict[str, Any]]]:
    """The statement webhook_store runs for one new status, prepared on `connection`, and the parameters of `count`
    new statuses of wamids named `prefix`.N (each SENT, DELIVERED, READ in turn, as the handler gets them), made
    beforehand."""

    def recording(wamid: str, status: str) -> Callable[[Session], object]:
        report = StatusReport(wamid, MessageStatus(status))
        return lambda session: webhook_store.record_statuses(
            session, integration_id, TENANT, [report], source="evolution"
        )

    pairs = ((number, status) for number in itertools.count() for status in STATUSES)
    captures = [captured(recording(f"{prefix}.{number}", status)) for number, status in itertools.islice(pairs, count)]
    statement = connection.prepare(captures[0][0])
    return (lambda params: statement.run(**params) and None), [params for _, params in captures]


def result(expected: str) -> Callable[[dict[str, Any]], bool]:
    return status(200, lambda body: body["result"] == expected)


def per_event(
    function: Any, upsert: Callable[[str], None], events: Events, runs: int, bare: pg8000.native.Connection
) -> dict[str, Summary]:
    """Each round: a new upsert key, the status statement alone, the floor, a new status, that same status again, a
    new sent message, a new array."""
    rounds = WARMUP + runs
    run_statement, statement_params = status_statements(bare, events.integration_id, rounds, "wamid.alone")
    run_floor_statement, floor_params = status_statements(bare, events.integration_id, rounds, "wamid.floor")
    floor = floor_handler(WEBHOOK_PATH, lambda: run_floor_statement(floor_params[turn[FLOOR]]))
    fresh = [events.fresh_status() for _ in range(rounds)]
    floor_events = [events.fresh_status() for _ in range(rounds)]  # the floor reads no more than their body
    sent = [events.sent_message() for _ in range(rounds)]
    arrays = [events.status_array() for _ in range(rounds)]
    keys = [f"per-event-{number}" for number in range(rounds)]
    recorded, duplicate = invoker(function, result("recorded")), invoker(function, result("duplicate"))
    turn: dict[str, int] = dict.fromkeys((UPSERT, STATEMENT, FLOOR, FRESH, DUPLICATE, SENT, ARRAY), 0)

    def step(label: str, work: Callable[[T], object], items: Sequence[T]) -> Callable[[], None]:
        def call() -> None:
            work(items[turn[label]])
            turn[label] += 1

        return call

    return time_interleaved(
        {
            UPSERT: step(UPSERT, upsert, keys),
            STATEMENT: step(STATEMENT, run_statement, statement_params),
            FLOOR: step(FLOOR, handler_invoker(floor, "bench_webhook_floor", result("recorded")), floor_events),
            FRESH: step(FRESH, recorded, fresh),
            DUPLICATE: step(DUPLICATE, duplicate, fresh),  # the event FRESH has just recorded
            SENT: step(SENT, recorded, sent),
            ARRAY: step(ARRAY, recorded, arrays),
        },
        runs=runs,
        warmup=WARMUP,
    )


@dataclass
class Stretch:
    events: int = 0
    busy_seconds: float = 0.0

    def timed(self, work: Callable[[T], object], batch: Sequence[T]) -> None:
        started = time.perf_counter()
        for item in batch:
            work(item)
        self.busy_seconds += time.perf_counter() - started
        self.events += len(batch)

    @property
    def ms_per_event(self) -> float:
        return self.busy_seconds / self.events * 1000


def sustained(function: Any, upsert: Callable[[str], None], events: Events, seconds: float) -> dict[str, Stretch]:
    """Batches of each, taking turns, until both have been busy `seconds`; inputs are made between batches."""
    stretches = {UPSERT: Stretch(), FRESH: Stretch()}
    recorded = invoker(function, result("recorded"))
    keys = (f"sustained-{number}" for number in itertools.count())
    while min(stretch.busy_seconds for stretch in stretches.values()) < seconds:
        stretches[UPSERT].timed(upsert, [next(keys) for _ in range(BATCH)])
        stretches[FRESH].timed(recorded, [events.fresh_status() for _ in range(BATCH)])
    return stretches


def round_trips_per_status(function: Any, counter: RoundTrips, events: Events, count: int = 100) -> float:
    recorded = invoker(function, result("recorded"))
    batch = [events.fresh_status() for _ in range(count)]
    before = counter.count
    for event in batch:
        recorded(event)
    return (counter.count - before) / count


def figures(label: str, summary: Summary) -> Figures:
    return Figures(label, "ms", summary.min_ms, summary.median_ms, summary.runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300 if results.quick() else 3000, help="interleaved rounds")
    parser.add_argument("--seconds", type=float, default=0.5 if results.quick() else 5.0, help="sustained, each")
    args = parser.parse_args()

    backends = start_backends(DATABASE_NAME, simulators=False)
    bare: pg8000.native.Connection | None = None
    try:
        events = Events(prepare(backends.owner_url))
        bare = connect(backends.database_url)
        upsert = upserter(bare)
        counter = RoundTrips()
        environment = backends.function_environment("evolution_webhook", EVENT_BUS_NAME="")
        with loaded("evolution_webhook", environment) as function, quiet():
            services = default_services()
            services.database = Database(counter.counting(connection_factory(services.settings)))
            latency = per_event(function, upsert, events, args.runs, bare)
            stretches = sustained(function, upsert, events, args.seconds)
            trips = round_trips_per_status(function, counter, events)
    finally:
        if bare is not None:
            bare.close()
        backends.stop()

    print(f"Evolution webhook, lambda_handler in-process, {args.runs} interleaved rounds after {WARMUP} warm-up")
    base = figures(UPSERT, latency[UPSERT])
    goals = [
        Goal(
            f"Evolution webhook: {FRESH} (handler only)", "webhook_ingest", figures(FRESH, latency[FRESH]), base, GOAL
        ),
        Goal(
            "Evolution webhook: round trips per new status",
            "webhook_ingest",
            Figures.exact("counted on the function's connection", trips, "round trips"),
            Figures.exact("the most allowed", MAX_ROUND_TRIPS, "round trips"),
            1.0,
            "the target kept by the warm function; no event bus (publishing adds the outbox delete)",
        ),
    ]
    goals += [
        Goal(f"Evolution webhook: {label} (handler only)", "webhook_ingest", figures(label, latency[label]), base, None)
        for label in (DUPLICATE, SENT, ARRAY)
    ]
    floor = figures(FLOOR, latency[FLOOR])
    goals += [
        Goal(
            f"Evolution webhook: {FLOOR}",
            "webhook_ingest",
            floor,
            base,
            None,
            "bench/webhook_floor.py: what any handler of the project's shape pays for a new status, none of its code",
        ),
        Goal(
            f"Evolution webhook: {FRESH} (handler only), against its floor",
            "webhook_ingest",
            figures(FRESH, latency[FRESH]),
            floor,
            None,
            "what the project's own code adds to a new status",
        ),
    ]
    goals.append(
        Goal(
            f"Evolution webhook: {STATEMENT}",
            "webhook_ingest",
            figures(STATEMENT, latency[STATEMENT]),
            base,
            None,
            "the database's share of a new status: what the handler's 1.5x must also fit Powertools and parsing into",
        )
    )
    upserts, statuses = stretches[UPSERT], stretches[FRESH]
    goals.append(
        Goal(
            "Evolution webhook: sustained new statuses, one thread",
            "webhook_ingest",
            Figures.exact(f"{statuses.events:,} statuses, mean", statuses.ms_per_event, "ms"),
            Figures.exact(f"{upserts.events:,} bare upserts, mean", upserts.ms_per_event, "ms"),
            None,
            f"{1000 / statuses.ms_per_event:,.0f} statuses/s against {1000 / upserts.ms_per_event:,.0f} upserts/s",
        )
    )
    results.record(goals)


if __name__ == "__main__":
    main()
