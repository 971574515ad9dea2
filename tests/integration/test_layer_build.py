"""The CoreLayer's recipe (layers/core/Makefile, what `sam build` runs) ships bytecode that Lambda uses: a function's
cold start compiles nothing of the layer, though /opt is read-only and every file is dated 1980 by SAM's zip."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local.layer import LAYER_SOURCE, built_layer, built_layer_without_bytecode
from local.stack import ROOT

# Imports a function as Lambda's bootstrap would, and reports each module compiled from source meanwhile
COLD_IMPORT = """
import importlib._bootstrap_external as external, importlib.util, json, sys
compiled = []
source_to_code = external.SourceLoader.source_to_code
def counting(self, data, path, *args, **kwargs):
    compiled.append(path)
    return source_to_code(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = counting
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
import whatsapp_integrations
print(json.dumps({"compiled": compiled, "package": whatsapp_integrations.__file__}))
"""


@pytest.fixture(scope="module")
def layer() -> Path:
    return built_layer()


def cold_import(function: str, layer: Path) -> dict[str, object]:
    """functions/<function>/app.py imported in a fresh interpreter with the layer first on its path (the project's
    environment after it, for the runtime's boto3) and no bytecode written, as on Lambda's read-only /opt."""
    site_packages = next(Path(sys.prefix, "lib").glob("python3.*/site-packages"))
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(layer), str(site_packages)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nowhere",  # read at init, not connected to
        "KMS_KEY_ID": "alias/unused",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    finished = subprocess.run(
        [sys.executable, "-S", "-c", COLD_IMPORT, str(ROOT / "functions" / function / "app.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(finished.stdout.splitlines()[-1])
    return result


def compiled_from(layer: Path, report: dict[str, object]) -> list[str]:
    compiled = report["compiled"]
    assert isinstance(compiled, list)
    return [path for path in compiled if path.startswith(str(layer))]


def test_a_cold_start_compiles_nothing_of_the_layer(layer: Path) -> None:
    # Given the layer as the recipe builds it, every file dated as in SAM's zip
    # When a function is imported from it in a fresh interpreter that cannot write bytecode
    report = cold_import("get_integration", layer)
    # Then our package came from the layer, and no module of the layer was compiled from source
    assert str(report["package"]).startswith(str(layer))
    assert compiled_from(layer, report) == []


def test_without_its_bytecode_the_same_cold_start_compiles_hundreds_of_modules() -> None:
    # Given the same layer without its bytecode (what SAM's python3.13 builder shipped)
    bare = built_layer_without_bytecode()
    # When the same function is imported from it
    report = cold_import("get_integration", bare)
    # Then every module it imports from the layer is compiled: the check above would see them
    assert len(compiled_from(bare, report)) > 100


def test_the_layer_holds_the_whole_package_and_its_requirements(layer: Path) -> None:
    # Given the package's files in the repository
    package = LAYER_SOURCE / "whatsapp_integrations"
    sources = {
        path.relative_to(package) for path in package.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    }
    # When the layer's copy is listed
    shipped = {
        path.relative_to(layer / "whatsapp_integrations")
        for path in (layer / "whatsapp_integrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    # Then every file is there (the migrations' SQL too), and each requirement is installed beside it
    assert shipped == sources
    assert any(path.suffix == ".sql" for path in shipped)
    for line in (LAYER_SOURCE / "requirements.txt").read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement:
            name = re.match(r"[A-Za-z0-9._-]+", requirement)
            assert name is not None, requirement
            assert list(layer.glob(f"{name.group().replace('-', '_')}-*.dist-info")), requirement


def ca_bundle_step(tmp_path: Path, bundle: str) -> subprocess.CompletedProcess[str]:
    """The recipe's CA-bundle step, run in a copy of its folder holding `bundle` as global-bundle.pem."""
    source = tmp_path / "core"
    shutil.copytree(LAYER_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    (source / "global-bundle.pem").write_text(bundle)
    arguments = [f"ARTIFACTS_DIR={tmp_path / 'out'}", f"LAYER_PYTHON={sys.executable}"]
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(source), "ca-bundle", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_database_ca_bundle_placed_beside_the_recipe_lands_in_opt_python(tmp_path: Path) -> None:
    # Given the RDS CA bundle placed in layers/core as docs/architecture.md says (DbCaBundle)
    certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    # When the recipe's step for it runs
    finished = ca_bundle_step(tmp_path, certificate)
    # Then it is in the layer's python/ folder, which Lambda mounts as /opt/python
    assert finished.returncode == 0, finished.stderr
    assert (tmp_path / "out" / "python" / "global-bundle.pem").read_text() == certificate


def test_a_bundle_holding_a_private_key_is_refused(tmp_path: Path) -> None:
    # Given a file with a private key where the CA bundle goes
    # When the recipe's step for it runs
    finished = ca_bundle_step(tmp_path, "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    # Then the build fails and says why, and nothing is copied
    assert finished.returncode != 0
    assert "holds a private key" in finished.stderr
    assert not (tmp_path / "out" / "python" / "global-bundle.pem").exists()
