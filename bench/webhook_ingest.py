"""Evolution webhook ingest in-process, as ratios of one bare pg8000 upsert round trip on the same database.

1. Per event: functions/evolution_webhook/app.py's lambda_handler called directly (no HTTP) with HTTP API events
   built beforehand, for a fresh messages.update (new (wamid, status) pair: the common path), the same event again
   (duplicate), and a fresh send.message; against one `INSERT ... ON CONFLICT DO UPDATE` with a new key on a
   reused connection. The four take turns within each round, so drift hits them all alike.
2. Per process: fresh messages.update events back to back in one thread for about 5 s of handler time, against
   the same upsert loop; events per second and their ratio.

EVENT_BUS_NAME stays unset, so a recorded status publishes nothing (no EventBridge call is made or timed).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import itertools
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pg8000.native

from bench.seed import connect
from bench.stats import Summary, print_table, ratio, time_interleaved
from local.gateway import LambdaContext, http_api_event
from local.postgres import create_database, drop_database, find_or_start_postgres
from local.stack import ROOT
from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.migrations import apply_migrations
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import Settings, get_settings

T = TypeVar("T")
Event = dict[str, Any]

DATABASE_NAME = "wa_bench_webhook"
TENANT = "bench-webhook-tenant"
SECRET = "bench-webhook-secret"
KMS_KEY_ID = "bench"
WARMUP = 50
BATCH = 500  # events built (untimed) before each timed stretch of the throughput loop
MAX_EVENTS = 200_000  # bounds the throughput loop whatever the machine
STATUSES = ("SENT", "DELIVERED", "READ")  # each wamid gets these in order: one insert, then two upgrades
UPSERT_SQL = "INSERT INTO bench_upsert (k, v) VALUES (:k, :v) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
ENVIRONMENT = {
    "KMS_KEY_ID": KMS_KEY_ID,
    # Required at cold start; the X-Webhook-Secret header path never reads it.
    "WEBHOOK_HMAC_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-unused",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
UPSERT = "bare pg8000 upsert"
FRESH = "messages.update, new status"
DUPLICATE = "messages.update, duplicate"
SENT = "send.message, new message"


@dataclass(frozen=True)
class Rate:
    events: int
    busy_seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.busy_seconds if self.busy_seconds > 0 else 0.0


class Events:
    """HTTP API events for one integration, as API Gateway would hand them to the function."""

    def __init__(self, integration_id: UUID) -> None:
        self.instance = f"wa-{integration_id}"
        self._status_pairs: Iterator[tuple[int, str]] = (
            (number, status) for number in itertools.count() for status in STATUSES
        )
        self._sent = itertools.count()

    def fresh_status(self) -> Event:
        number, status = next(self._status_pairs)
        return self._event("messages.update", {"keyId": f"wamid.bench.{number}", "status": status})

    def sent_message(self) -> Event:
        number = next(self._sent)
        data = {
            "key": {"id": f"wamid.sent.{number}", "remoteJid": "5511999990000@s.whatsapp.net", "fromMe": True},
            "messageTimestamp": 1_700_000_000 + number,
        }
        return self._event("send.message", data)

    def _event(self, name: str, data: dict[str, Any]) -> Event:
        body = json.dumps({"event": name, "instance": self.instance, "data": data}).encode()
        return http_api_event(
            "POST /webhooks/evolution",
            "POST",
            "/webhooks/evolution",
            body=body,
            headers={"content-type": "application/json", "x-webhook-secret": SECRET},
        )


def prepare(database_url: str) -> UUID:
    """Migrate, create the baseline table, and add one connected integration straight in SQL."""
    database = Database(connection_factory(Settings(database_url=database_url, kms_key_id=KMS_KEY_ID)))
    try:
        apply_migrations(database)
    finally:
        database.close()
    integration_id = uuid4()
    connection = connect(database_url)
    try:
        connection.run("CREATE TABLE bench_upsert (k text PRIMARY KEY, v bigint NOT NULL)")
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


def load_function(database_url: str) -> ModuleType:
    """Import the function as Lambda would, with the settings it reads from the environment."""
    os.environ.update({**ENVIRONMENT, "DATABASE_URL": database_url})
    os.environ.pop("EVENT_BUS_NAME", None)
    get_settings.cache_clear()
    default_services.cache_clear()
    path = ROOT / "functions" / "evolution_webhook" / "app.py"
    spec = importlib.util.spec_from_file_location("bench_evolution_webhook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def invoker(function: ModuleType, expected: str) -> Callable[[Event], None]:
    """Call lambda_handler and insist on the outcome, so a broken path cannot pass for a fast one."""
    handler: Callable[[Event, LambdaContext], dict[str, Any]] = function.lambda_handler
    context = LambdaContext("evolution-webhook", "bench")

    def invoke(event: Event) -> None:
        answer = handler(event, context)
        if answer["statusCode"] != 200 or json.loads(answer["body"])["result"] != expected:
            raise RuntimeError(f"expected 200 {expected!r}, got {answer['statusCode']} {answer.get('body')}")

    return invoke


def upserter(connection: pg8000.native.Connection) -> Callable[[str], None]:
    def upsert(key: str) -> None:
        connection.run(UPSERT_SQL, k=key, v=1)

    return upsert


def per_event(
    function: ModuleType, connection: pg8000.native.Connection, events: Events, runs: int
) -> dict[str, Summary]:
    """Each round: a new upsert key, a new status, that same status again, a new sent message."""
    rounds = WARMUP + runs
    fresh = [events.fresh_status() for _ in range(rounds)]
    sent = [events.sent_message() for _ in range(rounds)]
    keys = [f"per-event-{number}" for number in range(rounds)]
    record, replay, send = invoker(function, "recorded"), invoker(function, "duplicate"), invoker(function, "recorded")
    upsert = upserter(connection)
    turn: dict[str, int] = dict.fromkeys((UPSERT, FRESH, DUPLICATE, SENT), 0)

    def step(label: str, work: Callable[[T], None], items: Sequence[T]) -> Callable[[], None]:
        def call() -> None:
            work(items[turn[label]])
            turn[label] += 1

        return call

    return time_interleaved(
        {
            UPSERT: step(UPSERT, upsert, keys),
            FRESH: step(FRESH, record, fresh),
            DUPLICATE: step(DUPLICATE, replay, fresh),  # the event FRESH has just recorded
            SENT: step(SENT, send, sent),
        },
        runs=runs,
        warmup=WARMUP,
    )


def sustained(seconds: float, make: Callable[[], T], work: Callable[[T], None]) -> Rate:
    """Run `work` back to back until it has been busy `seconds`; inputs are made in untimed batches."""
    done, busy = 0, 0.0
    while busy < seconds and done < MAX_EVENTS:
        batch = [make() for _ in range(BATCH)]
        started = time.perf_counter()
        for item in batch:
            work(item)
        busy += time.perf_counter() - started
        done += len(batch)
    return Rate(done, busy)


def per_process(
    function: ModuleType, connection: pg8000.native.Connection, events: Events, seconds: float
) -> dict[str, Rate]:
    keys = (f"sustained-{number}" for number in itertools.count())
    return {
        UPSERT: sustained(seconds, lambda: next(keys), upserter(connection)),
        FRESH: sustained(seconds, events.fresh_status, invoker(function, "recorded")),
    }


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Powertools 3.x prints EMF to stdout even with POWERTOOLS_METRICS_DISABLED=true: the cold-start metric, and
    every 100th value of a metric (disabled flushes never clear the set, so add_metric's 100-value flush fires).
    Keep those lines, and the 'No application metrics' warning, out of the report."""
    with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def report(latency: dict[str, Summary], rates: dict[str, Rate], runs: int) -> None:
    bare = latency[UPSERT]
    print(f"Evolution webhook, lambda_handler in-process, {runs} interleaved rounds after {WARMUP} warm-up")
    print("(EVENT_BUS_NAME unset: no EventBridge call is made; header X-Webhook-Secret path)")
    print_table(
        ["event", "median ms", "p95 ms", "vs upsert", "p95 vs upsert p95"],
        [
            [
                label,
                f"{s.median_ms:.3f}",
                f"{s.p95_ms:.3f}",
                ratio(s.median_ms, bare.median_ms),
                ratio(s.p95_ms, bare.p95_ms),
            ]
            for label, s in latency.items()
        ],
    )
    print()
    baseline = rates[UPSERT].per_second
    print("Sustained, one thread, one process (handler time only; events built between timed batches)")
    print_table(
        ["loop", "events", "busy s", "events/s", "vs upsert"],
        [
            [label, f"{r.events:,}", f"{r.busy_seconds:.2f}", f"{r.per_second:,.0f}", ratio(r.per_second, baseline)]
            for label, r in rates.items()
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000, help="timed rounds of the per-event comparison")
    parser.add_argument("--seconds", type=float, default=5.0, help="busy time of each sustained loop")
    args = parser.parse_args()

    admin_url = find_or_start_postgres(ROOT / ".local")  # before DATABASE_URL points at the bench database
    database_url = create_database(admin_url, DATABASE_NAME, drop_first=True)
    saved = dict(os.environ)
    connection: pg8000.native.Connection | None = None
    function: ModuleType | None = None
    try:
        events = Events(prepare(database_url))
        function = load_function(database_url)
        connection = connect(database_url)
        with silenced():
            latency = per_event(function, connection, events, args.runs)
            rates = per_process(function, connection, events, args.seconds)
    finally:
        if connection is not None:
            connection.close()
        if function is not None:
            default_services().database.close()
        get_settings.cache_clear()
        default_services.cache_clear()
        os.environ.clear()
        os.environ.update(saved)
        drop_database(admin_url, DATABASE_NAME)
    report(latency, rates, args.runs)


if __name__ == "__main__":
    main()
