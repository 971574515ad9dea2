"""A local stand-in for API Gateway's HTTP API: routes read from template.yaml, each request turned into a
payload-format-2.0 event with verified JWT claims, and the same handler code invoked in-process.

Each function gets its own execution environments (separate module instances) and, like Lambda, an
environment serves one invocation at a time.
"""

from __future__ import annotations

import base64
import contextvars
import importlib.util
import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
from aws_lambda_powertools import Logger

from local.cfn_yaml import load_template
from local.cors import read_cors_policy
from local.dev_tokens import DevTokens
from local.serving import serve_in_thread

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's own payload limit
_METHOD_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 5.6.2: a method is a token
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function_name: str
    code_uri: Path
    handler: str
    authorized: bool
    pattern: re.Pattern[str] = field(compare=False)
    # The route's AuthorizationScopes: a token needs at least one of them (none = any valid token)
    scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def read_routes(template_path: Path, parameters: dict[str, str] | None = None) -> list[Route]:
    """The HttpApi routes of the template; `parameters` overrides the template parameters' defaults (scopes are
    `!Ref ReadScope`, ...), as a deployment would."""
    template = load_template(template_path)
    values = {
        **{name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()},
        **(parameters or {}),
    }
    default_handler = template.get("Globals", {}).get("Function", {}).get("Handler", "app.lambda_handler")
    routes = []
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        for event in (properties.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            event_properties = event.get("Properties", {})
            auth_settings = event_properties.get("Auth") or {}
            auth = auth_settings.get("Authorizer")
            path = event_properties["Path"]
            scopes = tuple(_resolved(scope, values) for scope in auth_settings.get("AuthorizationScopes") or [])
            routes.append(
                Route(
                    method=event_properties["Method"].upper(),
                    path=path,
                    function_name=name,
                    code_uri=template_path.parent / properties["CodeUri"],
                    handler=properties.get("Handler", default_handler),
                    authorized=auth != "NONE",
                    pattern=_path_pattern(path),
                    scopes=scopes,
                )
            )
    # API Gateway prefers the most specific route: fewer path variables first, and for the same path the route of
    # the request's method over the path's ANY route.
    return sorted(routes, key=lambda route: (route.path.count("{"), -len(route.path), route.method == "ANY"))


def _resolved(value: Any, parameters: dict[str, Any]) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(parameters[value["Ref"]])
    return str(value)


def _path_pattern(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}$")


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    deadline: float = field(default_factory=lambda: time.monotonic() + 15)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class FunctionPool:
    """Loaded handler modules for one function; each is one 'execution environment'.

    Log keys: in Lambda an environment runs one invocation at a time, so the keys `inject_lambda_context` appends to
    the Logger (function_name, function_request_id, correlation_id, ...) are that invocation's. Here every function
    shares one Logger (the layer is imported once per process) and invocations of different functions run at once
    on threads, so global keys would show another function's name. The local stack therefore sends the Logger's key
    updates to Powertools' thread-safe keys (a ContextVar the formatter applies over the global keys) and runs each
    environment in its own contextvars.Context: keys stay per environment, and persist across its invocations as
    they do in a warm Lambda. The Lambda code is unchanged. (Threads a handler starts itself do not inherit the
    context, so their lines lack these keys locally.)
    """

    def __init__(self, name: str, code_uri: Path, handler: str, size: int) -> None:
        self.name = name
        module_file, handler_name = handler.rsplit(".", 1)
        self._idle: queue.Queue[tuple[Handler, contextvars.Context]] = queue.Queue()
        for index in range(size):
            module = _load_module(code_uri / f"{module_file}.py", f"local_fn_{self.name}_{index}")
            _keep_log_keys_per_context(module)
            self._idle.put((getattr(module, handler_name), contextvars.Context()))

    def invoke(self, event: dict[str, Any], request_id: str) -> dict[str, Any]:
        handler, environment = self._idle.get()
        try:
            return environment.run(handler, event, LambdaContext(self.name, request_id))
        finally:
            self._idle.put((handler, environment))


def _keep_log_keys_per_context(module: ModuleType) -> None:
    """Point the key methods of the module's Powertools Loggers at their thread-safe (ContextVar) versions."""
    for value in list(vars(module).values()):
        if isinstance(value, Logger):
            value.append_keys = value.thread_safe_append_keys  # type: ignore[method-assign]
            value.remove_keys = value.thread_safe_remove_keys  # type: ignore[method-assign]
            value.get_current_keys = value.thread_safe_get_current_keys  # type: ignore[method-assign]


def _load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LocalGateway:
    def __init__(
        self,
        template_path: Path,
        tokens: DevTokens,
        *,
        host: str = "127.0.0.1",
        port: int = 3003,
        environments_per_function: int = 2,
        cors_origins: list[str] | None = None,
        template_parameters: dict[str, str] | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.routes = read_routes(template_path, template_parameters)
        self.cors = read_cors_policy(template_path, cors_origins or [])
        self.tokens = tokens
        self._log = log
        pools: dict[str, FunctionPool] = {}
        for route in self.routes:
            if route.function_name not in pools:
                pools[route.function_name] = FunctionPool(
                    route.function_name, route.code_uri, route.handler, environments_per_function
                )
        self._pools = pools
        self._server = ThreadingHTTPServer((host, port), _request_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._local_routes: dict[str, Callable[[], dict[str, Any]]] = {}

    def add_local_route(self, path: str, action: Callable[[], dict[str, Any]]) -> None:
        """A POST route of the local stack only (never in template.yaml), e.g. to run a schedule by hand."""
        self._local_routes[path] = action

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalGateway:
        self._thread = serve_in_thread(self._server, "gateway")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(
        self, method: str, raw_url: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        if len(body) > MAX_BODY_BYTES:
            return _gateway_answer(413, "Request Entity Too Large")
        if method == "OPTIONS" and self.cors is not None and "access-control-request-method" in headers:
            return 204, self.cors.preflight_headers(headers.get("origin")), b""
        parts = urlsplit(raw_url)
        path = unquote(parts.path)
        if method == "POST" and path in self._local_routes:
            return 200, {"content-type": "application/json"}, json.dumps(self._local_routes[path]()).encode()
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method in (method, "ANY"):
                break
        else:
            return _gateway_answer(404, "Not Found")
        claims: dict[str, Any] | None = None
        if route.authorized:
            claims = self._verified_claims(headers)
            if claims is None:
                return _gateway_answer(401, "Unauthorized")
            if route.scopes and not set(route.scopes) & token_scopes(claims):
                return _gateway_answer(403, "Forbidden")
        event = http_api_event(
            route.route_key,
            method,
            parts.path,
            raw_query=parts.query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            path_parameters=match.groupdict(),
            claims=claims,
        )
        request_id = event["requestContext"]["requestId"]
        status, answer_headers, payload = _http_answer(self._pools[route.function_name].invoke(event, request_id))
        # As API Gateway does: the request ID, which is the correlation ID of everything the request caused
        return status, {**answer_headers, "apigw-requestid": request_id}, payload

    def cors_answer_headers(self, request_headers: dict[str, str]) -> dict[str, str]:
        return self.cors.answer_headers(request_headers.get("origin")) if self.cors is not None else {}

    def _verified_claims(self, headers: dict[str, str]) -> dict[str, Any] | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return self.tokens.verify(token.strip())
        except jwt.InvalidTokenError:
            return None


def token_scopes(claims: dict[str, Any]) -> set[str]:
    """The scopes of a token as API Gateway's JWT authorizer reads them: the `scope` or `scp` claim, a
    space-separated string or a list."""
    scopes: set[str] = set()
    for claim in ("scope", "scp"):
        value = claims.get(claim)
        if isinstance(value, str):
            scopes.update(value.split())
        elif isinstance(value, list):
            scopes.update(str(item) for item in value)
    return scopes


def http_api_event(
    route_key: str,
    method: str,
    raw_path: str,
    *,
    raw_query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    source_ip: str = "127.0.0.1",
    path_parameters: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload-format-2.0 event, as the JWT authorizer hands it to a function."""
    headers = headers or {}
    now = datetime.now(UTC)
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    text_body: str | None = None
    is_base64 = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode(), True
    request_context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "domainPrefix": "local",
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        # API Gateway hands JWT claims to the function as strings.
        request_context["authorizer"] = {
            "jwt": {"claims": {key: _claim_text(value) for key, value in claims.items()}, "scopes": None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": request_context,
        "isBase64Encoded": is_base64,
    }
    if query:
        event["queryStringParameters"] = {key: ",".join(values) for key, values in query.items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if text_body is not None:
        event["body"] = text_body
    return event


def _claim_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return str(value)


def _http_answer(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(key): str(value) for key, value in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ",".join(str(value) for value in values)
    return int(result.get("statusCode", 200)), headers, payload


def _gateway_answer(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json"}, json.dumps({"message": message}).encode()


def _request_handler(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class GatewayRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out separately; keep-alive clients would wait ~40 ms

        def _serve(self) -> None:
            started = time.perf_counter()
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers: dict[str, str] = {}
            for key, value in self.headers.items():  # a repeated header is one, its values comma-joined, as in AWS
                headers[key.lower()] = f"{headers[key.lower()]},{value}" if key.lower() in headers else value
            try:
                status, answer_headers, payload = gateway.handle(
                    self.command, self.path, headers, body, self.client_address[0]
                )
            except Exception as error:  # the handler itself crashed: API Gateway answers 500
                gateway._log(f"gateway: handler crashed: {type(error).__name__}")
                status, answer_headers, payload = _gateway_answer(500, "Internal Server Error")
            answer_headers = {**gateway.cors_answer_headers(headers), **answer_headers}
            self.send_response(status)
            for key, value in answer_headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has the headers of its body, never the body
                self.wfile.write(payload)
            elapsed = (time.perf_counter() - started) * 1000
            gateway._log(f"{self.command} {urlsplit(self.path).path} -> {status} ({elapsed:.0f} ms)")

        def __getattr__(self, name: str) -> Callable[[], None]:
            # http.server answers 501 for a method without a do_<METHOD>; API Gateway routes any method token (TRACE,
            # QUERY, PATCH, ...): to a path's ANY route (405 with Allow), or 404 for an unknown path.
            if name.startswith("do_") and _METHOD_TOKEN.fullmatch(name.removeprefix("do_")):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return GatewayRequestHandler
