"""The variables Lambda's runtime sets in every execution environment, beside the function's own, for the benches
that start a fresh interpreter as a cold start (cold_start, db_auth_token).

They change what a cold start imports. With LAMBDA_TASK_ROOT set, the X-Ray SDK that Powertools' tracer imports
takes its Lambda path (a local sampler) instead of building a centralised sampler, whose two X-Ray clients import
botocore's session and load its service models: 220 to 350 ms of every cold start here that no deployed function
pays (bench/README.md, Cold start).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from local.cfn_yaml import load_template

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


def runtime_variables(function: str, task_root: Path) -> dict[str, str]:
    """What Lambda sets for `function` (its folder name) whose code lies in `task_root` (Lambda's /var/task)."""
    functions = _function_globals()
    return {
        "_HANDLER": "app.lambda_handler",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{functions['Runtime']}",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(functions["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "LAMBDA_TASK_ROOT": str(task_root),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
    }


@lru_cache(maxsize=1)
def _function_globals() -> dict[str, Any]:
    """Parsed once per process: the cold-start bench asks for every fresh interpreter it starts."""
    return dict(load_template(TEMPLATE)["Globals"]["Function"])
