"""A cold start imports only what the function's invocations use: no function imports an AWS or HTTP client library
at init; each comes with the first client an invocation builds (GET and list never build one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

CLIENT_LIBRARIES = ("boto3", "httpx", "requests", "aws_lambda_powertools.utilities.parameters")

IMPORT_EACH_FUNCTION = """
import importlib.util, json, sys
loaded = {}
for path in sys.argv[2:]:
    spec = importlib.util.spec_from_file_location(f"lazy_{len(loaded)}", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    loaded[path] = [library for library in json.loads(sys.argv[1]) if library in sys.modules]
print(json.dumps(loaded))
"""


def test_no_function_imports_a_client_library_at_init() -> None:
    # Given a fresh interpreter set up as Lambda with tracing active (where Powertools' tracer would patch, and so
    # import, every library X-Ray knows)
    environment = {
        **os.environ,
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "lazy-imports",
        "POWERTOOLS_TRACE_DISABLED": "false",
        "RELAY_QUEUE_URL": "http://127.0.0.1:1/queue/relay",
        "STATUS_SYNC_QUEUE_URL": "http://127.0.0.1:1/queue/status",
        "PUBLIC_API_URL": "http://127.0.0.1:1",
    }
    apps = sorted(str(path) for path in (ROOT / "functions").glob("*/app.py"))
    # When every function's module is imported, one after the other
    finished = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FUNCTION, json.dumps(CLIENT_LIBRARIES), *apps],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    # Then none of them has imported a client library
    loaded = json.loads(finished.stdout.splitlines()[-1])
    assert {path: libraries for path, libraries in loaded.items() if libraries} == {}
