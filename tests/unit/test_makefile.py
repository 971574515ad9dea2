"""`make` alone lists every target with its description."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT


def phony_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    (declaration,) = re.findall(r"^\.PHONY:(.*)$", text, re.MULTILINE)
    return set(declaration.split())


def test_make_alone_lists_every_target_with_its_description() -> None:
    # Given the Makefile's phony targets
    targets = phony_targets()
    assert {"help", "dev", "test", "e2e", "deploy-page"} <= targets
    # When `make` runs without a target
    listed = subprocess.run(["make", "-s"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    # Then it prints the help: one line per target, each with a description
    rows = dict(line.strip().split(None, 1) for line in listed.splitlines() if line.strip())
    assert set(rows) == targets
    assert all(description.strip() for description in rows.values())
