"""The IAM database login's password, signed with botocore alone, is the token boto3's RDS client would make."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from unittest import mock

import boto3
import pytest

from whatsapp_integrations.adapters.aws_session import aws_session
from whatsapp_integrations.adapters.database_connection import iam_auth_token

HOST = "whatsapp.proxy-abc123.eu-west-1.rds.amazonaws.com"
SIGNED_AT = datetime(2026, 11, 29, 12, 0, 0)


@pytest.fixture(autouse=True)
def fresh_session() -> Iterator[None]:
    """The execution environment's session keeps the credentials it found first: each test starts without one."""
    aws_session.cache_clear()
    yield
    aws_session.cache_clear()


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, "/nonexistent")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("session_token", [None, "IQoJb3JpZ2luX2Vj/session+token="])
@pytest.mark.parametrize("user", ["whatsapp_runtime", "user with spaces@and/slashes"])
def test_the_token_is_the_one_boto3_generates(
    credentials: None, monkeypatch: pytest.MonkeyPatch, session_token: str | None, user: str
) -> None:
    # Given the function's credentials, with or without a session token (Lambda's role always has one)
    if session_token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", session_token)
    else:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)

    # When both sign a login at the same instant
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT):
        ours = iam_auth_token(HOST, 5432, user, "eu-west-1")
        boto3s = (
            boto3.session.Session()
            .client("rds", region_name="eu-west-1")
            .generate_db_auth_token(DBHostname=HOST, Port=5432, DBUsername=user, Region="eu-west-1")
        )

    # Then the tokens are the same string: host and port without a scheme, valid for 15 minutes
    assert ours == boto3s
    assert ours.startswith(f"{HOST}:5432/?Action=connect&DBUser=")
    assert "X-Amz-Expires=900" in ours
    assert ("X-Amz-Security-Token=" in ours) is bool(session_token)


def test_without_credentials_the_login_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no credentials anywhere
    unset = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)

    # When a login is signed, then the error names what is missing
    with pytest.raises(ValueError, match="needs AWS credentials"):
        iam_auth_token(HOST, 5432, "whatsapp_runtime", "eu-west-1")
