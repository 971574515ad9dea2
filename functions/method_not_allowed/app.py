"""405 Method Not Allowed with the Allow header, for the other methods of the API's known paths.

An HTTP API answers 404 for a method no route of the path has. Each known path also has an ANY route to this
function, and API Gateway prefers a path's own method routes to its ANY route, so only methods the path does not
serve arrive here. No database, no settings: the answer depends on ROUTES alone.
"""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatsapp_integrations.http.problems import PROBLEM_CONTENT_TYPE, Problem, problem_type
from whatsapp_integrations.observability import logger

# Every path of template.yaml's HttpApi routes with its methods (a unit test checks this equals the template).
ROUTES: dict[str, tuple[str, ...]] = {
    "/integrations/whatsapp": ("GET", "POST"),
    "/integrations/whatsapp/validate": ("POST",),
    "/integrations/whatsapp/audit": ("GET",),
    "/integrations/whatsapp/{integration_id}": ("GET", "PUT", "DELETE"),
    "/integrations/whatsapp/{integration_id}/audit": ("GET",),
    "/integrations/whatsapp/{integration_id}/connect": ("POST",),
    "/integrations/whatsapp/{integration_id}/disconnect": ("POST",),
    "/integrations/whatsapp/{integration_id}/status": ("GET",),
    "/integrations/whatsapp/{integration_id}/status/refresh": ("POST",),
    "/integrations/whatsapp/{integration_id}/messages/{wamid}": ("GET",),
    "/integrations/whatsapp/{integration_id}/test-message": ("POST",),
    "/integrations/whatsapp/{integration_id}/diagnostics": ("GET",),
    "/integrations/whatsapp/{integration_id}/diagnostics/repair": ("POST",),
    "/webhooks/evolution": ("POST",),
    "/webhooks/evolution/{event}": ("POST",),
    "/webhooks/meta/{integration_id}": ("GET", "POST"),
}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    path = str(event.get("routeKey", "")).partition(" ")[2]  # "ANY /integrations/whatsapp" -> the path template
    method = str(event.get("requestContext", {}).get("http", {}).get("method", ""))
    request_id = event.get("requestContext", {}).get("requestId")
    if path not in ROUTES or method in ROUTES[path]:
        # Not one of our ANY routes, or a method the path serves: the template and ROUTES disagree.
        logger.warning("route missing from the method table", extra={"route_key": event.get("routeKey")})
        problem = Problem(
            type=problem_type("route_not_found"),
            title="Route not found",
            status=404,
            detail=f"No route serves {method} {path or event.get('rawPath')}.",
            code="route_not_found",
            request_id=request_id,
        )
        return _answer(problem)
    allow = {"Allow": ", ".join((*ROUTES[path], "OPTIONS"))}  # OPTIONS is answered too (below)
    if method == "OPTIONS":
        # RFC 9110 9.3.7: what the path supports. API Gateway (and the local gateway) answer CORS preflights from
        # CorsConfiguration; a preflight that still lands here gets a 2xx.
        return {"statusCode": 204, "headers": allow, "body": "", "isBase64Encoded": False}
    problem = Problem(
        type=problem_type("method_not_allowed"),
        title="Method not allowed",
        status=405,
        detail=f"{method} is not allowed on {path}; it serves {', '.join(ROUTES[path])}.",
        code="method_not_allowed",
        request_id=request_id,
    )
    return _answer(problem, allow)


def _answer(problem: Problem, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": problem.status,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE, **(headers or {})},
        "body": problem.model_dump_json(exclude_none=True),
        "isBase64Encoded": False,
    }
