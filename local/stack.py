"""The local stack without Docker: PostgreSQL, moto (KMS, SQS, ...), the Graph API and Evolution simulators, the local
gateway and the /integrations page.

`make dev` and the end-to-end tests start exactly this.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from local.dev_tokens import DevTokens
from local.domain_events import DomainEventTap
from local.evolution_simulator import EvolutionSimulator
from local.gateway import FunctionPool, LocalGateway
from local.graph_simulator import GraphSimulator
from local.page import PageServer
from local.postgres import RUNTIME_LOGIN, create_database, find_or_start_postgres, runtime_login
from local.queues import QueuePoller, create_queues, parameter_environment, queue_triggers
from local.schedules import LocalSchedule, scheduled_functions

ROOT = Path(__file__).resolve().parent.parent
KMS_ALIAS = "alias/whatsapp-integrations-secrets"
EVOLUTION_KEY_SECRET = "whatsapp-integrations/evolution-api-key"
WEBHOOK_HMAC_KEY_SECRET = "whatsapp-integrations/webhook-hmac-key"
EVENT_BUS_NAME = "whatsapp-integrations-domain-events"
LOCAL_EVOLUTION_KEY = "local-evolution-key"


class PortBusy(RuntimeError):
    pass


@dataclass
class StackConfig:
    """Ports: 0 picks a free one; `page_port` None serves no page."""

    api_port: int = 3003
    graph_port: int = 3004
    page_port: int | None = 3005
    evolution_port: int = 3006
    moto_port: int = 3007
    database_name: str = "whatsapp_integrations_dev"
    state_dir: Path = ROOT / ".local"
    graph_url: str | None = None  # None: run the embedded Graph API simulator
    evolution_url: str | None = None  # None: run the embedded Evolution API simulator
    evolution_api_key: str = LOCAL_EVOLUTION_KEY
    # None: the template's rate (StatusSyncIntervalMinutes); tests set their own
    schedule_interval_seconds: int | None = None
    # Where Evolution posts webhooks; by default the local gateway (set it when Evolution runs elsewhere)
    evolution_webhook_url: str | None = None
    evolution_retry_base_seconds: float = 5.0
    provisioning_retry_base_seconds: int = 2
    extra_environment: dict[str, str] = field(default_factory=dict)
    # Template parameters as a deployment would set them (e.g. RelayMaxAttempts): they reach the queues'
    # redrive policies and the functions' environment alike.
    template_parameters: dict[str, str] = field(default_factory=dict)
    log: Callable[[str], None] = print

    @classmethod
    def from_environment(cls, environ: dict[str, str], **overrides: Any) -> StackConfig:
        """The defaults, except what API_PORT, PAGE_PORT, GRAPH_PORT, MOTO_PORT, EVOLUTION_PORT and DATABASE_NAME
        say."""
        ports = {
            "api_port": "API_PORT",
            "page_port": "PAGE_PORT",
            "graph_port": "GRAPH_PORT",
            "moto_port": "MOTO_PORT",
            "evolution_port": "EVOLUTION_PORT",
        }
        values: dict[str, Any] = {}
        for name, variable in ports.items():
            if environ.get(variable):
                if not environ[variable].isdigit() or int(environ[variable]) > 65535:
                    raise ValueError(f"{variable} must be a port number, not {environ[variable]!r}")
                values[name] = int(environ[variable])
        if environ.get("DATABASE_NAME"):
            values["database_name"] = environ["DATABASE_NAME"]
        return cls(**{**values, **overrides})

    def ports_to_bind(self) -> dict[str, int]:
        """The fixed ports this configuration listens on (0 is any free port, and a real Graph or Evolution
        API needs no local one)."""
        wanted = {
            "API_PORT": self.api_port,
            "PAGE_PORT": self.page_port,
            "MOTO_PORT": self.moto_port,
            "GRAPH_PORT": self.graph_port if self.graph_url is None else None,
            "EVOLUTION_PORT": self.evolution_port if self.evolution_url is None else None,
        }
        return {name: port for name, port in wanted.items() if port}


def check_ports_free(ports: dict[str, int], host: str = "127.0.0.1") -> None:
    """Fail before anything is touched (a second `make dev` must not drop the first one's database)."""
    for name, port in ports.items():
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                raise PortBusy(
                    f"port {port} ({name}) is already in use: is another `make dev` running? "
                    f"Stop it, or choose another port, e.g. {name}={port + 100} make dev"
                ) from None


@dataclass
class LocalStack:
    api_url: str
    database_url: str  # the functions' login (the runtime role); owner_database_url owns the schema
    moto_url: str
    graph_url: str
    tokens: DevTokens
    graph_simulator: GraphSimulator | None
    evolution_url: str
    evolution_simulator: EvolutionSimulator | None
    queue_urls: dict[str, str]
    domain_events: DomainEventTap
    page_url: str | None
    owner_database_url: str
    _stoppers: list[Callable[[], None]]

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            stop()


def aws_environment(moto_url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }


def create_kms_key() -> str:
    kms = boto3.client("kms")
    key_id: str = kms.create_key(Description="whatsapp-integrations local secrets")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=KMS_ALIAS, TargetKeyId=key_id)
    return key_id


def migrate(owner_url: str) -> list[str]:
    """The migrations, as the deployment's migration function runs them: as the owner of the schema."""
    from whatsapp_integrations.adapters.database import Database
    from whatsapp_integrations.adapters.database_connection import connection_factory
    from whatsapp_integrations.adapters.migrations import apply_migrations
    from whatsapp_integrations.settings import Settings

    database = Database(connection_factory(Settings(database_url=owner_url, kms_key_id="migrations")))
    try:
        return apply_migrations(database)
    finally:
        database.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_stack(config: StackConfig) -> LocalStack:
    stoppers: list[Callable[[], None]] = []
    try:
        return _start(config, stoppers)
    except BaseException:
        for stop in reversed(stoppers):
            stop()
        raise


def _start(config: StackConfig, stoppers: list[Callable[[], None]]) -> LocalStack:
    check_ports_free(config.ports_to_bind())
    admin_url = find_or_start_postgres(config.state_dir)
    owner_url = create_database(admin_url, config.database_name, drop_first=True)
    applied = migrate(owner_url)
    database_url = runtime_login(owner_url)
    config.log(f"postgres: {owner_url} (recreated empty: moto's KMS key lives only as long as the stack)")
    config.log(f"migrations applied: {', '.join(applied)}; the functions connect as {RUNTIME_LOGIN}")

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=config.moto_port, verbose=False)
    moto.start()
    stoppers.append(moto.stop)
    host, port = moto.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    os.environ.update(aws_environment(moto_url))
    key_id = create_kms_key()
    config.log(f"moto (KMS): {moto_url}, key {KMS_ALIAS}")

    simulator = None
    graph_url = config.graph_url
    if graph_url is None:
        simulator = GraphSimulator(port=config.graph_port).start()
        stoppers.append(simulator.stop)
        graph_url = simulator.base_url
        config.log(f"graph: {graph_url} (SIMULATOR of Meta's Graph API; set GRAPH_API_BASE_URL for the real one)")
    else:
        config.log(f"graph: {graph_url}")

    queue_urls = create_queues(ROOT / "template.yaml", boto3.client("sqs"), config.template_parameters)
    config.log(f"moto (SQS): {', '.join(sorted(queue_urls))}")
    evolution_simulator = None
    evolution_url = config.evolution_url
    if evolution_url is None:
        evolution_simulator = EvolutionSimulator(
            port=config.evolution_port,
            api_key=config.evolution_api_key,
            graph_url=graph_url,
            retry_base_seconds=config.evolution_retry_base_seconds,
        ).start()
        stoppers.append(evolution_simulator.stop)
        evolution_url = evolution_simulator.base_url
        config.log(f"evolution: {evolution_url} (SIMULATOR of Evolution API 2.3.7; set EVOLUTION_URL for a real one)")
    else:
        config.log(f"evolution: {evolution_url}")
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name=EVOLUTION_KEY_SECRET, SecretString=config.evolution_api_key
    )["ARN"]
    hmac_key_arn = boto3.client("secretsmanager").create_secret(
        Name=WEBHOOK_HMAC_KEY_SECRET, SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    domain_events = DomainEventTap(EVENT_BUS_NAME, config.log).start()
    stoppers.append(domain_events.stop)
    api_port = config.api_port or free_port()

    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "KMS_KEY_ID": key_id,
            "GRAPH_API_BASE_URL": graph_url,
            "PROVISIONING_QUEUE_URL": queue_urls["ProvisioningQueue"],
            "STATUS_SYNC_QUEUE_URL": queue_urls["StatusSyncQueue"],
            "RELAY_QUEUE_URL": queue_urls["RelayQueue"],
            "PROVISIONING_DEAD_LETTER_QUEUE_URL": queue_urls["ProvisioningDeadLetterQueue"],
            "RELAY_DEAD_LETTER_QUEUE_URL": queue_urls["RelayDeadLetterQueue"],
            # Meta (the Graph simulator) calls this API's /webhooks/meta/{id} on the gateway
            "PUBLIC_API_URL": f"http://127.0.0.1:{api_port}",
            "EVOLUTION_BASE_URL": evolution_url,
            "EVOLUTION_API_KEY_SECRET_ARN": secret_arn,
            "WEBHOOK_HMAC_KEY_SECRET_ARN": hmac_key_arn,
            "EVENT_BUS_NAME": EVENT_BUS_NAME,
            "EVOLUTION_WEBHOOK_URL": config.evolution_webhook_url or f"http://127.0.0.1:{api_port}/webhooks/evolution",
            "PROVISIONING_RETRY_BASE_SECONDS": str(config.provisioning_retry_base_seconds),
            "POWERTOOLS_SERVICE_NAME": "whatsapp-integrations",
            "POWERTOOLS_METRICS_NAMESPACE": "WhatsAppIntegrations",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            **parameter_environment(ROOT / "template.yaml", config.template_parameters),
            **config.extra_environment,
        }
    )

    tokens = DevTokens(config.state_dir / "dev-jwt-key.pem")
    page = None
    if config.page_port is not None:
        page = PageServer(ROOT / "frontend" / "dist", ROOT / "docs", tokens, port=config.page_port, log=config.log)
        stoppers.append(page.stop)
    gateway = LocalGateway(
        ROOT / "template.yaml",
        tokens,
        port=api_port,
        cors_origins=page.origins if page else [],
        template_parameters=config.template_parameters,
        log=config.log,
    ).start()
    stoppers.append(gateway.stop)
    config.log(f"api: {gateway.url} ({len(gateway.routes)} routes from template.yaml)")
    if page is not None:
        page.api_url = gateway.url
        page.start()
        config.log(f"page: {page.url}/integrations (CORS of the API allows {', '.join(page.origins)})")
    background: list[Callable[[], None]] = []  # each stop waits out a long poll or a tick: they are stopped together
    stoppers.append(lambda: _all_at_once(background))
    for trigger in queue_triggers(ROOT / "template.yaml"):
        pool = FunctionPool(trigger.function_name, trigger.code_uri, trigger.handler, size=1)
        poller = QueuePoller(trigger, queue_urls[trigger.queue_logical_id], pool, config.log).start()
        background.append(poller.stop)
        config.log(f"worker: {trigger.function_name} polls {trigger.queue_logical_id}")
    for scheduled in scheduled_functions(ROOT / "template.yaml"):
        schedule = LocalSchedule(scheduled, config.log, config.schedule_interval_seconds).start()
        background.append(schedule.stop)
        gateway.add_local_route(f"/__local__/schedules/{scheduled.function_name}", schedule.run_now)
        config.log(
            f"schedule: {scheduled.function_name} every {schedule.interval_seconds} s "
            f"(now: POST {gateway.url}/__local__/schedules/{scheduled.function_name})"
        )
    return LocalStack(
        gateway.url,
        database_url,
        moto_url,
        graph_url,
        tokens,
        simulator,
        evolution_url,
        evolution_simulator,
        queue_urls,
        domain_events,
        f"{page.url}/integrations" if page else None,
        owner_url,
        stoppers,
    )


def _all_at_once(stops: list[Callable[[], None]]) -> None:
    if stops:
        with ThreadPoolExecutor(max_workers=len(stops)) as pool:
            list(pool.map(lambda stop: stop(), stops))
