"""The API keeps its description: schemathesis generates requests from docs/openapi.json (valid and invalid ones,
every method a path does not serve, no or bad credentials) and checks every answer against it, through the local
stack: 0 server errors, 0 schema violations, 0 undocumented status codes. Configuration: schemathesis.toml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local import graph_simulator as sim
from local.stack import LocalStack
from tests.conftest import ROOT
from tests.e2e.conftest import DEMO, Api

SCHEMATHESIS = Path(sys.executable).parent / "st"


def connected_integration(api: Api, phone_number_id: str, name: str) -> str:
    created = api.post("/integrations/whatsapp", json={"name": name, **DEMO, "phone_number_id": phone_number_id})
    assert created.status_code == 201, created.text
    integration_id = str(created.json()["id"])
    assert api.post(f"/integrations/whatsapp/{integration_id}/connect").status_code == 202
    deadline = time.monotonic() + 30
    while api.get(f"/integrations/whatsapp/{integration_id}/status").json()["status"] != "connected":
        assert time.monotonic() < deadline, "the contract's integration never connected"
        time.sleep(0.1)
    return integration_id


def next_cursor(api: Api, path: str) -> str:
    page = api.get(path, params={"limit": 1}).json()
    assert page["next_cursor"], page
    return str(page["next_cursor"])


def test_the_api_answers_as_its_description_says(
    tenant_a: Api, stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a tenant with two connected integrations (one for DELETE) and real cursors for each kind of list
    kept = connected_integration(tenant_a, DEMO["phone_number_id"], "Contract")
    deletable = connected_integration(tenant_a, sim.DEMO_PHONE_NUMBER_IDS[1], "Contract, deleted")
    environment = {
        **os.environ,
        "API_URL": stack.api_url,
        "API_TOKEN": tenant_a.http.headers["Authorization"].removeprefix("Bearer "),
        "INTEGRATION_ID": kept,
        "DELETABLE_INTEGRATION_ID": deletable,
        "INTEGRATIONS_CURSOR": next_cursor(tenant_a, "/integrations/whatsapp"),
        "AUDIT_CURSOR": next_cursor(tenant_a, "/integrations/whatsapp/audit"),
    }

    # When schemathesis runs every phase and every check against every operation
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            str(ROOT / "docs" / "openapi.json"),
            "--seed",
            os.environ.get("CONTRACT_SEED", "20261129"),
            "--no-color",
        ],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # Then nothing failed, and the figures say how much was tried
    output = run.stdout + run.stderr
    (ROOT / ".local").mkdir(exist_ok=True)
    (ROOT / ".local" / "schemathesis.txt").write_text(output, encoding="utf-8")
    figures = re.search(r"(\d+) generated, .*", output)
    with capsys.disabled():
        print(f"\nschemathesis: {figures.group(0) if figures else 'no figures'} (full output: .local/schemathesis.txt)")
    assert run.returncode == 0, output[-6000:]
    assert figures is not None and int(figures.group(1)) >= 20 * 50 // 2, output[-2000:]
