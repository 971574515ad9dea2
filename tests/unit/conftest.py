from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket

# Settings are validated when a function module is imported; unit tests give them harmless values.
os.environ.setdefault("KMS_KEY_ID", "alias/unit-tests")
os.environ.setdefault("DATABASE_URL", "postgresql://unit@127.0.0.1:1/none")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "UnitTests")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("PROVISIONING_QUEUE_URL", "http://127.0.0.1:1/queue/unit")
os.environ.setdefault("EVOLUTION_BASE_URL", "http://127.0.0.1:1")
os.environ.setdefault("EVOLUTION_API_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:unit")
os.environ.setdefault("EVOLUTION_WEBHOOK_URL", "http://127.0.0.1:1/webhooks/evolution")
os.environ.setdefault("WEBHOOK_HMAC_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:unit")
# Without credentials botocore asks the instance metadata service: a network call, and not a loopback one.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "unit")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "unit")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    """Unit tests do no I/O: any socket raises SocketBlockedError."""
    disable_socket(allow_unix_socket=False)
    yield
    enable_socket()
