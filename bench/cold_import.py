"""Cold import time of each functions/<name>/app.py, as a ratio of a Powertools + boto3 baseline handler.

Each sample is a fresh interpreter that times only the module import (spec_from_file_location + exec_module),
not the interpreter start-up. Bytecode goes to a temporary PYTHONPYCACHEPREFIX, filled by one discarded run
per module, so every timed run imports from warm .pyc files and nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.stats import print_table, ratio

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).resolve().parent / "baseline_handler.py"

IMPORT_AND_TIME = """
import importlib.util, sys, time
path = sys.argv[1]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("bench_cold_module", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(f"{(time.perf_counter() - started) * 1000:.3f}")
"""


def handler_environment(pycache: Path) -> dict[str, str]:
    """A clean environment: what a function needs at import, and nothing that could reach a real service."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(pycache),  # an empty home: no ~/.aws configuration or credentials are read
        "PYTHONPYCACHEPREFIX": str(pycache),
        "KMS_KEY_ID": "alias/bench",
        "DATABASE_URL": "postgresql://bench@127.0.0.1:1/none",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def import_once(module_path: Path, environment: dict[str, str]) -> float:
    """Import `module_path` in a fresh interpreter; return the import time in ms."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_TIME, str(module_path)],
        env=environment,
        cwd=module_path.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing {module_path} failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def median_import_ms(module_path: Path, environment: dict[str, str], runs: int) -> float:
    import_once(module_path, environment)  # fills the bytecode cache; not timed
    return statistics.median(import_once(module_path, environment) for _ in range(runs))


def function_modules() -> dict[str, Path]:
    return {path.parent.name: path for path in sorted((ROOT / "functions").glob("*/app.py"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per module (median)")
    args = parser.parse_args()

    pycache = Path(tempfile.mkdtemp(prefix="bench-pycache-"))
    try:
        environment = handler_environment(pycache)
        baseline_ms = median_import_ms(BASELINE, environment, args.runs)
        rows = [["baseline (powertools + boto3)", f"{baseline_ms:.1f}", "1.00x"]]
        for name, path in function_modules().items():
            median_ms = median_import_ms(path, environment, args.runs)
            rows.append([name, f"{median_ms:.1f}", ratio(median_ms, baseline_ms)])
    finally:
        shutil.rmtree(pycache, ignore_errors=True)

    print(f"Cold import, median of {args.runs} fresh interpreters per module (python {sys.version.split()[0]})")
    print_table(["module", "median ms", "vs baseline"], rows)


if __name__ == "__main__":
    main()
