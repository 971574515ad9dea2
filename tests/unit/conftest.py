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
