"""Generate docs/openapi.json from the route functions, offline; `--check` fails when the committed file is stale."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_FILE = ROOT / "docs" / "openapi.json"
DESCRIPTION = (
    "Connect a tenant's WhatsApp Business number through Meta's WhatsApp Cloud API. Every route needs a JWT "
    "whose tenant claim scopes every query. Errors use RFC 9457 problem details (application/problem+json) with "
    "a stable `code`; see docs/troubleshooting.md."
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
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


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
