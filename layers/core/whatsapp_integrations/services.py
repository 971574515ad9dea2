"""The adapters a use case needs, built once per execution environment and passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import boto3
import httpx

from whatsapp_integrations.adapters.database import Database
from whatsapp_integrations.adapters.database_connection import connection_factory
from whatsapp_integrations.adapters.graph_client import GraphClient
from whatsapp_integrations.adapters.secret_cipher import SecretCipher
from whatsapp_integrations.settings import Settings, get_settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    cipher: SecretCipher
    graph: GraphClient
    clock: Callable[[], datetime] = utc_now


def build_services(settings: Settings) -> Services:
    http = httpx.Client(timeout=httpx.Timeout(settings.graph_timeout_seconds, connect=3.0))
    return Services(
        settings=settings,
        database=Database(connection_factory(settings)),
        cipher=SecretCipher(boto3.client("kms", region_name=settings.aws_region), settings.kms_key_id),
        graph=GraphClient(http, settings.graph_root),
    )


@lru_cache(maxsize=1)
def default_services() -> Services:
    return build_services(get_settings())
