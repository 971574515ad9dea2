"""Generate docs/openapi.json from the route functions, offline; `--check` fails when the committed file is stale."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from local.gateway import read_routes

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_FILE = ROOT / "docs" / "openapi.json"
DESCRIPTION = (
    "Connect a tenant's WhatsApp Business number through Meta's WhatsApp Cloud API. Every /integrations route "
    "needs a JWT with the route's scope, whose tenant claim scopes every query; the /webhooks routes take no JWT "
    "and prove their origin themselves (a webhook secret, Meta's signature). Errors use RFC 9457 problem details "
    "(application/problem+json) with a stable `code`, see docs/troubleshooting.md; what API Gateway answers "
    'itself (401, 403 without the scope, 429 when throttled) is `{"message": ...}` in application/json.'
)


def generate() -> str:
    # Importing a function validates its settings; give harmless values, nothing is contacted.
    os.environ.update(
        {
            "KMS_KEY_ID": "alias/openapi",
            "DATABASE_URL": "postgresql://openapi@127.0.0.1:1/none",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PROVISIONING_QUEUE_URL": "http://127.0.0.1:1/queue/openapi",
            "WEBHOOK_HMAC_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:openapi",
            "EVOLUTION_BASE_URL": "http://127.0.0.1:1",
            "RELAY_QUEUE_URL": "http://127.0.0.1:1/queue/openapi-relay",
            "EVOLUTION_WEBHOOK_URL": "http://127.0.0.1:1/webhooks/evolution",
            "EVOLUTION_API_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:openapi",
        }
    )
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    merge = OpenAPIMerge(
        title="WhatsApp integrations API",
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
        security=[{"jwt": []}],
    )
    for app_file in sorted((ROOT / "functions").glob("*/app.py")):
        if "build_api(" in app_file.read_text(encoding="utf-8"):
            merge.add_file(app_file)
    schema = json.loads(merge.get_openapi_json_schema())
    _secure_as_the_template_says(schema)
    _drop_unanswered_validation_responses(schema)
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _secure_as_the_template_says(schema: dict[str, Any]) -> None:
    """Each operation's security is its route's in template.yaml: the JWT with the route's scopes (default
    parameter values), or none for the webhooks, which prove their origin themselves."""
    routes = {(route.method.lower(), route.path): route for route in read_routes(ROOT / "template.yaml")}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            route = routes.get((method, path))
            if route is None:
                raise SystemExit(f"{method.upper()} {path} is in the code but not a route of template.yaml")
            operation["security"] = [{"jwt": list(route.scopes)}] if route.authorized else []
    described = {(method, path) for path, operations in schema["paths"].items() for method in operations}
    missing = [route.route_key for key, route in routes.items() if route.method != "ANY" and key not in described]
    if missing:  # a function that failed to import is skipped by the merge: never publish a partial description
        raise SystemExit(f"routes of template.yaml missing from the description: {', '.join(sorted(missing))}")


def _drop_unanswered_validation_responses(schema: dict[str, Any]) -> None:
    """Powertools documents a 422 HTTPValidationError on every route; our resolver answers a request that fails
    validation with a 400 problem instead, so that 422 is removed (a route's own 422 problem stays)."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            unprocessable = operation["responses"].get("422", {})
            if "HTTPValidationError" in json.dumps(unprocessable):
                del operation["responses"]["422"]
    _drop_unreferenced_schemas(schema)


def _drop_unreferenced_schemas(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    referenced: set[str] = set()
    pending = [json.dumps({key: value for key, value in schema.items() if key != "components"})]
    while pending:
        for name in re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", pending.pop()):
            if name not in referenced and name in components:
                referenced.add(name)
                pending.append(json.dumps(components[name]))
    for name in set(components) - referenced:
        del components[name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when docs/openapi.json differs from the code")
    arguments = parser.parse_args()
    fresh = generate()
    if not arguments.check:
        OPENAPI_FILE.write_text(fresh, encoding="utf-8")
        print(f"wrote {OPENAPI_FILE.relative_to(ROOT)}")
        return 0
    committed = OPENAPI_FILE.read_text(encoding="utf-8") if OPENAPI_FILE.exists() else ""
    if committed == fresh:
        print("docs/openapi.json is current")
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            committed.splitlines(True),
            fresh.splitlines(True),
            "docs/openapi.json (committed)",
            "generated from the code",
            n=1,
        )
    )
    print("\ndocs/openapi.json is stale: run `make openapi` and commit it", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
