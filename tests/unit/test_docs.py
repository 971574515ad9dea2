"""The docs keep up with the code: every problem code has a troubleshooting section, every demo token is listed."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest

import local.graph_simulator as graph_simulator
from tests.conftest import ROOT
from whatsapp_integrations.domain.errors import DomainError
from whatsapp_integrations.domain.meta_errors import CODES, TOKEN_SUBCODES
from whatsapp_integrations.domain.provisioning import PROVISIONING_ERRORS

PACKAGE = ROOT / "layers" / "core" / "whatsapp_integrations"
DOCS = ROOT / "docs"
TROUBLESHOOTING = DOCS / "troubleshooting.md"
README = ROOT / "README.md"

# The modules that build problems, warnings and problem responses out of literal codes (besides every function's
# handler module, see scanned_paths).
SCANNED_SOURCES = (
    "domain/credentials.py",
    "domain/meta_errors.py",
    "usecases/live_validation.py",
    "http/api.py",
)
FUNCTIONS = ROOT / "functions"
# Constructors whose `code` argument is a stable code, and its position when it is passed positionally.
CODE_ARGUMENT: dict[str, int | None] = {
    "ValidationProblem": 1,
    "IntegrationWarning": None,
    "ProblemItem": None,
    "Problem": None,
    "problem_response": 1,
    "MetaErrorAdvice": 0,
}
# A few codes of every kind, so a scanner that silently finds nothing fails here rather than passing.
MUST_BE_FOUND = {
    "phone_number_instead_of_id",  # literal in credentials.py
    "waba_id_malformed",  # f"{field}_malformed" in credentials.py
    "token_not_system_user",  # literal in live_validation.py
    "quality_low",  # a warning built from a table of tuples in live_validation.py
    "object_not_found",  # built inside meta_errors.advise
    "malformed_json",  # problem_response(400, "malformed_json", ...) in api.py
    "body_too_large",  # returned as a tuple by the resolver's body check in api.py
    "method_not_allowed",  # Problem(code="method_not_allowed") in functions/method_not_allowed/app.py
}
HEADING = re.compile(r"^### `([^`]+)`[ \t]*$", re.MULTILINE)

Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Module


class CodeScanner:
    """Finds the literal codes passed to the constructors in CODE_ARGUMENT, following simple indirections:
    f-strings over a parameter whose call sites pass literals, names unpacked from a local table of tuples,
    and names unpacked from the literal tuples a helper returns. Attribute or call arguments (error.code,
    advice.code, a Pydantic error type) are delegated to the catalogues collected elsewhere."""

    def __init__(self, path: Path) -> None:
        self.name = path.relative_to(ROOT).as_posix()
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        self.parents = {child: parent for parent in ast.walk(self.tree) for child in ast.iter_child_nodes(parent)}
        self.functions = {
            node.name: node for node in ast.walk(self.tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }

    def scan(self) -> tuple[set[str], list[str]]:
        """Return the codes found and the call sites whose code could not be resolved."""
        found: set[str] = set()
        unresolved: list[str] = []
        for call in (node for node in ast.walk(self.tree) if isinstance(node, ast.Call)):
            argument = _code_argument(call)
            if argument is None:
                continue
            values = self._resolve(argument, self._scope_of(call))
            if values is None:
                unresolved.append(f"{self.name}:{call.lineno}")
            else:
                found |= values
        return found, unresolved

    def _scope_of(self, node: ast.AST) -> Scope:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return self.tree

    def _resolve(self, expression: ast.expr, scope: Scope) -> set[str] | None:
        if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
            return {expression.value}
        if isinstance(expression, ast.Attribute | ast.Call):
            return set()  # error.code, advice.code, str(pydantic type): not a literal code of this module
        if isinstance(expression, ast.JoinedStr):
            return self._expand(expression, scope)
        if isinstance(expression, ast.Name):
            return self._from_table(expression.id, scope) or self._from_helper(expression.id, scope)
        return None

    def _expand(self, template: ast.JoinedStr, scope: Scope) -> set[str] | None:
        choices: list[set[str]] = []
        for part in template.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                choices.append({part.value})
            elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                values = self._literal_arguments(scope, part.value.id)
                if not values:
                    return None
                choices.append(values)
            else:
                return None
        return {"".join(combination) for combination in product(*choices)}

    def _literal_arguments(self, scope: Scope, parameter: str) -> set[str] | None:
        """The literals every call of the function `scope` passes for `parameter`."""
        if isinstance(scope, ast.Module):
            return None
        names = [argument.arg for argument in scope.args.args]
        if parameter not in names:
            return None
        position = names.index(parameter)
        values: set[str] = set()
        for call in ast.walk(self.tree):
            if not (isinstance(call, ast.Call) and _called_name(call) == scope.name):
                continue
            passed = _argument(call, parameter, position)
            if not (isinstance(passed, ast.Constant) and isinstance(passed.value, str)):
                return None
            values.add(passed.value)
        return values

    def _from_table(self, name: str, scope: Scope) -> set[str] | None:
        """`for ..., name, ... in table` where `table` is a local list of tuple literals."""
        for loop in ast.walk(scope):
            if not isinstance(loop, ast.comprehension | ast.For):
                continue
            position = _position_in_tuple(loop.target, name)
            if position is None or not isinstance(loop.iter, ast.Name):
                continue
            rows = self._assigned(scope, loop.iter.id)
            if isinstance(rows, ast.List | ast.Tuple):
                return _literals_at(rows.elts, position)
        return None

    def _from_helper(self, name: str, scope: Scope) -> set[str] | None:
        """`..., name, ... = result` where `result = helper(...)` and the helper returns tuple literals."""
        for assignment in ast.walk(scope):
            if not (isinstance(assignment, ast.Assign) and len(assignment.targets) == 1):
                continue
            position = _position_in_tuple(assignment.targets[0], name)
            if position is None or not isinstance(assignment.value, ast.Name):
                continue
            source = self._assigned(scope, assignment.value.id)
            helper = self.functions.get(_called_name(source) or "") if isinstance(source, ast.Call) else None
            if helper is None:
                return None
            returned = [
                node.value
                for node in ast.walk(helper)
                if isinstance(node, ast.Return) and not (node.value is None or _is_none(node.value))
            ]
            return _literals_at(returned, position)
        return None

    @staticmethod
    def _assigned(scope: Scope, name: str) -> ast.expr | None:
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(target, ast.Name) and target.id == name for target in targets):
                    return node.value
        return None


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _argument(call: ast.Call, keyword: str, position: int | None) -> ast.expr | None:
    for passed in call.keywords:
        if passed.arg == keyword:
            return passed.value
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


def _code_argument(call: ast.Call) -> ast.expr | None:
    name = _called_name(call)
    if name not in CODE_ARGUMENT:
        return None
    return _argument(call, "code", CODE_ARGUMENT[name])


def _position_in_tuple(target: ast.expr, name: str) -> int | None:
    if isinstance(target, ast.Tuple):
        for index, element in enumerate(target.elts):
            if isinstance(element, ast.Name) and element.id == name:
                return index
    return None


def _literals_at(rows: list[ast.expr], position: int) -> set[str] | None:
    values: set[str] = set()
    for row in rows:
        if not isinstance(row, ast.Tuple) or len(row.elts) <= position:
            return None
        element = row.elts[position]
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return None
        values.add(element.value)
    return values or None


def _is_none(expression: ast.expr) -> bool:
    return isinstance(expression, ast.Constant) and expression.value is None


def _subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def scanned_paths() -> list[Path]:
    """The layer's modules above, and every function's handler module (a function may answer a problem itself,
    as the 405 function does)."""
    return [PACKAGE / source for source in SCANNED_SOURCES] + sorted(FUNCTIONS.glob("*/app.py"))


def scanned_codes() -> tuple[set[str], list[str]]:
    codes: set[str] = set()
    unresolved: list[str] = []
    for path in scanned_paths():
        found, missed = CodeScanner(path).scan()
        codes |= found
        unresolved += missed
    return codes, unresolved


def produced_codes() -> set[str]:
    catalogue = {advice.code for advice in (*CODES.values(), *TOKEN_SUBCODES.values())} | set(PROVISIONING_ERRORS)
    domain = {subclass.code for subclass in _subclasses(DomainError)}
    return catalogue | domain | scanned_codes()[0]


def documented_codes() -> list[str]:
    return HEADING.findall(TROUBLESHOOTING.read_text(encoding="utf-8"))


def docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(DOCS.rglob("*.md")))


def demo_tokens() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(graph_simulator).items()
        if name.endswith("_TOKEN") and isinstance(value, str) and value.startswith("EAA")
    }


def test_the_scanner_resolves_every_code_argument_it_meets() -> None:
    # Given the modules that build problems and warnings
    # When their code arguments are resolved
    codes, unresolved = scanned_codes()
    # Then no call site is left unexplained, and codes of every construction style are found
    assert unresolved == [], f"teach CodeScanner how these sites build their code, then document it: {unresolved}"
    assert codes >= MUST_BE_FOUND, f"the scanner missed {sorted(MUST_BE_FOUND - codes)}"


def test_every_problem_code_has_a_troubleshooting_section() -> None:
    # Given every code the API can answer with (top level, errors[] items and warnings)
    codes = produced_codes()
    # When the troubleshooting guide's `### `code`` headings are read
    documented = set(documented_codes())
    # Then each code has its section
    missing = sorted(codes - documented)
    assert missing == [], f"add a ### `code` section to docs/troubleshooting.md for: {missing}"


def test_the_troubleshooting_guide_documents_only_real_codes_once() -> None:
    # Given the headings of the troubleshooting guide
    headings = documented_codes()
    # When they are compared with what the code produces
    stale = sorted(set(headings) - produced_codes())
    duplicated = sorted({code for code in headings if headings.count(code) > 1})
    # Then none is stale and none appears twice (one anchor per code)
    assert stale == [], f"docs/troubleshooting.md documents codes the API never returns: {stale}"
    assert duplicated == [], f"docs/troubleshooting.md has several sections for: {duplicated}"


def test_the_demo_tokens_are_listed_in_the_docs() -> None:
    # Given the tokens the Graph API simulator knows
    tokens = demo_tokens()
    assert len(tokens) >= 5, "the simulator's token constants were not found"
    # When the docs are read
    text = docs_text()
    # Then every token is there, so a developer can try each behaviour on the local stack
    missing = sorted(name for name, value in tokens.items() if value not in text)
    assert missing == [], f"list these simulator tokens in docs/: {missing}"


def test_the_demo_tokens_are_listed_in_the_readme() -> None:
    # Given the README, once it exists
    if not README.exists():
        pytest.skip("README.md does not exist yet")
    text = README.read_text(encoding="utf-8")
    # When the simulator's tokens are looked up in it
    missing = sorted(name for name, value in demo_tokens().items() if value not in text)
    # Then every one is there
    assert missing == [], f"list these simulator tokens in README.md: {missing}"


def test_every_diagnostics_check_has_its_section() -> None:
    # Given the checks the connection doctor can answer, and the link each item carries
    from whatsapp_integrations.domain.diagnostics import CHECKS, CheckResult, CheckStatus

    text = TROUBLESHOOTING.read_text(encoding="utf-8")
    for check in CHECKS:
        link = CheckResult(check, CheckStatus.OK, "").link
        anchor = link.split("#", 1)[1]
        # Then the guide has the anchor the link points to, and a section naming the check
        assert f'<a id="{anchor}"></a>' in text, f"docs/troubleshooting.md lacks the anchor of {check}"
        assert f"### Check: `{check}`" in text, check
