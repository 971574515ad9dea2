"""The one botocore session of an execution environment: every AWS client and the IAM database login come from it,
so its endpoint data, service models and credentials are loaded once.

botocore itself rather than boto3: boto3's import (s3transfer and its resource layer included) costs a cold start
about 30 ms and adds nothing the clients here use; Powertools' tracer has imported botocore already.
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
