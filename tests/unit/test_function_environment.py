"""A function's environment comes from template.yaml, intrinsics resolved against local stand-ins."""

from __future__ import annotations

import pytest

from local.function_environment import UnresolvedReference, function_environment, function_ids
from tests.conftest import ROOT

TEMPLATE = ROOT / "template.yaml"
REQUIRED_PARAMETERS = {
    "DbHost": "127.0.0.1",
    "DbName": "local",
    "DbUser": "local",
    "DbMigrationUser": "owner",
    "EvolutionBaseUrl": "http://127.0.0.1:9",
    "EvolutionApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:key",
    "EvolutionWebhookUrl": "http://127.0.0.1:9/webhooks/evolution",
}
RESOURCES = {
    "ProvisioningQueue": "http://moto/provisioning",
    "ProvisioningDeadLetterQueue": "http://moto/provisioning-dlq",
    "StatusSyncQueue": "http://moto/status-sync",
    "RelayQueue": "http://moto/relay",
    "RelayDeadLetterQueue": "http://moto/relay-dlq",
    "SecretsKey.Arn": "arn:aws:kms:us-east-1:000000000000:key/local",
    "WebhookHmacKeySecret": "arn:aws:secretsmanager:us-east-1:000000000000:secret:hmac",
    "DomainEventBus": "local-bus",
    "HttpApi": "api123",
}


def environment(function: str, **parameters: str) -> dict[str, str]:
    ids = function_ids(TEMPLATE)
    return function_environment(
        TEMPLATE, ids[function], resources=RESOURCES, parameters={**REQUIRED_PARAMETERS, **parameters}
    )


def test_globals_and_the_function_s_own_variables_resolve_to_local_values() -> None:
    # When the provisioner's environment is resolved
    provisioner = environment("provisioner")
    # Then Globals and its own variables are there, each pointing at the local stand-in or the parameter
    assert provisioner["PROVISIONING_QUEUE_URL"] == RESOURCES["ProvisioningQueue"]
    assert provisioner["KMS_KEY_ID"] == RESOURCES["SecretsKey.Arn"]
    assert provisioner["EVENT_BUS_NAME"] == "local-bus"
    assert provisioner["EVOLUTION_BASE_URL"] == REQUIRED_PARAMETERS["EvolutionBaseUrl"]
    assert provisioner["META_CALLS_PER_MINUTE"] == "30"  # the parameter's default
    # And a function gets only what the template gives it
    assert "RELAY_QUEUE_URL" not in environment("get_integration")


def test_conditions_pick_the_branch_a_deployment_would() -> None:
    # Without a PublicApiUrl the provisioner gets the HTTP API's own URL; with one, that one
    assert environment("provisioner")["PUBLIC_API_URL"] == "https://api123.execute-api.us-east-1.amazonaws.com"
    custom = environment("provisioner", PublicApiUrl="https://api.example.com")
    assert custom["PUBLIC_API_URL"] == "https://api.example.com"


def test_a_parameter_without_a_default_must_be_given() -> None:
    ids = function_ids(TEMPLATE)
    with pytest.raises(UnresolvedReference, match="DbHost"):
        function_environment(TEMPLATE, ids["get_integration"], resources=RESOURCES, parameters={})
