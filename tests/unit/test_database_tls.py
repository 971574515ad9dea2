"""The database's TLS: verified, against DB_CA_BUNDLE alone when set (an RDS instance's CAs), else the system store."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from whatsapp_integrations.adapters.database_connection import tls_context
from whatsapp_integrations.settings import Settings

BASE = {"database_url": "postgresql://u@127.0.0.1/db", "kms_key_id": "k"}


def a_ca(common_name: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def test_the_bundle_s_cas_are_the_only_ones_trusted(tmp_path: Path) -> None:
    # Given a bundle of two CAs, as RDS publishes one per Region
    bundle = tmp_path / "global-bundle.pem"
    bundle.write_bytes(a_ca("Bench RDS Root CA 1") + a_ca("Bench RDS Root CA 2"))
    # When the functions build their TLS context with it
    context = tls_context(Settings.model_validate({**BASE, "db_ca_bundle": str(bundle)}))
    # Then it verifies the chain and the host name against those two CAs and nothing else
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    subjects = sorted(dict(entry[0] for entry in ca["subject"])["commonName"] for ca in context.get_ca_certs())
    assert subjects == ["Bench RDS Root CA 1", "Bench RDS Root CA 2"]


def test_without_a_bundle_the_context_still_verifies() -> None:
    context = tls_context(Settings.model_validate(BASE))
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_bundle_that_is_not_there_fails_the_cold_start() -> None:
    environment = {"DATABASE_URL": BASE["database_url"], "KMS_KEY_ID": "k", "DB_CA_BUNDLE": "/nope.pem"}
    with pytest.raises(ValidationError, match="db_ca_bundle"):
        Settings.from_environment(environment)
