"""How a function opens its PostgreSQL connection: a local URL, a Secrets Manager password, or IAM auth."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime
from typing import cast
from urllib.parse import unquote, urlsplit

import pg8000.native
from pg8000.converters import timestamptz_in
from pg8000.native import TIMESTAMPTZ

from whatsapp_integrations.settings import Settings

APPLICATION_NAME = "whatsapp-integrations"
IAM_TOKEN_SECONDS = 900  # as long as RDS accepts an auth token


def connection_factory(settings: Settings) -> Callable[[], pg8000.native.Connection]:
    if settings.database_url is not None:
        return _from_url(settings.database_url, settings.db_connect_timeout_seconds)
    return lambda: _with_fast_timestamps(
        pg8000.native.Connection(
            user=settings.db_user or "",
            host=settings.db_host or "",
            port=settings.db_port,
            database=settings.db_name,
            password=_password(settings),
            timeout=settings.db_connect_timeout_seconds,
            application_name=APPLICATION_NAME,
            ssl_context=tls_context(settings) if settings.db_ssl or settings.db_iam_auth else None,
        )
    )


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Verified TLS (certificate chain and host name): against DB_CA_BUNDLE alone when it is set (an RDS instance's
    certificate chains to RDS's own CAs, which no system store holds), else against the system's trust store."""
    cafile = str(settings.db_ca_bundle) if settings.db_ca_bundle is not None else None
    return ssl.create_default_context(cafile=cafile)


def iam_auth_token(host: str, port: int, user: str, region: str) -> str:
    """The password of an IAM database login: what boto3's `rds.generate_db_auth_token` returns (the connect URL
    presigned with SigV4 for `rds-db`, valid 15 minutes, without its scheme), signed with botocore alone. boto3's
    way also imports boto3 and builds an `rds` client with its service model to sign one URL: about 110 ms more of
    the first connection (bench.db_auth_token)."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    from whatsapp_integrations.adapters.aws_session import aws_credentials

    credentials = aws_credentials()
    if credentials is None:
        raise ValueError("DB_IAM_AUTH needs AWS credentials (the function's role) to sign the database login")
    scheme = "https://"  # needed to sign a URL, and not part of the token
    request = AWSRequest(method="GET", url=f"{scheme}{host}:{port}/", params={"Action": "connect", "DBUser": user})
    SigV4QueryAuth(credentials, "rds-db", region, expires=IAM_TOKEN_SECONDS).add_auth(request)
    return str(request.prepare().url).removeprefix(scheme)


def _from_url(url: str, timeout: float) -> Callable[[], pg8000.native.Connection]:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("DATABASE_URL must start with postgresql://")
    return lambda: _with_fast_timestamps(
        pg8000.native.Connection(
            user=unquote(parts.username or "postgres"),
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            database=parts.path.lstrip("/") or None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
            application_name=APPLICATION_NAME,
        )
    )


def _with_fast_timestamps(connection: pg8000.native.Connection) -> pg8000.native.Connection:
    """pg8000 reads each timestamptz with datetime.strptime, about 25 µs a value: a page of 20 integrations has 60 of
    them. PostgreSQL's ISO output is what datetime.fromisoformat reads, in under a microsecond; anything else
    (infinity, years past 9999) still goes to pg8000's own parser. Statements prepared on the connection use it."""
    connection.register_in_adapter(TIMESTAMPTZ, parse_timestamptz)
    return connection


def parse_timestamptz(text: str) -> datetime | str:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return cast(datetime | str, timestamptz_in(text))


def _password(settings: Settings) -> str | None:
    if settings.db_iam_auth:
        return iam_auth_token(settings.db_host or "", settings.db_port, settings.db_user or "", settings.aws_region)
    if settings.db_password_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(settings.db_password_secret_arn, transform="json")
        if not isinstance(secret, dict) or "password" not in secret:
            raise ValueError("the database secret must be JSON with a 'password' key")
        return str(secret["password"])
    return None
