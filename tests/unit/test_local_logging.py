"""The local stack runs every function in one process with one shared Logger: each invocation must still log its
own function's name and request, as it does in its own Lambda execution environment."""

from __future__ import annotations

import json
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local.gateway import FunctionPool

# A stand-in for whatsapp_integrations.observability: one Logger that every function module imports, writing to a
# buffer, and a barrier that holds both invocations between appending their keys and logging.
OBSERVABILITY = """
import io
import logging
import threading

from aws_lambda_powertools import Logger

STREAM = io.StringIO()
BARRIER = threading.Barrier(2, timeout=10)
logger = Logger(service=__name__, logger_handler=logging.StreamHandler(STREAM))
"""
FUNCTION = """
from aws_lambda_powertools.logging import correlation_paths

from {shared} import BARRIER, logger


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
def lambda_handler(event, context):
    if "tenant" in event:
        logger.append_keys(tenant=event["tenant"])
    if event.get("together"):
        BARRIER.wait()  # both invocations have appended their keys before either logs
    logger.info("working")
    return {{"statusCode": 200}}
"""


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    name = f"probe_observability_{request.node.name.replace('[', '_').replace(']', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(OBSERVABILITY))
    monkeypatch.syspath_prepend(str(tmp_path))
    for function in ("first", "second"):
        (tmp_path / function).mkdir()
        (tmp_path / function / "app.py").write_text(FUNCTION.format(shared=name))
    yield name
    sys.modules.pop(name, None)


def lines(shared: str) -> list[dict[str, Any]]:
    stream = sys.modules[shared].STREAM
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def event(request_id: str, **fields: Any) -> dict[str, Any]:
    return {"requestContext": {"requestId": request_id}, **fields}


def test_two_concurrent_invocations_of_different_functions_log_their_own_names(tmp_path: Path, shared: str) -> None:
    # Given two functions loaded as the local stack loads them, sharing one Logger
    first = FunctionPool("FirstFunction", tmp_path / "first", "app.lambda_handler", size=1)
    second = FunctionPool("SecondFunction", tmp_path / "second", "app.lambda_handler", size=1)
    # When both are invoked at the same time, each appending its context before either logs
    with ThreadPoolExecutor(max_workers=2) as threads:
        calls = [
            threads.submit(first.invoke, event("request-of-first", together=True), "aws-request-first"),
            threads.submit(second.invoke, event("request-of-second", together=True), "aws-request-second"),
        ]
        assert [call.result(timeout=20)["statusCode"] for call in calls] == [200, 200]
    # Then each line names its own function, request and correlation id, and the service
    logged = {line["function_name"]: line for line in lines(shared) if line["message"] == "working"}
    assert set(logged) == {"FirstFunction", "SecondFunction"}
    assert logged["FirstFunction"]["function_request_id"] == "aws-request-first"
    assert logged["FirstFunction"]["correlation_id"] == "request-of-first"
    assert logged["SecondFunction"]["function_request_id"] == "aws-request-second"
    assert logged["SecondFunction"]["correlation_id"] == "request-of-second"
    assert {line["service"] for line in logged.values()} == {shared}


def test_an_environment_keeps_its_keys_across_invocations_and_to_itself(tmp_path: Path, shared: str) -> None:
    # Given two functions, one environment each, and a key the first appends in its first invocation
    first = FunctionPool("FirstFunction", tmp_path / "first", "app.lambda_handler", size=1)
    second = FunctionPool("SecondFunction", tmp_path / "second", "app.lambda_handler", size=1)
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(first.invoke, event("one", tenant="tenant-kept"), "aws-one").result(timeout=20)
    # When the first is invoked again from another thread, and the second function once
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(first.invoke, event("two"), "aws-two").result(timeout=20)
        thread.submit(second.invoke, event("three"), "aws-three").result(timeout=20)
    # Then the first environment's later line still has the key, as a warm Lambda's would, and the other
    # function's line does not
    first_again, other = [line for line in lines(shared) if line["message"] == "working"][-2:]
    assert (first_again["function_request_id"], first_again["tenant"]) == ("aws-two", "tenant-kept")
    assert first_again["cold_start"] is False
    assert other["function_name"] == "SecondFunction" and "tenant" not in other
    # And nothing went into the Logger's process-wide keys
    assert "function_name" not in sys.modules[shared].logger.registered_formatter.log_format
