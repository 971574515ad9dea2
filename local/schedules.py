"""EventBridge schedules for the local stack: the functions with Schedule events in template.yaml, invoked on their
rate, and on demand through the gateway (POST /__local__/schedules/{FunctionName})."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.cfn_yaml import load_template
from local.gateway import FunctionPool

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class ScheduledFunction:
    function_name: str
    code_uri: Path
    handler: str
    interval_seconds: int


def scheduled_functions(template_path: Path) -> list[ScheduledFunction]:
    template = load_template(template_path)
    parameters = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") not in ("Schedule", "ScheduleV2"):
                continue
            expression = event["Properties"]["ScheduleExpression"]
            if isinstance(expression, dict):  # !Sub rate(${Param} minutes)
                expression = re.sub(r"\$\{(\w+)\}", lambda m: str(parameters[m.group(1)]), expression["Fn::Sub"])
            match = _RATE.fullmatch(expression)
            if match is None:
                raise ValueError(f"{name}: only rate() schedules run locally, not {expression!r}")
            seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
            found.append(
                ScheduledFunction(
                    name,
                    template_path.parent / resource["Properties"]["CodeUri"],
                    resource["Properties"].get("Handler", "app.lambda_handler"),
                    seconds,
                )
            )
    return found


class LocalSchedule:
    def __init__(
        self, scheduled: ScheduledFunction, log: Callable[[str], None], interval_seconds: int | None = None
    ) -> None:
        self.scheduled = scheduled
        self.interval_seconds = interval_seconds or scheduled.interval_seconds
        self._pool = FunctionPool(scheduled.function_name, scheduled.code_uri, scheduled.handler, size=1)
        self._log = log
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"schedule-{scheduled.function_name}", daemon=True)

    def start(self) -> LocalSchedule:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def run_now(self) -> dict[str, Any]:
        """One invocation with a Scheduled Event, as EventBridge Scheduler sends it."""
        event_id = str(uuid.uuid4())
        event = {
            "version": "0",
            "id": event_id,
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": "000000000000",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [],
            "detail": {},
        }
        result = self._pool.invoke(event, event_id)
        self._log(f"schedule: {self.scheduled.function_name} -> {result}")
        return result

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_seconds):
            try:
                self.run_now()
            except Exception as error:  # keep the schedule alive, as EventBridge would
                self._log(f"schedule: {self.scheduled.function_name} failed: {type(error).__name__}")
