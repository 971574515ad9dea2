"""The real local services a bench runs against: its own PostgreSQL database (migrated, the functions connecting as
the runtime role), a moto server with the template's queues, a KMS key, the secrets and the event bus, and the Graph
and Evolution simulators. Every port is picked free, so a bench never collides with `make dev` or another bench.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from local.evolution_simulator import EvolutionSimulator
from local.function_environment import function_environment, function_ids
from local.graph_simulator import GraphSimulator
from local.postgres import create_database, drop_database, find_or_start_postgres, runtime_login
from local.queues import create_queues
from local.serving import serve_in_thread
from local.stack import EVENT_BUS_NAME, ROOT, aws_environment, create_kms_key, free_port, migrate
from whatsapp_integrations.settings import Settings

TEMPLATE = ROOT / "template.yaml"
EVOLUTION_API_KEY = "bench-evolution-key"
# Closed: nothing listens there, so nothing a bench triggers can reach a real endpoint.
CLOSED_URL = f"http://127.0.0.1:{free_port()}"


class MetaHandshakes:
    """This API's public URL as Meta's verification handshake sees it: every challenge is echoed (the provisioner
    sets the phone number's override there, and the Graph simulator verifies it)."""

    def __init__(self) -> None:
        class Echo(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                challenge = dict(parse_qsl(urlsplit(self.path).query)).get("hub.challenge", "").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(challenge)))
                self.end_headers()
                self.wfile.write(challenge)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        self._server.daemon_threads = True
        serve_in_thread(self._server, "meta-handshakes")
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Backends:
    admin_url: str
    database_name: str
    owner_url: str  # owns the schema (migrations, seeding)
    database_url: str  # the functions' login: the runtime role
    moto_url: str
    queue_urls: dict[str, str]
    kms_key_arn: str
    evolution_key_arn: str
    webhook_hmac_key_arn: str
    graph: GraphSimulator | None
    evolution: EvolutionSimulator | None
    handshakes: MetaHandshakes
    _moto: ThreadedMotoServer = field(repr=False)
    # Template parameters as a deployment would set them (their defaults otherwise)
    parameters: dict[str, str] = field(default_factory=dict)

    def function_environment(self, function: str, **overrides: str) -> dict[str, str]:
        """What functions/<function>/app.py reads in Lambda, from template.yaml, pointed at these services."""
        environment = function_environment(
            TEMPLATE, function_ids(TEMPLATE)[function], resources=self._resources(), parameters=self._parameters()
        )
        return {
            **environment,
            **aws_environment(self.moto_url),
            # The local database instead of DB_HOST and friends (DATABASE_URL wins over them)
            "DATABASE_URL": self.database_url,
            # No X-Ray daemon here: Powertools' tracer is off for baseline and subject alike
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_EC2_METADATA_DISABLED": "true",
            **overrides,
        }

    def settings(self, **values: Any) -> Settings:
        """Settings for use cases run by the bench itself (seeding), as the owner of the schema."""
        return Settings.model_validate(
            {
                "database_url": self.owner_url,
                "kms_key_id": self.kms_key_arn,
                "graph_api_base_url": self.graph.base_url if self.graph else CLOSED_URL,
                "evolution_base_url": self.evolution.base_url if self.evolution else CLOSED_URL,
                "evolution_api_key_secret_arn": self.evolution_key_arn,
                "evolution_webhook_url": f"{CLOSED_URL}/webhooks/evolution",
                "webhook_hmac_key_secret_arn": self.webhook_hmac_key_arn,
                "provisioning_queue_url": self.queue_urls["ProvisioningQueue"],
                "status_sync_queue_url": self.queue_urls["StatusSyncQueue"],
                "relay_queue_url": self.queue_urls["RelayQueue"],
                "public_api_url": self.handshakes.url,
                "meta_calls_per_minute": 10_000,  # the bench's own seeding shares the tenants' Meta budget
                **values,
            }
        )

    def stop(self) -> None:
        # moto's server notices shutdown only every 0.5 s: it stops while the others do
        moto_stopping = threading.Thread(target=self._moto.stop, name="moto-stop")
        moto_stopping.start()
        if self.evolution is not None:
            self.evolution.stop()
        if self.graph is not None:
            self.graph.stop()
        self.handshakes.stop()
        moto_stopping.join()
        drop_database(self.admin_url, self.database_name)

    def _resources(self) -> dict[str, str]:
        return {
            **self.queue_urls,
            "SecretsKey.Arn": self.kms_key_arn,
            "WebhookHmacKeySecret": self.webhook_hmac_key_arn,
            "DomainEventBus": EVENT_BUS_NAME,
            "HttpApi": "bench",
        }

    def _parameters(self) -> dict[str, str]:
        return {
            "DbHost": "127.0.0.1",
            "DbName": self.database_name,
            "DbUser": "bench",
            "DbMigrationUser": "bench",
            "GraphApiBaseUrl": self.graph.base_url if self.graph else CLOSED_URL,
            "EvolutionBaseUrl": self.evolution.base_url if self.evolution else CLOSED_URL,
            "EvolutionApiKeySecretArn": self.evolution_key_arn,
            "EvolutionWebhookUrl": f"{CLOSED_URL}/webhooks/evolution",
            "PublicApiUrl": self.handshakes.url,
            **self.parameters,
        }


def start_backends(
    database_name: str, *, simulators: bool = True, parameters: dict[str, str] | None = None
) -> Backends:
    """Everything up, or nothing left running."""
    admin_url = find_or_start_postgres(ROOT / ".local")  # before anything points DATABASE_URL elsewhere
    owner_url = create_database(admin_url, database_name, drop_first=True)
    started: list[Any] = []
    try:
        migrate(owner_url)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
        os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"  # benches empty queues as they go
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        started.append(moto)
        host, port = moto.get_host_and_port()
        moto_url = f"http://{host}:{port}"
        os.environ.update(aws_environment(moto_url))
        kms_key_arn = boto3.client("kms").describe_key(KeyId=create_kms_key())["KeyMetadata"]["Arn"]
        secrets_manager = boto3.client("secretsmanager")
        evolution_key_arn = secrets_manager.create_secret(
            Name=f"{database_name}/evolution-api-key", SecretString=EVOLUTION_API_KEY
        )["ARN"]
        hmac_key_arn = secrets_manager.create_secret(
            Name=f"{database_name}/webhook-hmac-key", SecretString=secrets.token_urlsafe(48)
        )["ARN"]
        boto3.client("events").create_event_bus(Name=EVENT_BUS_NAME)
        queue_urls = create_queues(TEMPLATE, boto3.client("sqs"))
        handshakes = MetaHandshakes()
        started.append(handshakes)
        graph = evolution = None
        if simulators:
            graph = GraphSimulator().start()
            started.append(graph)
            evolution = EvolutionSimulator(api_key=EVOLUTION_API_KEY, graph_url=graph.base_url, max_attempts=1).start()
            started.append(evolution)
    except BaseException:
        for service in reversed(started):
            service.stop()
        drop_database(admin_url, database_name)
        raise
    return Backends(
        admin_url,
        database_name,
        owner_url,
        runtime_login(owner_url),
        moto_url,
        queue_urls,
        kms_key_arn,
        evolution_key_arn,
        hmac_key_arn,
        graph,
        evolution,
        handshakes,
        moto,
        dict(parameters or {}),
    )
