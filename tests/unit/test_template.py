from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

import pytest

from local.cfn_yaml import load_template
from tests.conftest import ROOT
from whatsapp_integrations.settings import Settings

pytestmark = pytest.mark.unit

TEMPLATE_PATH = ROOT / "template.yaml"
FUNCTION_TYPE = "AWS::Serverless::Function"
DECRYPTING_FUNCTIONS = {
    "UpdateIntegrationFunction",
    "ProvisionerFunction",
    "StatusSyncFunction",
    "RefreshIntegrationStatusFunction",
    "DiagnoseIntegrationFunction",
    "RepairIntegrationFunction",
    "MetaWebhookFunction",  # app secrets only (next test)
}
# Functions that never touch the database (no DatabaseAccessPolicy, no migrations to wait for).
DATABASE_FREE_FUNCTIONS = {"MethodNotAllowedFunction"}
ENCRYPTING_FUNCTIONS = {"CreateIntegrationFunction", "UpdateIntegrationFunction", "ProvisionerFunction"}
# SAM policy templates that grant KMS actions, and what they grant.
KMS_POLICY_TEMPLATES = {"KMSDecryptPolicy": ["kms:Decrypt"], "KMSEncryptPolicy": ["kms:Encrypt"]}
Template = dict[str, Any]


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(TEMPLATE_PATH)


def functions(template: Template) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == FUNCTION_TYPE}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def branches(node: Any) -> Iterator[Any]:
    """Both outcomes of an Fn::If (minus AWS::NoValue), or the node itself."""
    if isinstance(node, dict) and "Fn::If" in node:
        for branch in node["Fn::If"][1:]:
            if branch != {"Ref": "AWS::NoValue"}:
                yield from branches(branch)
    else:
        yield node


def statements(template: Template, function: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every IAM statement a function's Policies can grant: inline, SAM templates, and referenced managed policies."""
    for entry in as_list(function["Properties"].get("Policies", [])):
        for policy in branches(entry):
            if isinstance(policy, dict) and "Ref" in policy:
                referenced = template["Resources"].get(policy["Ref"], {})
                if referenced.get("Type") == "AWS::IAM::ManagedPolicy":
                    policy = referenced["Properties"]["PolicyDocument"]
            if not isinstance(policy, dict):
                continue  # an AWS managed policy name or ARN
            for template_name, actions in KMS_POLICY_TEMPLATES.items():
                if template_name in policy:
                    yield {"Effect": "Allow", "Action": actions, "Resource": policy[template_name]}
            for statement in as_list(policy.get("Statement", [])):
                yield from (item for item in branches(statement) if isinstance(item, dict))


def grants(statement: dict[str, Any], action: str) -> bool:
    return statement.get("Effect") == "Allow" and any(
        isinstance(pattern, str) and fnmatchcase(action.lower(), pattern.lower())
        for pattern in as_list(statement.get("Action", []))
    )


def kms_statements(template: Template, function: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for statement in statements(template, function)
        if any(
            isinstance(action, str) and (action == "*" or action.lower().startswith("kms:"))
            for action in as_list(statement.get("Action", []))
        )
    ]


def http_routes(function: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in (function["Properties"].get("Events") or {}).values()
        if event["Type"] == "HttpApi"
    ]


def test_every_function_folder_has_an_app_module_with_lambda_handler(template: Template) -> None:
    # Given the functions declared in the template
    declared = functions(template)
    assert declared

    for name, function in declared.items():
        # When the CodeUri folder and handler are looked up
        properties = function["Properties"]
        module, _, handler = properties["Handler"].rpartition(".")
        source = ROOT / properties["CodeUri"] / f"{module}.py"

        # Then the module exists and defines the handler at top level
        assert source.is_file(), f"{name}: {source} is missing"
        assert re.search(rf"^def {handler}\(", source.read_text(encoding="utf-8"), re.MULTILINE), name


def test_globals_pin_python313_on_arm64(template: Template) -> None:
    # Given the Globals section
    globals_function = template["Globals"]["Function"]

    # When no function overrides the runtime or the architecture
    overrides = [
        name for name, fn in functions(template).items() if {"Runtime", "Architectures"} & fn["Properties"].keys()
    ]

    # Then every function runs python3.13 on arm64
    assert globals_function["Runtime"] == "python3.13"
    assert globals_function["Architectures"] == ["arm64"]
    assert overrides == []


def test_core_layer_is_built_for_the_same_runtime(template: Template) -> None:
    # Given the shared layer
    layer = template["Resources"]["CoreLayer"]

    # When its build settings are read
    properties, metadata = layer["Properties"], layer["Metadata"]

    # Then SAM builds it with its own recipe (layers/core/Makefile), for the functions' python3.13 on arm64
    recipe = (ROOT / properties["ContentUri"] / "Makefile").read_text()
    assert metadata["BuildMethod"] == "makefile"
    assert "build-CoreLayer:" in recipe
    assert properties["CompatibleRuntimes"] == [template["Globals"]["Function"]["Runtime"]] == ["python3.13"]
    assert properties["CompatibleArchitectures"] == template["Globals"]["Function"]["Architectures"] == ["arm64"]
    assert "RUNTIME_VERSION = 3.13" in recipe
    assert "LAYER_ARCH = aarch64" in recipe
    assert (ROOT / properties["ContentUri"] / "requirements.txt").is_file()
    assert (ROOT / properties["ContentUri"] / "whatsapp_integrations" / "__init__.py").is_file()


def test_globals_environment_only_sets_variables_the_settings_read(template: Template) -> None:
    # Given the environment every function receives
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    # When the non-Powertools names are compared with the settings model
    ours = {name.lower() for name in variables if not name.startswith("POWERTOOLS_")}

    # Then each one is a setting, and the ones the functions cannot start without are present
    assert ours <= set(Settings.model_fields), ours - set(Settings.model_fields)
    assert {"kms_key_id", "db_host", "db_name", "db_user"} <= ours
    assert variables["KMS_KEY_ID"] == {"Fn::GetAtt": ["SecretsKey", "Arn"]}


def test_secrets_key_rotates_and_has_its_alias(template: Template) -> None:
    # Given the resources
    resources = template["Resources"]

    # When the KMS key and its aliases are read
    key = resources["SecretsKey"]
    aliases = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::KMS::Alias"]

    # Then rotation is on and the alias points at the key
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert {"AliasName": "alias/whatsapp-integrations-secrets", "TargetKeyId": {"Ref": "SecretsKey"}} in aliases


def test_every_function_logs_to_a_group_with_retention(template: Template) -> None:
    # Given every function, API handlers and queue workers alike
    for name, function in functions(template).items():
        # When its log group is followed from LoggingConfig
        reference = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        assert isinstance(reference, dict) and "Ref" in reference, f"{name} has no explicit log group"
        log_group = template["Resources"][reference["Ref"]]

        # Then it is an explicit log group with a retention
        assert log_group["Type"] == "AWS::Logs::LogGroup", name
        assert log_group["Properties"].get("RetentionInDays"), name


def test_http_api_routes_are_unique(template: Template) -> None:
    # Given every HttpApi event of every function
    routes = [route for fn in functions(template).values() for route in http_routes(fn)]

    # When duplicates are looked for
    duplicates = {route for route in routes if routes.count(route) > 1}

    # Then each (method, path) is served by exactly one function
    assert routes
    assert duplicates == set()


def test_api_functions_wait_for_the_database_migrations(template: Template) -> None:
    # Given the functions behind the HTTP API that use the database (the 405 function has neither database nor
    # policies: nothing to wait for)
    api_functions = {
        name: fn for name, fn in functions(template).items() if http_routes(fn) and name not in DATABASE_FREE_FUNCTIONS
    }

    # When their dependencies are read
    missing = [
        name for name, fn in api_functions.items() if "DatabaseMigrations" not in as_list(fn.get("DependsOn", []))
    ]

    # Then none can roll out before the schema is migrated
    assert api_functions
    assert missing == []
    assert template["Resources"]["DatabaseMigrations"]["Properties"]["ServiceToken"] == {
        "Fn::GetAtt": ["MigrateDatabaseFunction", "Arn"]
    }


def test_only_the_update_function_and_the_provisioner_can_decrypt(template: Template) -> None:
    # Given every statement each function is granted
    granted = {name: list(statements(template, fn)) for name, fn in functions(template).items()}

    # When the functions allowed to call kms:Decrypt and kms:Encrypt are collected
    decrypting = {name for name, found in granted.items() if any(grants(s, "kms:Decrypt") for s in found)}
    encrypting = {name for name, found in granted.items() if any(grants(s, "kms:Encrypt") for s in found)}

    # Then only the update function decrypts, and only create and update encrypt
    assert decrypting == DECRYPTING_FUNCTIONS
    assert encrypting == ENCRYPTING_FUNCTIONS


def test_the_meta_relay_decrypts_app_secrets_only_and_its_forwarder_nothing(template: Template) -> None:
    # Given the two functions of Meta's webhook path
    declared = functions(template)
    intake = [s for s in kms_statements(template, declared["MetaWebhookFunction"]) if grants(s, "kms:Decrypt")]
    forwarder = kms_statements(template, declared["MetaRelayFunction"])
    # Then the intake may decrypt only the field app_secret (to check signatures), and the forwarder holds no KMS right
    assert intake and all(
        statement["Condition"]["StringEquals"]["kms:EncryptionContext:field"] == "app_secret" for statement in intake
    )
    assert forwarder == []


def test_no_function_has_wildcard_kms_permissions(template: Template) -> None:
    for name, function in functions(template).items():
        # Given the KMS statements of a function
        for statement in kms_statements(template, function):
            actions = [action.lower() for action in as_list(statement["Action"])]

            # Then neither the action nor the resource is a wildcard
            assert "*" not in actions and "kms:*" not in actions, name
            assert "*" not in as_list(statement["Resource"]), name
            assert statement["Resource"] == {"Fn::GetAtt": ["SecretsKey", "Arn"]}, name


def test_kms_grants_require_the_tenant_encryption_context(template: Template) -> None:
    for name, function in functions(template).items():
        for statement in kms_statements(template, function):
            # Given a KMS grant
            condition = statement.get("Condition", {})

            # When its encryption-context conditions are read
            allowed_keys = condition.get("ForAllValues:StringEquals", {}).get("kms:EncryptionContextKeys")
            required = set(condition.get("StringLike", {})) | set(condition.get("StringEquals", {}))

            # Then only tenant_id/integration_id/field may appear, and each must be present
            assert sorted(allowed_keys) == ["field", "integration_id", "tenant_id"], name
            assert {f"kms:EncryptionContext:{key}" for key in allowed_keys} <= required, name


def test_each_queues_max_receive_count_is_its_workers_max_attempts(template: Template) -> None:
    # Given the queues' redrive policies and the workers' environments
    defaults = Settings(database_url="postgresql://x@127.0.0.1/x", kms_key_id="k")
    parameters = template["Parameters"]
    for queue, parameter, setting in (
        ("ProvisioningQueue", "ProvisioningMaxAttempts", defaults.provisioning_max_attempts),
        ("StatusSyncQueue", "StatusSyncMaxAttempts", defaults.status_sync_max_attempts),
        ("RelayQueue", "RelayMaxAttempts", defaults.relay_max_attempts),
    ):
        # Then the queue's maxReceiveCount is the parameter the worker gets as its max attempts, with one default
        redrive = template["Resources"][queue]["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == {"Ref": parameter}, queue
        assert int(parameters[parameter]["Default"]) == setting, parameter
        workers = [
            function["Properties"].get("Environment", {}).get("Variables", {})
            for function in functions(template).values()
        ]
        assert any({"Ref": parameter} in env.values() for env in workers), parameter


def _injects_context_without_the_event(decorator: ast.expr) -> bool | None:
    """None when the decorator is not inject_lambda_context; otherwise whether it pins log_event=False."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call is not None else decorator
    if not (isinstance(target, ast.Attribute) and target.attr == "inject_lambda_context"):
        return None
    if call is None:
        return False
    return any(
        keyword.arg == "log_event" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False
        for keyword in call.keywords
    )


def test_every_handler_pins_log_event_false(template: Template) -> None:
    # Given every function of the template and every handler module in functions/
    modules = {ROOT / fn["Properties"]["CodeUri"] / "app.py": name for name, fn in functions(template).items()}
    assert set(modules) == set((ROOT / "functions").glob("*/app.py")), "a functions/ folder is not in the template"
    for path, name in modules.items():
        # When the decorators of its lambda_handler are read
        tree = ast.parse(path.read_text(encoding="utf-8"))
        handler = next(
            node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "lambda_handler"
        )
        verdicts = [_injects_context_without_the_event(decorator) for decorator in handler.decorator_list]
        # Then it injects the Lambda context and never logs the event (bodies carry tokens and secrets), whatever
        # POWERTOOLS_LOGGER_LOG_EVENT says
        assert verdicts.count(True) == 1 and False not in verdicts, f"{name}: {path.relative_to(ROOT)}"


CRYPTO_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey")
# What the account keeps so the key stays manageable (KMS refuses a policy that locks its creator out).
KEY_ADMINISTRATION = ("kms:PutKeyPolicy", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion")


def key_policy(template: Template) -> list[dict[str, Any]]:
    return list(template["Resources"]["SecretsKey"]["Properties"]["KeyPolicy"]["Statement"])


def test_the_key_policy_gives_the_account_administration_but_no_kms_star(template: Template) -> None:
    # Given the key policy's Allow statements
    allows = [statement for statement in key_policy(template) if statement["Effect"] == "Allow"]
    administration = [
        statement for statement in allows if not any(grants(statement, action) for action in CRYPTO_ACTIONS)
    ]
    # When their actions are read
    actions = [action for statement in allows for action in as_list(statement["Action"])]
    # Then none is a wildcard, nobody may create grants (a grant would hand out crypto without the context), and the
    # administration statement keeps what managing the key needs and no crypto action at all
    assert all("*" not in action for action in actions), actions
    assert not any(grants(statement, "kms:CreateGrant") for statement in allows)
    assert len(administration) == 1
    assert all(grants(administration[0], action) for action in KEY_ADMINISTRATION)
    assert administration[0]["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


def test_the_key_policy_delegates_crypto_only_with_the_tenant_context(template: Template) -> None:
    # Given the key policy's statements that allow a cryptographic action
    crypto = [
        statement
        for statement in key_policy(template)
        if statement["Effect"] == "Allow" and any(grants(statement, action) for action in CRYPTO_ACTIONS)
    ]
    assert crypto, "nothing may encrypt or decrypt: the functions' IAM grants would be useless"
    for statement in crypto:
        # When its conditions are read
        condition = statement.get("Condition", {})
        # Then only Encrypt and Decrypt are delegated, only to IAM in this account, and only with the tenant context
        assert sorted(as_list(statement["Action"])) == ["kms:Decrypt", "kms:Encrypt"]
        assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
        assert sorted(condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"]) == [
            "field",
            "integration_id",
            "tenant_id",
        ]
        assert condition["StringLike"]["kms:EncryptionContext:tenant_id"] == "?*"


def test_the_key_policy_still_denies_crypto_without_a_tenant_id(template: Template) -> None:
    # Given the key policy's Deny statements
    denies = [statement for statement in key_policy(template) if statement["Effect"] == "Deny"]
    # Then one denies every cryptographic action to everyone when the context has no tenant_id
    assert any(
        statement["Principal"] == "*"
        and all(
            any(fnmatchcase(action, pattern) for pattern in as_list(statement["Action"])) for action in CRYPTO_ACTIONS
        )
        and statement["Condition"] == {"Null": {"kms:EncryptionContext:tenant_id": "true"}}
        for statement in denies
    )


def test_evolution_is_reached_over_https_only(template: Template) -> None:
    # Given the parameters with URLs the functions call or hand out
    parameters = template["Parameters"]
    # Then Evolution's API (it receives the global key and tenants' tokens) and its webhook URL are https only
    assert parameters["EvolutionBaseUrl"]["AllowedPattern"] == "^https://.+"
    assert parameters["EvolutionWebhookUrl"]["AllowedPattern"] == "^https://.+"


def http_events(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, function in functions(template).items():
        for event in (function["Properties"].get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                yield name, event["Properties"]


def test_every_jwt_route_requires_the_read_or_the_write_scope(template: Template) -> None:
    # Given the scope parameters and every HttpApi route
    parameters = template["Parameters"]
    assert parameters["ReadScope"]["Default"] == "integrations:read"
    assert parameters["WriteScope"]["Default"] == "integrations:write"
    for name, event in http_events(template):
        auth = event.get("Auth", {})
        route = f"{name}: {event['Method']} {event['Path']}"
        if auth.get("Authorizer") == "NONE":
            # Then routes without the JWT authorizer are the webhooks (and the 405 answers), never with scopes
            assert event["Path"].startswith("/webhooks/") or event["Method"] == "ANY", route
            assert "AuthorizationScopes" not in auth, route
            continue
        # Then every other route names the JWT authorizer and its scope: GETs read, everything else writes
        expected = "ReadScope" if event["Method"] == "GET" else "WriteScope"
        assert auth == {"Authorizer": "JwtAuthorizer", "AuthorizationScopes": [{"Ref": expected}]}, route


def test_the_405_function_holds_no_permission_and_waits_for_nothing(template: Template) -> None:
    # Given the function behind the ANY routes
    function = template["Resources"]["MethodNotAllowedFunction"]
    # Then it has no policy (no database, no KMS, no queue) and no environment of its own, and its routes need no JWT
    assert "Policies" not in function["Properties"] and "Environment" not in function["Properties"]
    assert "DependsOn" not in function
    assert {route for route in http_routes(function) if route[0] != "ANY"} == set()
    for event in function["Properties"]["Events"].values():
        assert event["Properties"]["Auth"] == {"Authorizer": "NONE"}


WEBHOOK_FUNCTIONS = {"EvolutionWebhookFunction", "MetaWebhookFunction"}


def test_the_webhook_routes_have_their_own_throttling(template: Template) -> None:
    # Given the webhook routes (every method route without the JWT authorizer) and the API's route settings
    webhook_routes = {
        f"{event['Method']} {event['Path']}"
        for _, event in http_events(template)
        if event.get("Auth", {}).get("Authorizer") == "NONE" and event["Method"] != "ANY"
    }
    api = template["Resources"]["HttpApi"]["Properties"]
    settings = api["RouteSettings"]
    # Then exactly those routes have settings (a key naming no route fails the deployment), each with the webhook
    # parameters, while the API-wide default stays for everything else
    assert webhook_routes == {
        "POST /webhooks/evolution",
        "POST /webhooks/evolution/{event}",
        "GET /webhooks/meta/{integration_id}",
        "POST /webhooks/meta/{integration_id}",
    }
    assert set(settings) == webhook_routes
    for route in webhook_routes:
        assert settings[route] == {
            "ThrottlingBurstLimit": {"Ref": "WebhookThrottlingBurstLimit"},
            "ThrottlingRateLimit": {"Ref": "WebhookThrottlingRateLimit"},
        }, route
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    for parameter in ("WebhookThrottlingBurstLimit", "WebhookThrottlingRateLimit"):
        assert template["Parameters"][parameter]["Type"] == "Number" and template["Parameters"][parameter]["MinValue"]


def test_the_webhook_functions_can_reserve_concurrency(template: Template) -> None:
    # Given the reserved-concurrency parameter and its condition
    parameter = template["Parameters"]["WebhookReservedConcurrency"]
    assert (parameter["Default"], parameter["MinValue"]) == (0, 0)
    assert template["Conditions"]["HasWebhookReservedConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "WebhookReservedConcurrency"}, 0]}]
    }
    for name, function in functions(template).items():
        reserved = function["Properties"].get("ReservedConcurrentExecutions")
        if name in WEBHOOK_FUNCTIONS:
            # Then both webhook functions reserve it when it is set, and stay unreserved at 0
            assert reserved == {
                "Fn::If": [
                    "HasWebhookReservedConcurrency",
                    {"Ref": "WebhookReservedConcurrency"},
                    {"Ref": "AWS::NoValue"},
                ]
            }, name
        else:
            # And no other function reserves any
            assert reserved is None, name
