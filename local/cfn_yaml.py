"""Read a CloudFormation / SAM template written in YAML, short-form intrinsic tags included.

``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}``,
``!Condition C`` becomes ``{"Condition": "C"}`` and every other tag ``!Name v`` becomes ``{"Fn::Name": v}``,
which is the JSON form CloudFormation itself uses. Nothing is resolved or evaluated.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

SHORT_FORM_FUNCTIONS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "GetAtt",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "Length",
    "ToJsonString",
)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


# libyaml's parser when PyYAML was built with it (several times faster); the constructors are the same either way
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CloudFormationLoader(_SafeLoader):  # type: ignore[misc,valid-type]  # PyYAML ships no type hints
    """A SafeLoader that knows the CloudFormation tags and keeps dates such as 2010-09-09 as strings."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _ref(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _node_value(loader, node)}


def _condition(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _node_value(loader, node)}


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": value}


def _function(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _node_value(loader, node)}

    return construct


CloudFormationLoader.add_constructor("!Ref", _ref)
CloudFormationLoader.add_constructor("!Condition", _condition)
CloudFormationLoader.add_constructor("!GetAtt", _get_att)
for _name in SHORT_FORM_FUNCTIONS:
    if _name != "GetAtt":
        CloudFormationLoader.add_constructor(f"!{_name}", _function(_name))


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse the template at ``path`` into plain dicts and lists (intrinsics in their long JSON form). A stack reads
    it for its routes, queues, schedules and environments: it is parsed once per version of the file, and each caller
    gets a copy of its own."""
    file = Path(path).resolve()
    version = file.stat()
    return copy.deepcopy(_parsed(file, version.st_mtime_ns, version.st_size))


@functools.lru_cache(maxsize=8)
def _parsed(file: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    with file.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError(f"{file} is not a CloudFormation template (top level is not a mapping)")
    return document
