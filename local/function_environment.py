"""A function's environment as template.yaml declares it (Globals, then the function's own variables), with each
intrinsic resolved against local stand-ins: parameters take their defaults unless given, `Ref`/`GetAtt` of a
resource take the local value of that resource (a moto queue URL, a KMS key), and `If`/`Sub` are evaluated.

So whatever a function reads at cold start is exactly what a deployment would give it, and a variable added to the
template reaches every local run without a hand-kept list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from local.cfn_yaml import load_template

PSEUDO_PARAMETERS = {"AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com", "AWS::AccountId": "000000000000"}
_NO_VALUE = object()


class UnresolvedReference(KeyError):
    pass


def function_environment(
    template_path: Path,
    logical_id: str,
    *,
    resources: Mapping[str, str],
    parameters: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`resources` maps `Name` (for Ref) and `Name.Attribute` (for GetAtt) to local values; `parameters` overrides
    the template's defaults."""
    template = _template(template_path)
    function = template["Resources"][logical_id]
    if function["Type"] != "AWS::Serverless::Function":
        raise ValueError(f"{logical_id} is not a function")
    resolver = _Resolver(template, resources, parameters or {})
    declared = {
        **((template.get("Globals", {}).get("Function", {}).get("Environment") or {}).get("Variables") or {}),
        **((function["Properties"].get("Environment") or {}).get("Variables") or {}),
    }
    environment = {}
    for name, value in declared.items():
        resolved = resolver.value(value)
        if resolved is not _NO_VALUE:
            environment[name] = str(resolved)
    return environment


def function_ids(template_path: Path) -> dict[str, str]:
    """Each function's code folder name (functions/<name>/) and its logical id."""
    template = _template(template_path)
    return {
        Path(resource["Properties"]["CodeUri"]).name: logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


@lru_cache(maxsize=4)
def _template(path: Path) -> dict[str, Any]:
    """Parsed once per process: a bench resolves environments hundreds of times (never changed by a caller)."""
    return load_template(path)


class _Resolver:
    def __init__(self, template: dict[str, Any], resources: Mapping[str, str], parameters: Mapping[str, str]) -> None:
        defaults = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
        self._parameters = {**defaults, **parameters}
        self._conditions = template.get("Conditions", {})
        self._resources = resources

    def value(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        (function, argument), *_ = node.items()
        if function == "Ref":
            return self._reference(argument)
        if function == "Fn::GetAtt":
            return self._reference(".".join(argument) if isinstance(argument, list) else argument)
        if function == "Fn::If":
            condition, when_true, when_false = argument
            return self.value(when_true if self._condition(condition) else when_false)
        if function == "Fn::Sub":
            return re.sub(r"\$\{([\w:.]+)\}", lambda match: str(self._reference(match.group(1))), argument)
        raise UnresolvedReference(f"{function} is not resolved locally")

    def _reference(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self._parameters:
            if self._parameters[name] is None:
                raise UnresolvedReference(f"parameter {name} has no default: give it a local value")
            return self._parameters[name]
        if name in self._resources:
            return self._resources[name]
        raise UnresolvedReference(f"{name}: no local value")

    def _condition(self, node: Any) -> bool:
        if isinstance(node, str):
            return self._condition(self._conditions[node])
        (function, argument), *_ = node.items()
        if function == "Condition":
            return self._condition(argument)
        if function == "Fn::Equals":
            left, right = (self.value(part) for part in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._condition(argument[0])
        if function == "Fn::And":
            return all(self._condition(part) for part in argument)
        if function == "Fn::Or":
            return any(self._condition(part) for part in argument)
        raise UnresolvedReference(f"condition {function} is not resolved locally")
