"""One error shape for every route: RFC 9457 problem details, extended with our stable `code`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import Field

from whatsapp_integrations.domain.errors import ValidationProblem
from whatsapp_integrations.domain.model import Model

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemItem(Model):
    """One thing to fix. Meta's code, subcode and fbtrace_id are present when Meta reported the problem."""

    field: str = Field(description="The request field concerned, e.g. access_token or query.limit")
    code: str = Field(description="Stable machine-readable code; see docs/troubleshooting.md")
    message: str
    fix: str | None = None
    meta_code: int | None = None
    meta_subcode: int | None = None
    fbtrace_id: str | None = None


class Problem(Model):
    type: str = Field(description="URI that identifies the problem type")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code; see docs/troubleshooting.md")
    request_id: str | None = None
    errors: list[ProblemItem] = Field(default_factory=list)


def problem_type(code: str) -> str:
    return f"urn:whatsapp-integrations:problem:{code}"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    request_id: str | None,
    errors: list[ProblemItem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    problem = Problem(
        type=problem_type(code),
        title=title,
        status=status,
        detail=detail,
        code=code,
        request_id=request_id,
        errors=errors or [],
    )
    return Response(
        status_code=status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=problem.model_dump_json(exclude_none=True),
        headers=headers,
    )


def item_from_validation_problem(problem: ValidationProblem) -> ProblemItem:
    return ProblemItem(
        field=problem.field,
        code=problem.code,
        message=problem.message,
        fix=problem.fix,
        meta_code=problem.meta_code,
        meta_subcode=problem.meta_subcode,
        fbtrace_id=problem.fbtrace_id,
    )
