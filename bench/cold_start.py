"""Cold start of every function: init (the import of functions/<name>/app.py) plus its first invocation, in a fresh
interpreter, against real local services, as a ratio of a baseline handler's init and first invocation.

The baseline (bench/baseline_handler.py) imports Powertools' Logger, Metrics and Tracer and boto3, creates one boto3
client, and answers. Each function gets the environment template.yaml gives it (bench/backends.py) and the variables
Lambda's runtime sets (bench/lambda_runtime.py), and its first
invocation does the function's usual work (bench/first_invocations.py): reads answer 200 from PostgreSQL, writes
commit and send their outbox messages to moto's SQS and EventBridge, webhooks record, workers call the simulators.

Both run with the packages a deployed function has and no others (bench/lambda_packages.py), not the project's
virtualenv. Timed inside the fresh interpreter, from before the import to the handler's return: interpreter start-up
is the same for both and left out. Bytecode is compiled once, before timing, into a temporary PYTHONPYCACHEPREFIX.
Each round runs every function once, in a rotating order, with the baseline before every few functions.

For context, without a goal: the floors (FLOORS: the least a kind of function pays under the fixed choices, none of
the project's code), each against the baseline and its function against it; and a read's cold start as deployed.
The layer is the one layers/core/Makefile builds (what `sam build` runs), dated 1980 as in SAM's zip, with no
bytecode written and no cache prefix, as on Lambda's read-only /opt; once with the bytecode the recipe ships, once
without any (what SAM's python3.13 builder shipped before).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import results
from bench.backends import Backends, start_backends
from bench.first_invocations import FirstInvocation, first_invocations
from bench.integrations import PARAMETERS, State
from bench.lambda_packages import lambda_packages
from bench.lambda_runtime import runtime_variables
from bench.results import Figures, Goal
from bench.seed import bench_database
from bench.stats import print_table
from local.layer import built_layer, built_layer_without_bytecode

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "core"
BASELINE = Path(__file__).resolve().parent / "baseline_handler.py"
FLOOR_EVERY = 4  # functions between two runs of a floor (context only: fewer samples than the baseline)
FLOOR_OF = "get_integration"  # the read whose floor is measured (its event, its environment), and the deployed rows'


@dataclass(frozen=True)
class Floor:
    """The least a kind of function pays under the fixed choices, none of the project's code: run with the event and
    environment of the function it stands for."""

    function: str
    path: Path
    row: str  # the floor's row
    figures: str  # what the floor holds, as its figures say
    note: str


FLOORS = (
    Floor(
        FLOOR_OF,
        Path(__file__).resolve().parent / "floor_read.py",
        "the floor of an HTTP read",
        "floor: Powertools, validating resolver, pydantic, pg8000",
        "bench/floor_read.py: what any read pays under the fixed choices, none of the project's code",
    ),
    Floor(
        "validate_credentials",
        Path(__file__).resolve().parent / "floor_validate.py",
        "the floor of POST validate",
        "floor: the floor of a read, an httpx client and three Graph calls",
        "bench/floor_validate.py: what validate's work pays under the fixed choices, none of the project's code",
    ),
    Floor(
        "connect_integration",
        Path(__file__).resolve().parent / "floor_connect.py",
        "the floor of POST connect",
        "floor: the floor of a read, one UPDATE, SQS and EventBridge clients and calls",
        "bench/floor_connect.py: what connect's work pays under the fixed choices, none of the project's code",
    ),
    Floor(
        "evolution_webhook",
        Path(__file__).resolve().parent / "floor_status_webhook.py",
        "the floor of the Evolution webhook",
        "floor: the floor of a read, one SELECT, an EventBridge client and one PutEvents",
        "bench/floor_status_webhook.py: an HTTP function with the database and one AWS client, none of our code",
    ),
    Floor(
        "status_scheduler",
        Path(__file__).resolve().parent / "floor_fan_out.py",
        "the floor of the status scheduler",
        "floor: Powertools, pydantic settings, pg8000 and one SELECT, an SQS client and one SendMessageBatch",
        "bench/floor_fan_out.py: what the scheduler's work pays under the fixed choices, none of the project's code",
    ),
)
WITH_BYTECODE = "as deployed, the layer's bytecode"
WITHOUT_BYTECODE = "as deployed, no bytecode"
DATABASE_NAME = bench_database("wa_bench_cold_start")
GOALS = {"http": 1.35, "queue": 1.15, "scheduled": 1.15}
BASELINE_EVERY = 4  # functions between two baseline runs
MARK = "BENCH-COLD-START "

INIT_AND_INVOKE = f"""
import time
started = time.perf_counter()
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("cold_start_subject", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
initialised = time.perf_counter()

class Context:
    function_name = "cold-start"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:cold-start"
    memory_limit_in_mb = 512
    aws_request_id = "cold-start"
    log_group_name = "/aws/lambda/cold-start"
    log_stream_name = "cold-start"
    def get_remaining_time_in_millis(self):
        return 15000

answer = module.lambda_handler(json.loads(sys.stdin.read()), Context())
finished = time.perf_counter()
timings = {{"ms": (finished - started) * 1000, "init_ms": (initialised - started) * 1000}}
print({MARK!r} + json.dumps({{**timings, "answer": answer}}, default=str), flush=True)
os._exit(0)  # the measurement is done: skip the interpreter's teardown, which only makes the bench slower
"""

# Compiles every module the timed runs import into the bytecode cache: each function, the baseline, and what the
# functions import only when an invocation needs it.
PRECOMPILE = """
import importlib.util, pkgutil, sys
import whatsapp_integrations
for index, path in enumerate(sys.argv[1:]):
    spec = importlib.util.spec_from_file_location(f"precompiled_{index}", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
for module in pkgutil.walk_packages(whatsapp_integrations.__path__, "whatsapp_integrations."):
    importlib.import_module(module.name)
import boto3, httpx
import aws_lambda_powertools.utilities.parameters
for service in ("sqs", "kms", "secretsmanager", "events"):
    boto3.client(service)
httpx.Client()
"""


@dataclass(frozen=True)
class Sample:
    ms: float  # init + first invocation
    init_ms: float  # of which the import


class ColdStarts:
    def __init__(self, backends: Backends, pycache: Path, packages: Path, layers: dict[str, Path]) -> None:
        self._backends = backends
        self._pycache = pycache
        self._packages = packages
        self._layers = layers  # the deployed layer, by row: with its bytecode, and without

    def environment(self, function: str, extra: dict[str, str]) -> dict[str, str]:
        return {
            **self._backends.function_environment(function, **extra),
            **runtime_variables(function, app(function).parent),
            # What Lambda's sys.path holds: the layer (our package and its requirements) and the runtime's boto3;
            # the interpreter runs with -S, so the project's virtualenv is not on it
            "PYTHONPATH": os.pathsep.join([str(LAYER), str(self._packages)]),
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self._pycache),  # an empty home: no ~/.aws configuration is read
            "PYTHONPYCACHEPREFIX": str(self._pycache),
        }

    def precompile(self, invocations: Sequence[FirstInvocation]) -> None:
        union: dict[str, str] = {}
        for invocation in invocations:
            union.update(self.environment(invocation.function, invocation.environment))
        union["PYTHONPATH"] = with_bench(union["PYTHONPATH"])
        paths = [str(BASELINE), *(str(floor.path) for floor in FLOORS)]
        paths += [str(app(invocation.function)) for invocation in invocations]
        finished = subprocess.run(
            [sys.executable, "-S", "-c", PRECOMPILE, *paths], env=union, capture_output=True, text=True, timeout=300
        )
        if finished.returncode != 0:
            raise RuntimeError(f"precompiling failed:\n{finished.stderr[-3000:]}")

    def baseline(self) -> Sample:
        sample, answer = self._run(BASELINE, {}, self.environment("get_integration", {}))
        if not isinstance(answer, dict) or answer.get("statusCode") != 200:
            raise RuntimeError(f"the baseline answered {answer!r}")
        return sample

    def floor(self, floor: Floor, invocation: FirstInvocation) -> Sample:
        environment = self.environment(invocation.function, invocation.environment)
        environment["PYTHONPATH"] = with_bench(environment["PYTHONPATH"])
        event = invocation.event()
        try:
            sample, answer = self._run(floor.path, event, environment)
        finally:
            invocation.after()
        if not invocation.done(answer):
            raise RuntimeError(f"{floor.row} answered {answer!r}")
        return sample

    def deployed(self, read: FirstInvocation, row: str) -> Sample:
        """The read with the layer as Lambda has it: built by its recipe, before the runtime's packages, read-only."""
        environment = {
            **self.environment(read.function, read.environment),
            "PYTHONPATH": os.pathsep.join([str(self._layers[row]), str(self._packages)]),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        environment.pop("PYTHONPYCACHEPREFIX")  # a prefix would hide the bytecode beside the sources
        event = read.event()
        try:
            sample, answer = self._run(app(read.function), event, environment)
        finally:
            read.after()
        if not read.done(answer):
            raise RuntimeError(f"{read.function} ({row}) did not do its work: {answer!r}")
        return sample

    def function(self, invocation: FirstInvocation) -> Sample:
        event = invocation.event()
        try:
            sample, answer = self._run(
                app(invocation.function), event, self.environment(invocation.function, invocation.environment)
            )
        finally:
            invocation.after()
        if not invocation.done(answer):
            raise RuntimeError(f"{invocation.function}'s first invocation did not do its work: {answer!r}")
        return sample

    def _run(self, path: Path, event: dict[str, Any], environment: dict[str, str]) -> tuple[Sample, Any]:
        finished = subprocess.run(
            [sys.executable, "-S", "-c", INIT_AND_INVOKE, str(path)],
            input=json.dumps(event),
            env=environment,
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = [line for line in finished.stdout.splitlines() if line.startswith(MARK)]
        if finished.returncode != 0 or not lines:
            raise RuntimeError(f"{path} failed:\n{finished.stderr[-3000:]}")
        measured = json.loads(lines[-1].removeprefix(MARK))
        return Sample(float(measured["ms"]), float(measured["init_ms"])), measured["answer"]


def with_bench(path: str) -> str:
    """A floor's path, where it finds the bench's modules it builds on (the floor of a read, seed's connection), and
    nothing of the project."""
    return os.pathsep.join([path, str(ROOT)])


def app(function: str) -> Path:
    return ROOT / "functions" / function / "app.py"


def measure(
    cold: ColdStarts, invocations: Sequence[FirstInvocation], rounds: int
) -> tuple[list[Sample], dict[str, list[Sample]], dict[str, list[Sample]], dict[str, list[Sample]]]:
    """Every function once a round, with the baseline and the floors (of the functions measured) taking turns; then
    the read as deployed, with and without the layer's bytecode, in turn."""
    baseline: list[Sample] = []
    by_function = {invocation.function: invocation for invocation in invocations}
    floors = [floor for floor in FLOORS if floor.function in by_function]
    floor_samples: dict[str, list[Sample]] = {floor.function: [] for floor in floors}
    deployed: dict[str, list[Sample]] = {WITH_BYTECODE: [], WITHOUT_BYTECODE: []}
    read = by_function.get(FLOOR_OF)
    samples: dict[str, list[Sample]] = {invocation.function: [] for invocation in invocations}
    floor_turns = itertools.cycle(floors)
    for round_number in range(rounds):
        shift = round_number * BASELINE_EVERY % len(invocations)
        order = [*invocations[shift:], *invocations[:shift]]  # rotating, so drift hits each function alike
        for index, invocation in enumerate(order):
            if index % BASELINE_EVERY == 0:
                baseline.append(cold.baseline())
            if floors and index % FLOOR_EVERY == FLOOR_EVERY // 2:
                floor = next(floor_turns)
                floor_samples[floor.function].append(cold.floor(floor, by_function[floor.function]))
            samples[invocation.function].append(cold.function(invocation))
        baseline.append(cold.baseline())
        if read is not None:
            rows = list(deployed) if round_number % 2 == 0 else list(reversed(deployed))
            for row in rows:
                deployed[row].append(cold.deployed(read, row))
    for floor in floors:  # a floor whose turn never came (few functions measured) still gets its one run
        if not floor_samples[floor.function]:
            floor_samples[floor.function].append(cold.floor(floor, by_function[floor.function]))
    return baseline, floor_samples, samples, deployed


def goals(
    invocations: Sequence[FirstInvocation],
    baseline: list[Sample],
    floors: dict[str, list[Sample]],
    samples: dict[str, list[Sample]],
    deployed: dict[str, list[Sample]],
) -> tuple[list[Goal], list[Goal]]:
    """The goals; for context, the floors and each function against its floor, the read as deployed, and the
    deploy-time custom resource (it runs once per deploy)."""
    base = Figures.of("baseline: Powertools + boto3, one client", [sample.ms for sample in baseline])
    measured: list[Goal] = []
    informational: list[Goal] = []
    if deployed[WITH_BYTECODE]:
        informational.append(
            Goal(
                f"cold start as deployed: {FLOOR_OF}, the layer's bytecode against none",
                "cold_start",
                Figures.of(WITH_BYTECODE, [sample.ms for sample in deployed[WITH_BYTECODE]]),
                Figures.of(WITHOUT_BYTECODE, [sample.ms for sample in deployed[WITHOUT_BYTECODE]]),
                None,
                "layers/core/Makefile ships hash-based bytecode; SAM's python3.13 builder shipped none",
            )
        )
    by_function = {invocation.function: invocation for invocation in invocations}
    for floor in FLOORS:
        if not floors.get(floor.function):
            continue
        floor_figures = Figures.of(floor.figures, [sample.ms for sample in floors[floor.function]])
        informational.append(Goal(f"cold start: {floor.row}", "cold_start", floor_figures, base, None, floor.note))
        informational.append(
            Goal(
                f"cold start: {floor.function}, against {floor.row}",
                "cold_start",
                Figures.of(by_function[floor.function].does, [s.ms for s in samples[floor.function]]),
                floor_figures,
                None,
                "what the project's own code adds to this cold start",
            )
        )
    for invocation in invocations:
        goal = Goal(
            f"cold start: {invocation.function}",
            "cold_start",
            Figures.of(invocation.does, [sample.ms for sample in samples[invocation.function]]),
            base,
            GOALS.get(invocation.kind),
            f"{invocation.kind} function: init + first invocation in a fresh process",
        )
        (measured if invocation.kind in GOALS else informational).append(goal)
    return measured, informational


def report_split(
    baseline: list[Sample],
    floors: dict[str, list[Sample]],
    samples: dict[str, list[Sample]],
    deployed: dict[str, list[Sample]],
) -> None:
    """Where the time goes: the import, and the first invocation."""
    measured = {
        "baseline": baseline,
        **{floor.row.removeprefix("the "): floors[floor.function] for floor in FLOORS if floors.get(floor.function)},
        **samples,
        **{f"{FLOOR_OF}, {row}": runs for row, runs in deployed.items() if runs},
    }
    rows = [
        [
            name,
            f"{statistics.median(s.init_ms for s in runs):.0f}",
            f"{statistics.median(s.ms - s.init_ms for s in runs):.0f}",
        ]
        for name, runs in measured.items()
    ]
    print_table(["function", "init ms (median)", "first invocation ms (median)"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1 if results.quick() else 9, help="timed runs per function")
    parser.add_argument("--only", help="comma-separated functions to measure (all by default; goals then partial)")
    args = parser.parse_args()

    packages = lambda_packages()
    layers = {WITH_BYTECODE: built_layer(), WITHOUT_BYTECODE: built_layer_without_bytecode()}
    backends = start_backends(DATABASE_NAME, parameters=PARAMETERS)
    pycache = Path(tempfile.mkdtemp(prefix="bench-cold-start-"))
    state: State | None = None
    try:
        state = State(backends)
        invocations = [i for i in first_invocations(state) if not args.only or i.function in args.only.split(",")]
        cold = ColdStarts(backends, pycache, packages, layers)
        cold.precompile(invocations)
        baseline, floors, samples, deployed = measure(cold, invocations, args.rounds)
    finally:
        if state is not None:
            state.close()
        shutil.rmtree(pycache, ignore_errors=True)
        backends.stop()
    measured, informational = goals(invocations, baseline, floors, samples, deployed)
    python = sys.version.split()[0]
    print(f"Cold start (init + first invocation, fresh interpreter), {args.rounds} round(s), python {python}")
    results.record([*measured, *informational])
    report_split(baseline, floors, samples, deployed)


if __name__ == "__main__":
    main()
