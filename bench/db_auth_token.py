"""The password of an IAM database login (DB_IAM_AUTH, the template's default) as a deployed function's first
connection makes it: signed with botocore alone (`iam_auth_token` in adapters/database_connection.py), against the way
the functions made it before, boto3's RDS client and its `generate_db_auth_token`. Context for the cold start, without
a goal: the cold-start bench's functions connect with DATABASE_URL and pay neither.

Each sample is a fresh interpreter with the packages a deployed function has (bench/lambda_packages.py) and the
variables Lambda's runtime sets (bench/lambda_runtime.py), started with -S. The module that signs is imported before
the timer, as every function imports it at init. botocore is not: in Lambda a function that builds no AWS client
(a read) has not imported botocore's session by its first connection, so both ways pay that import. Rounds alternate
the two; bytecode is compiled once, before timing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import results
from bench.lambda_packages import lambda_packages
from bench.lambda_runtime import runtime_variables
from bench.results import Figures, Goal

LAYER = Path(__file__).resolve().parent.parent / "layers" / "core"
HOST = "whatsapp.proxy-abc123.eu-west-1.rds.amazonaws.com"
MARK = "BENCH-DB-AUTH-TOKEN "
PREPARED = """
import time, json, os
from whatsapp_integrations.adapters.database_connection import iam_auth_token
started = time.perf_counter()
"""
SIGN = {
    "botocore alone (iam_auth_token)": "token = iam_auth_token({host!r}, 5432, 'whatsapp_runtime', 'eu-west-1')",
    "boto3's RDS client": """import boto3
token = boto3.client("rds", region_name="eu-west-1").generate_db_auth_token(
    DBHostname={host!r}, Port=5432, DBUsername="whatsapp_runtime", Region="eu-west-1")""",
}
FINISHED = f"""
ms = (time.perf_counter() - started) * 1000
assert token.startswith({HOST!r} + ":5432/?Action=connect&DBUser=whatsapp_runtime&"), token
print({MARK!r} + json.dumps(ms), flush=True)
os._exit(0)
"""


def sample(code: str, environment: dict[str, str]) -> float:
    finished = subprocess.run(
        [sys.executable, "-S", "-c", code], env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith(MARK)]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"signing failed:\n{finished.stderr[-3000:]}")
    return float(json.loads(lines[-1].removeprefix(MARK)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3 if results.quick() else 15, help="timed runs of each")
    args = parser.parse_args()

    pycache = Path(tempfile.mkdtemp(prefix="bench-db-auth-token-"))
    environment = {
        "PYTHONPATH": f"{LAYER}:{lambda_packages()}",
        "PYTHONPYCACHEPREFIX": str(pycache),
        "HOME": str(pycache),  # no ~/.aws configuration is read
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_SESSION_TOKEN": "bench-session-token",  # a Lambda role's credentials always carry one
        "AWS_EC2_METADATA_DISABLED": "true",
        **runtime_variables("get_integration", LAYER.parent.parent / "functions" / "get_integration"),
    }
    programs = {label: PREPARED + sign.format(host=HOST) + FINISHED for label, sign in SIGN.items()}
    samples: dict[str, list[float]] = {label: [] for label in programs}
    try:
        for program in programs.values():  # compiles the bytecode, untimed
            sample(program, environment)
        for _ in range(args.rounds):
            for label, program in programs.items():
                samples[label].append(sample(program, environment))
    finally:
        shutil.rmtree(pycache, ignore_errors=True)

    ours, boto3s = (Figures.of(label, values) for label, values in samples.items())
    print(f"IAM database login, fresh interpreter, {args.rounds} round(s) of each")
    results.record(
        [
            Goal(
                "first IAM database login: signing its token",
                "db_auth_token",
                ours,
                boto3s,
                None,
                "deployed functions only (DB_IAM_AUTH=true); the cold-start bench connects with DATABASE_URL",
            )
        ]
    )


if __name__ == "__main__":
    main()
