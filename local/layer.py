"""The CoreLayer as `sam build` makes it (layers/core/Makefile), built for this interpreter and machine instead of
python3.13 on arm64, and laid out as Lambda sees it: every file dated 1980-01-01, as in SAM's zip.

Built once per change of the recipe, the requirements, the package or the interpreter, under .local/layer; a second
process that asks while the first builds waits for it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from local.file_lock import exclusive
from local.stack import ROOT

LAYER_SOURCE = ROOT / "layers" / "core"
STATE = ROOT / ".local" / "layer"
LOCK = STATE / "build.lock"
ZIP_EPOCH = 315_532_800  # 1980-01-01T00:00:00Z: the date SAM's zip gives every file


def built_layer() -> Path:
    """The layer's `python/` folder (what Lambda puts on sys.path as /opt/python)."""
    built = STATE / _fingerprint()
    with exclusive(LOCK):
        if not (built / ".built").is_file():
            for stale in STATE.iterdir():
                if stale.is_dir():
                    shutil.rmtree(stale)
            _build(built)
    return built / "python"


def built_layer_without_bytecode() -> Path:
    """The same layer with no bytecode, dated as in the zip: what SAM's python3.13 builder shipped before."""
    layer = built_layer()
    bare = layer.parent / "without-bytecode"
    with exclusive(LOCK):
        if not (bare / ".built").is_file():
            shutil.rmtree(bare, ignore_errors=True)
            shutil.copytree(layer, bare / "python", ignore=shutil.ignore_patterns("__pycache__"))
            _date_as_zipped(bare / "python")
            (bare / ".built").touch()
    return bare / "python"


def _build(artifacts: Path) -> None:
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "--silent",
            "-C",
            str(LAYER_SOURCE),
            "build-CoreLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"LAYER_PYTHON={sys.executable}",
            f"RUNTIME_VERSION={sys.version_info[0]}.{sys.version_info[1]}",
            f"LAYER_ARCH={_machine()}",
        ],
        check=True,
        timeout=900,
    )
    _date_as_zipped(artifacts / "python")
    (artifacts / ".built").touch()


def _date_as_zipped(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            os.utime(Path(folder) / name, (ZIP_EPOCH, ZIP_EPOCH))


def _machine() -> str:
    machine = platform.machine()
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine.lower(), machine)


def _fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    sources = [LAYER_SOURCE / "Makefile", LAYER_SOURCE / "requirements.txt", *LAYER_SOURCE.glob("global-bundle.pem")]
    sources += sorted(
        path
        for path in (LAYER_SOURCE / "whatsapp_integrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    for path in sources:
        digest.update(str(path.relative_to(LAYER_SOURCE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    print(f"the layer: {built_layer()}; without its bytecode: {built_layer_without_bytecode()}")
