"""The relay and the outbox, handler only, each against the bare work it wraps, in interleaved rounds.

1. Meta's webhook intake (functions/meta_webhook): a signed status post for the connected integration, answered once
   its status is recorded and it is queued for the relay. Baseline: the signature check (HMAC-SHA-256 over the raw
   body) and one SQS SendMessage of the post, on a warm boto3 client.
2. The relay worker (functions/meta_relay): one queued post forwarded to Evolution's /webhook/meta. Baseline: a bare
   httpx POST of the same post to the Evolution simulator, on a warm client.
3. The outbox (functions/connect_integration): POST connect, whose transaction writes the provisioning message to
   the outbox, sends it to SQS after the commit and deletes it. Baseline: the same function with the outbox bypassed
   (nothing written or deleted: the message is sent straight after the commit), which is what a direct send costs.

SQS is moto and Evolution the simulator, both on loopback in this process. EVENT_BUS_NAME is unset, so no domain
event is published (no PutEvents in either side); every integration is the real one of bench/integrations.py.
"""

from __future__ import annotations

import argparse
import hmac
import itertools
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx

from bench import results
from bench.backends import Backends, start_backends
from bench.events import api, meta_post, signature, signed_meta_webhook, sqs_event
from bench.handlers import handler_invoker, invoker, loaded, quiet, status
from bench.integrations import APP_SECRET, CONNECTED_PHONE, PARAMETERS, TENANT, State
from bench.relay_floor import floor_handler
from bench.results import Figures, Goal
from bench.seed import bench_database
from whatsapp_integrations.adapters import outbox
from whatsapp_integrations.domain.outbox import OutboxEntry, OutgoingMessage
from whatsapp_integrations.observability import logger
from whatsapp_integrations.services import default_services

DATABASE_NAME = bench_database("wa_bench_relay")
WARMUP = 20
FORWARDED = "one queued post, forwarded"
BARE_POST = "bare httpx POST to the Evolution simulator"
PURGE_EVERY = 100  # moto's SQS gets slower as a queue grows; emptied between rounds, untimed


@dataclass
class Pair:
    """A subject and its baseline (and, where one is measured, the floor between them), each prepared untimed and
    then timed, taking turns round by round."""

    subject: Callable[[], Any]
    baseline: Callable[[], Any]
    prepare: Callable[[], None] = lambda: None
    floor: Callable[[], Any] | None = None
    samples: dict[str, list[float]] = field(default_factory=lambda: {"subject": [], "baseline": [], "floor": []})

    def run(self, rounds: int, between: Callable[[int], None] = lambda _: None) -> Pair:
        sides = {"subject": self.subject, "baseline": self.baseline}
        if self.floor is not None:
            sides["floor"] = self.floor
        names = list(sides)
        for round_number in range(WARMUP + rounds):
            between(round_number)
            shift = round_number % len(names)
            order = names[shift:] + names[:shift]  # each side goes first in turn
            if round_number // len(names) % 2:
                order.reverse()  # and follows each other side as often as it precedes it
            for side in order:
                self.prepare()
                started = time.perf_counter()
                sides[side]()
                if round_number >= WARMUP:
                    self.samples[side].append((time.perf_counter() - started) * 1000)
        return self


def wamids() -> Iterator[str]:
    return (f"wamid.relay.{number}" for number in itertools.count())


def intake(backends: Backends, state: State, rounds: int) -> Pair:
    connected = str(state.connected)
    sqs = boto3.client("sqs")
    relay_queue = backends.queue_urls["RelayQueue"]
    posts: Iterator[bytes] = (meta_post(CONNECTED_PHONE, wamid) for wamid in wamids())

    def signed() -> dict[str, Any]:
        raw = next(posts)
        return signed_meta_webhook(connected, raw, APP_SECRET)

    def bare() -> None:
        raw = next(posts)
        if not hmac.compare_digest(signature(raw, APP_SECRET), signature(raw, APP_SECRET)):
            raise RuntimeError("the signature check failed")
        sqs.send_message(QueueUrl=relay_queue, MessageBody=raw.decode())

    def purge(round_number: int) -> None:
        if round_number % PURGE_EVERY == 0:
            sqs.purge_queue(QueueUrl=relay_queue)

    environment = backends.function_environment("meta_webhook", EVENT_BUS_NAME="")
    with loaded("meta_webhook", environment) as function, quiet():
        queued = invoker(function, status(200, lambda body: body["queued"] == 1))
        return Pair(lambda: queued(signed()), bare).run(rounds, purge)


def forwarder(backends: Backends, state: State, rounds: int) -> Pair:
    assert backends.evolution is not None
    http = httpx.Client(timeout=10)
    url = f"{backends.evolution.base_url}/webhook/meta"
    posts = (json.loads(meta_post(CONNECTED_PHONE, wamid)) for wamid in wamids())
    item = {"integration_id": str(state.connected), "tenant_id": TENANT, "correlation_id": "bench"}
    # Each side's input is made before its timed call: the next post, and the SQS event Lambda would hand the
    # worker with that post queued in it
    prepared: dict[str, Any] = {}

    def prepare() -> None:
        prepared["post"] = next(posts)
        prepared["event"] = sqs_event({**item, "post": prepared["post"]})

    def post(body: dict[str, Any]) -> None:
        if http.post(url, json=body).status_code != 200:
            raise RuntimeError("Evolution's /webhook/meta refused the post")

    environment = backends.function_environment("meta_relay", EVENT_BUS_NAME="")
    try:
        with loaded("meta_relay", environment) as function, quiet():
            relayed = invoker(function, no_failures)
            floor = handler_invoker(floor_handler(post), "bench_relay_floor", no_failures)
            return Pair(
                lambda: relayed(prepared["event"]),
                lambda: post(prepared["post"]),
                prepare=prepare,
                floor=lambda: floor(prepared["event"]),
            ).run(rounds)
    finally:
        http.close()


def no_failures(answer: dict[str, Any]) -> bool:
    return answer == {"batchItemFailures": []}


@contextmanager
def direct_sends() -> Iterator[None]:
    """The outbox bypassed: what a transaction would write to it is sent straight after the commit; nothing is
    written to it or deleted from it."""
    ids = itertools.count(-1, -1)
    write, delete = outbox.add, outbox.delete_sent

    def unwritten(session: Any, messages: Sequence[OutgoingMessage]) -> list[OutboxEntry]:
        return [OutboxEntry(next(ids), message) for message in messages]

    outbox.add, outbox.delete_sent = unwritten, lambda session, entries: None  # type: ignore[assignment]
    try:
        yield
    finally:
        outbox.add, outbox.delete_sent = write, delete  # type: ignore[assignment]


def connects(backends: Backends, state: State, rounds: int) -> Pair:
    validated = str(state.validated)
    route = "/integrations/whatsapp/{integration_id}/connect"
    path = f"/integrations/whatsapp/{validated}/connect"
    sqs = boto3.client("sqs")
    provisioning_queue = backends.queue_urls["ProvisioningQueue"]

    def purge(round_number: int) -> None:
        if round_number % PURGE_EVERY == 0:
            sqs.purge_queue(QueueUrl=provisioning_queue)

    with loaded("connect_integration", backends.function_environment("connect_integration", EVENT_BUS_NAME="")) as fn:
        accepted = invoker(fn, status(202))

        def through_the_outbox() -> None:
            accepted(api("POST", route, path, integration_id=validated))
            if default_services().database.autocommit(outbox.pending_count):
                raise RuntimeError("the outbox kept a message it had sent")

        def sent_directly() -> None:
            with direct_sends():
                accepted(api("POST", route, path, integration_id=validated))

        with quiet():
            return Pair(
                through_the_outbox, sent_directly, prepare=lambda: state.set_status(state.validated, "validated")
            ).run(rounds, purge)


def goal(name: str, pair: Pair, subject: str, baseline: str, ratio: float, note: str = "") -> Goal:
    return Goal(
        name,
        "relay",
        Figures.of(subject, pair.samples["subject"]),
        Figures.of(baseline, pair.samples["baseline"]),
        ratio,
        note,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40 if results.quick() else 400, help="interleaved rounds each")
    args = parser.parse_args()

    logger.setLevel("ERROR")  # the bench's own provisioning logs every step
    backends = start_backends(DATABASE_NAME, parameters=PARAMETERS)
    state: State | None = None
    try:
        state = State(backends)
        intakes = intake(backends, state, args.rounds)
        forwards = forwarder(backends, state, args.rounds)
        connected = connects(backends, state, args.rounds)
    finally:
        if state is not None:
            state.close()
        backends.stop()
    print(f"Relay and outbox, handler only, {args.rounds} interleaved rounds each after {WARMUP} warm-up")
    forward_floor = Figures.of("Powertools' worker shape, the bare POST", forwards.samples["floor"])
    results.record(
        [
            goal(
                "Meta webhook intake (handler only)",
                intakes,
                "signed status post, checked and queued",
                "HMAC-SHA-256 check + one SQS SendMessage",
                1.5,
                "moto SQS on loopback",
            ),
            goal("relay forwarder (handler only)", forwards, FORWARDED, BARE_POST, 1.2),
            Goal(
                "relay forwarder: the floor of a forward (Powertools' SQS worker around the bare POST)",
                "relay",
                forward_floor,
                Figures.of(BARE_POST, forwards.samples["baseline"]),
                None,
                "bench/relay_floor.py: what any worker of the project's shape pays for a forward, none of its code",
            ),
            Goal(
                "relay forwarder (handler only), against its floor",
                "relay",
                Figures.of(FORWARDED, forwards.samples["subject"]),
                forward_floor,
                None,
                "what the project's own code adds to a forward",
            ),
            goal(
                "outbox: POST connect (handler only)",
                connected,
                "through the outbox: written, sent, deleted",
                "the same, sent directly after the commit",
                1.1,
                "moto SQS on loopback; the tenant's request quota counted on both sides",
            ),
        ]
    )


if __name__ == "__main__":
    main()
