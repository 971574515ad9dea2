"""CORS as API Gateway's HTTP API does it from template.yaml's `CorsConfiguration`: it answers every preflight
itself, and adds the Access-Control headers to every answer for an allowed origin (its own 401s included)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.cfn_yaml import load_template


@dataclass(frozen=True)
class CorsPolicy:
    allow_origins: frozenset[str]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    allow_methods: tuple[str, ...]
    max_age: int | None

    def allows(self, origin: str | None) -> bool:
        return origin is not None and (origin in self.allow_origins or "*" in self.allow_origins)

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        if not self.allows(origin):
            return {}
        headers = {
            "Access-Control-Allow-Origin": str(origin),
            "Access-Control-Allow-Methods": ",".join(self.allow_methods),
            "Access-Control-Allow-Headers": ",".join(self.allow_headers),
        }
        if self.max_age is not None:
            headers["Access-Control-Max-Age"] = str(self.max_age)
        return headers

    def answer_headers(self, origin: str | None) -> dict[str, str]:
        if not self.allows(origin):
            return {}
        headers = {"Access-Control-Allow-Origin": str(origin)}
        if self.expose_headers:
            headers["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        return headers


def read_cors_policy(template_path: Path, local_origins: list[str]) -> CorsPolicy | None:
    """The template's CorsConfiguration; a parameter reference for the origins (the deployed stack's
    `CorsAllowedOrigins`) stands for `local_origins`, the page's origins in the local stack."""
    template = load_template(template_path)
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::HttpApi":
            continue
        configuration: dict[str, Any] | None = resource.get("Properties", {}).get("CorsConfiguration")
        if not configuration:
            return None
        origins = configuration.get("AllowOrigins")
        return CorsPolicy(
            allow_origins=frozenset(origins if isinstance(origins, list) else local_origins),
            allow_headers=tuple(str(name).lower() for name in configuration.get("AllowHeaders", [])),
            expose_headers=tuple(str(name).lower() for name in configuration.get("ExposeHeaders", [])),
            allow_methods=tuple(str(name).upper() for name in configuration.get("AllowMethods", [])),
            max_age=configuration.get("MaxAge"),
        )
    return None
