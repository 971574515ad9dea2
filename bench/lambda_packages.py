"""The packages a deployed function imports from, and nothing else: the layer's requirements (what `sam build`
installs into it) and the boto3 the Lambda runtime provides, installed into one directory as `sam build` does.

Cold starts are measured against this directory, not the project's virtualenv: the development packages change what
the runtime ones import (httpx imports its command line, and with it `rich`, when `click` and `rich` are installed,
which adds ~100 ms to every function that uses httpx and that no deployed function pays).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from local.file_lock import exclusive

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "layers" / "core" / "requirements.txt"
TARGET = ROOT / ".local" / "lambda-packages"
MARKER = TARGET / ".installed"


def lambda_packages() -> Path:
    """The directory, installed on first use and again whenever the requirements or the interpreter change. Benches
    that run side by side (the quick mode) share it: one installs, the others wait for it."""
    with exclusive(TARGET.with_name("lambda-packages.lock")):
        _install_if_changed()
    return TARGET


def _install_if_changed() -> None:
    layer = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    wanted = [*filter(None, layer), f"boto3=={version('boto3')}"]
    fingerprint = hashlib.sha256(" ".join([sys.version, *wanted]).encode()).hexdigest()
    if MARKER.is_file() and MARKER.read_text() == fingerprint:
        return
    shutil.rmtree(TARGET, ignore_errors=True)
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():  # make install puts uv in the virtualenv; pip only when it is missing
        installer = [str(uv), "pip", "install", "--python", sys.executable]
    else:
        installer = [sys.executable, "-m", "pip", "install"]
    subprocess.run([*installer, "--quiet", "--target", str(TARGET), *wanted], check=True, timeout=600)
    MARKER.write_text(fingerprint)


if __name__ == "__main__":
    print(f"the deployed functions' packages: {lambda_packages()}")
