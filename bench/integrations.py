"""Integrations for the benches, made by the real use cases: one validated with an app secret, one connected for
real by the provisioner (its Evolution instance in the simulator, Meta's webhooks wired), both of one tenant."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from bench.backends import Backends
from local.graph_simulator import DEMO_APP_ID, DEMO_APP_SECRET, DEMO_PHONE_NUMBER_IDS, DEMO_WABA_ID, VALID_TOKEN
from whatsapp_integrations.adapters import webhook_store
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.domain.message_status import MessageStatus
from whatsapp_integrations.domain.provisioning import Operation, ProvisioningMessage
from whatsapp_integrations.services import Services, build_services
from whatsapp_integrations.usecases.connection_requests import request_connect
from whatsapp_integrations.usecases.create_integration import create_integration
from whatsapp_integrations.usecases.provision_integration import provision

TENANT = "bench-tenant"
WEBHOOK_SECRET = "bench-webhook-secret"
APP_SECRET = DEMO_APP_SECRET
READ_WAMID = "wamid.bench.read"
# Template parameters a deployment would raise for bench traffic: every run is one more request of the same tenant.
PARAMETERS = {"TenantRequestsPerMinute": "100000", "MetaCallsPerMinute": "10000"}
# One demo phone number per role: the unique index allows one live integration per number.
VALIDATED_PHONE, CONNECTED_PHONE, CREATED_PHONE, PROVISIONED_PHONE = DEMO_PHONE_NUMBER_IDS[:4]


class State:
    """The integrations the benches work on, and what puts them back after a bench changed them."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        self.services: Services = build_services(backends.settings())
        self.caller = Caller(TENANT, "bench", "seed")
        self.validated = self.create(VALIDATED_PHONE)
        self.connected = self.connect(self.create(CONNECTED_PHONE))
        self.sql(
            "UPDATE integrations SET webhook_secret_hash = :hash WHERE id = :id",
            hash=hashlib.sha256(WEBHOOK_SECRET.encode()).hexdigest(),
            id=self.connected,
        )
        self.wamids = (f"wamid.bench.{n}" for n in range(1_000_000))
        self.services.database.autocommit(
            lambda session: webhook_store.record_statuses(
                session,
                self.validated,
                TENANT,
                [webhook_store.StatusReport(READ_WAMID, MessageStatus.READ)],
                source="evolution",
            )
        )

    def create(self, phone: str) -> UUID:
        credentials = MetaCredentials(phone, DEMO_WABA_ID, VALID_TOKEN, DEMO_APP_ID, DEMO_APP_SECRET)
        return create_integration(self.caller, f"Bench {phone}", credentials, self.services).id

    def connect(self, integration_id: UUID) -> UUID:
        request_connect(self.caller, integration_id, self.services)
        message = ProvisioningMessage(TENANT, integration_id, Operation.CONNECT, "bench-seed")
        provision(message, self.services, attempt=1)
        return integration_id

    def connecting(self) -> UUID:
        """A fresh integration whose connect was requested: the provisioner's work."""
        integration_id = self.create(PROVISIONED_PHONE)
        request_connect(self.caller, integration_id, self.services)
        return integration_id

    def set_status(self, integration_id: UUID, status: str) -> None:
        """Back to `status` after a bench moved it (a validated integration has no Evolution instance)."""
        self.sql(
            """UPDATE integrations SET status = :status, pending_operation = NULL, deleted_at = NULL,
                   evolution_instance_name = CASE WHEN :status = 'validated' THEN NULL ELSE evolution_instance_name END
               WHERE id = :id""",
            status=status,
            id=integration_id,
        )

    def forget_phone(self, phone: str) -> None:
        """Free a demo phone number again (a soft delete, as DELETE does)."""
        self.sql(
            "UPDATE integrations SET deleted_at = now() WHERE phone_number_id = :phone AND deleted_at IS NULL",
            phone=phone,
        )

    def version(self, integration_id: UUID) -> int:
        row = self.services.database.autocommit(
            lambda session: session.fetch_one("SELECT version FROM integrations WHERE id = :id", id=integration_id)
        )
        assert row is not None
        return int(row["version"])

    def sql(self, statement: str, **params: Any) -> None:
        self.services.database.autocommit(lambda session: session.execute(statement, **params))

    def close(self) -> None:
        self.services.database.close()
