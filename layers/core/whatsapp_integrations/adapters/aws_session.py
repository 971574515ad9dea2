"""The one botocore session of an execution environment: every AWS client and the IAM database login come from it,
so its endpoint data, service models and credentials are loaded once.

botocore itself rather than boto3: boto3 adds nothing the clients here use, and its import (s3transfer and its
resource layer included) costs about 30 ms of a cold start beyond botocore's. In Lambda a function imports botocore's
session only when it first builds a client (or signs the IAM login). A function that reads a secret still imports
boto3, through Powertools' parameters.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

# A botocore session is not thread-safe while it builds clients (the local stack serves requests from threads)
_building = threading.Lock()


@lru_cache(maxsize=1)
def aws_session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def aws_client(service: str, region: str) -> Any:
    """A new client of `service` (clients themselves are thread-safe: build one, then share it)."""
    with _building:
        return aws_session().create_client(service, region_name=region)


def aws_credentials() -> Any | None:
    """The session's credentials as one consistent set (key, secret and token read together, as botocore's own
    signers do, so a refresh between the reads cannot mix two sets); None when there are none."""
    with _building:
        credentials = aws_session().get_credentials()
        return credentials.get_frozen_credentials() if credentials is not None else None
