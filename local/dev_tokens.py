"""Development JWTs signed with a local RSA key, verified by the local gateway the way API Gateway's JWT
authorizer verifies real ones (issuer, audience, expiry, signature)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://local.whatsapp-integrations.invalid/"
AUDIENCE = "whatsapp-integrations-local"
KEY_FILE = Path(".local") / "dev-jwt-key.pem"
# The `scope` claim API Gateway's JWT authorizer checks: read-only tokens get a 403 on the mutating routes.
READ_SCOPES = ("integrations:read",)
WRITE_SCOPES = ("integrations:read", "integrations:write")


class DevTokens:
    def __init__(self, key_file: Path = KEY_FILE) -> None:
        self._private_key = _load_or_create_key(key_file)
        self._public_key = self._private_key.public_key()

    def issue(
        self,
        tenant_id: str,
        subject: str = "dev-user",
        ttl_seconds: int = 12 * 3600,
        tenant_claim: str = "tenant_id",
        scopes: tuple[str, ...] = WRITE_SCOPES,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            tenant_claim: tenant_id,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return self.sign(claims)

    def sign(self, claims: dict[str, Any]) -> str:
        """Any claims, signed with the local key (tests forge unusual tenant claims with it)."""
        return jwt.encode(claims, self._private_key, algorithm="RS256")

    def verify(self, token: str) -> dict[str, Any]:
        """Raise jwt.InvalidTokenError unless the token is ours, for our audience, and carries an expiry that
        has not passed (like API Gateway, a token without `exp` is refused)."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self._public_key,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud"]},
        )
        return claims


def _load_or_create_key(key_file: Path) -> rsa.RSAPrivateKey:
    if key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description="Print a development JWT for the local stack")
    parser.add_argument("--tenant", default="tenant-demo")
    parser.add_argument("--sub", default="dev-user")
    parser.add_argument("--read-only", action="store_true", help=f"only {' '.join(READ_SCOPES)}")
    arguments = parser.parse_args()
    scopes = READ_SCOPES if arguments.read_only else WRITE_SCOPES
    print(DevTokens().issue(arguments.tenant, arguments.sub, scopes=scopes))


if __name__ == "__main__":
    main()
