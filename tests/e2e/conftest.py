from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from local import graph_simulator as sim
from local.postgres import drop_database, find_or_start_postgres
from local.stack import LocalStack, StackConfig, start_stack
from tests.conftest import ROOT

# The demo credentials of the Graph API simulator, as the whole form (connecting needs the app ID and secret).
DEMO = {
    "phone_number_id": sim.DEMO_PHONE_NUMBER_IDS[0],
    "waba_id": sim.DEMO_WABA_ID,
    "access_token": sim.VALID_TOKEN,
    "app_id": sim.DEMO_APP_ID,
    "app_secret": sim.DEMO_APP_SECRET,
}

# Fast retries and a short Evolution timeout keep the fault-injection tests quick.
E2E_ENVIRONMENT = {
    "META_CALLS_PER_MINUTE": "1000",
    "TENANT_REQUESTS_PER_MINUTE": "5000",
    "EVOLUTION_TIMEOUT_SECONDS": "1.5",
    "PROVISIONING_RETRY_BASE_SECONDS": "1",
    "PROVISIONING_RETRY_MAX_SECONDS": "2",
    "RELAY_RETRY_BASE_SECONDS": "1",
    "RELAY_RETRY_MAX_SECONDS": "1",
}
# As a deployment would set them: the relay queue's maxReceiveCount and the relay worker's policy alike.
E2E_TEMPLATE_PARAMETERS = {"RelayMaxAttempts": "4"}


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The same local stack `make dev` runs, page included, on free ports and its own database."""
    name = f"wa_e2e_{os.getpid()}"
    admin_url = find_or_start_postgres(ROOT / ".local")  # before the stack points DATABASE_URL at its own database
    started = start_stack(
        StackConfig(
            evolution_port=0,
            evolution_retry_base_seconds=0.2,
            api_port=0,
            page_port=0,
            graph_port=0,
            moto_port=0,
            database_name=name,
            extra_environment=E2E_ENVIRONMENT,
            template_parameters=E2E_TEMPLATE_PARAMETERS,
            log=lambda _: None,
        )
    )
    yield started
    started.stop()
    drop_database(admin_url, name)


class Api:
    """An HTTP client for one tenant of the local stack."""

    def __init__(self, stack: LocalStack, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        token = stack.tokens.issue(tenant_id, subject=f"user-of-{tenant_id}")
        self.http = httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def __getattr__(self, name: str):  # get, post, put, delete, request
        return getattr(self.http, name)


@pytest.fixture
def tenant_a(stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Api]:
    api = Api(stack, f"tenant-a-{request.node.name[:40]}")
    yield api
    api.http.close()


@pytest.fixture
def tenant_b(stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Api]:
    api = Api(stack, f"tenant-b-{request.node.name[:40]}")
    yield api
    api.http.close()


@pytest.fixture(autouse=True)
def _free_demo_numbers(stack: LocalStack) -> None:
    """Demo phone numbers are few and unique across tenants: each test starts with none in use."""
    from urllib.parse import urlsplit

    import pg8000.native

    parts = urlsplit(stack.owner_database_url)
    connection = pg8000.native.Connection(
        user=parts.username or "postgres",
        host=parts.hostname,
        port=parts.port,
        database=parts.path.lstrip("/"),
        password=parts.password,
    )
    connection.run("UPDATE integrations SET deleted_at = now() WHERE deleted_at IS NULL")
    connection.run("TRUNCATE rate_limit_windows")
    connection.close()
    if stack.graph_simulator is not None:
        stack.graph_simulator.reset()
    if stack.evolution_simulator is not None:
        stack.evolution_simulator.reset()
