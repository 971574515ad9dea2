"""Log lines and metrics name the service even when the Logger is built before the environment is complete."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = (
    "from whatsapp_integrations.observability import logger, metrics\n"
    "import json\n"
    "logger.info('probe')\n"
    "print(json.dumps({'namespace': metrics.namespace, 'service': metrics.service}))\n"
)


def run_probe(environment: dict[str, str]) -> tuple[dict[str, object], dict[str, object]]:
    """Import observability in a fresh interpreter (the module builds its Logger at import) and log one line."""
    answer = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    log_line, names = answer.stdout.strip().splitlines()[-2:]
    return json.loads(log_line), json.loads(names)


def clean_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("POWERTOOLS_")}


def test_without_powertools_variables_the_template_names_are_the_defaults() -> None:
    # Given a process whose environment has no POWERTOOLS_* variable yet (as when the local stack imports the layer)
    # When observability is imported and a line is logged
    line, names = run_probe(clean_environment())
    # Then the line says the service of the template, not "service_undefined", and metrics use its namespace
    assert line["service"] == "whatsapp-integrations"
    assert names == {"namespace": "WhatsAppIntegrations", "service": "whatsapp-integrations"}


def test_the_environment_still_wins() -> None:
    # Given the variables a deployment sets
    environment = {
        **clean_environment(),
        "POWERTOOLS_SERVICE_NAME": "other-service",
        "POWERTOOLS_METRICS_NAMESPACE": "OtherNamespace",
    }
    # When observability is imported
    line, names = run_probe(environment)
    # Then their values are used
    assert line["service"] == "other-service"
    assert names == {"namespace": "OtherNamespace", "service": "other-service"}
