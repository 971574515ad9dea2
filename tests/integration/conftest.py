from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID, uuid4

import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from local.evolution_simulator import EvolutionSimulator
from local.graph_simulator import GraphSimulator
from local.postgres import create_database, drop_database, find_or_start_postgres
from local.stack import aws_environment, create_kms_key
from tests.conftest import ROOT
from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.migrations import apply_migrations
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.errors import HandshakeRefused, IntegrationNotFound
from whatsapp_integrations.services import Services, build_services, default_services, utc_now
from whatsapp_integrations.settings import Settings, get_settings
from whatsapp_integrations.usecases.receive_meta_webhook import answer_handshake


@pytest.fixture(scope="session")
def admin_database_url() -> str:
    return find_or_start_postgres(ROOT / ".local")


@pytest.fixture(scope="session")
def database_url(admin_database_url: str) -> Iterator[str]:
    name = f"wa_integration_{os.getpid()}"
    url = create_database(admin_database_url, name, drop_first=True)
    yield url
    drop_database(admin_database_url, name)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ.update(aws_environment(url))
    yield url
    server.stop()


@pytest.fixture(scope="session")
def kms_key_id(moto_url: str) -> str:
    return create_kms_key()


@pytest.fixture(scope="session")
def graph() -> Iterator[GraphSimulator]:
    simulator = GraphSimulator().start()
    yield simulator
    simulator.stop()


EVOLUTION_KEY = "integration-evolution-key"


@pytest.fixture(scope="session")
def evolution(graph: GraphSimulator) -> Iterator[EvolutionSimulator]:
    """The Evolution API simulator (a test double), sending through the Graph simulator."""
    simulator = EvolutionSimulator(api_key=EVOLUTION_KEY, graph_url=graph.base_url).start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="session")
def evolution_key_secret_arn(moto_url: str) -> str:
    import boto3

    return str(
        boto3.client("secretsmanager").create_secret(Name=f"evolution-key-{uuid4()}", SecretString=EVOLUTION_KEY)["ARN"]
    )


@pytest.fixture(scope="session")
def settings(database_url: str, kms_key_id: str, graph: GraphSimulator) -> Settings:
    return Settings(
        database_url=database_url, kms_key_id=kms_key_id, graph_api_base_url=graph.base_url, meta_calls_per_minute=1000
    )


def stopped_clock() -> Callable[[], datetime]:
    """Now, and the same instant at every later call."""
    instant = utc_now()
    return lambda: instant


def limited_services(
    settings: Settings, clock: Callable[[], datetime] | None = None, calls_per_minute: int = 2
) -> Services:
    """Services allowing the tenant `calls_per_minute` calls to Meta, on a stopped clock: every call a test counts
    falls in one rate-limit window, even when the wall clock crosses a minute between two of them. Services that
    must share a window (two execution environments) are given one clock."""
    return Services(
        settings.model_copy(update={"meta_calls_per_minute": calls_per_minute}), clock=clock or stopped_clock()
    )


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> Settings:
    database = Database(connection_factory(settings))
    apply_migrations(database)
    database.close()
    return settings


@pytest.fixture
def services(migrated: Settings, graph: GraphSimulator) -> Iterator[Services]:
    """Fresh adapters on an emptied schema (the audit trail is append-only, so tests use their own tenants)."""
    graph.reset()
    built = build_services(migrated)
    built.database.in_transaction(lambda session: session.execute("TRUNCATE integrations, rate_limit_windows"))
    yield built
    built.database.close()


@pytest.fixture
def caller() -> Caller:
    return Caller(tenant_id=f"tenant-{uuid4().hex[:8]}", actor="user-1", request_id=str(uuid4()))


@pytest.fixture
def other_caller() -> Caller:
    return Caller(tenant_id=f"tenant-{uuid4().hex[:8]}", actor="user-2", request_id=str(uuid4()))


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], None]]:
    """Set a function's environment the way Lambda does (read at import); everything is restored afterwards."""

    def apply(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        default_services.cache_clear()

    yield apply
    if default_services.cache_info().currsize:
        default_services().database.close()
    get_settings.cache_clear()
    default_services.cache_clear()


def load_function(folder: str, module_name: str) -> ModuleType:
    """Import functions/<folder>/app.py under its own name, as a fresh Lambda execution environment would."""
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class HandshakeEndpoint:
    """Our public `GET /webhooks/meta/{id}` without the HTTP function around it: the handshake use case itself,
    which Meta (the Graph simulator) calls while the provisioner sets an override. Posts are answered 200."""

    def __init__(self) -> None:
        self.services: Services | None = None
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                try:
                    assert endpoint.services is not None
                    body = answer_handshake(
                        UUID(parts.path.rsplit("/", 1)[-1]),
                        query.get("hub.mode"),
                        query.get("hub.verify_token"),
                        query.get("hub.challenge"),
                        endpoint.services,
                    ).encode()
                    status = 200
                except (HandshakeRefused, IntegrationNotFound, ValueError):
                    status, body = 403, b"refused"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def handshake_endpoint() -> Iterator[HandshakeEndpoint]:
    endpoint = HandshakeEndpoint()
    yield endpoint
    endpoint.stop()
