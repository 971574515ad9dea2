"""Serves the built /integrations page (frontend/dist) for the local stack, the way CloudFront serves it deployed,
plus what only the local stack has: config.json pointing at the local API, a token endpoint for the page's tenant
picker (development JWTs), and the docs the page links to."""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.dev_tokens import READ_SCOPES, WRITE_SCOPES, DevTokens
from local.serving import serve_in_thread

PAGE_PATH = "/integrations"
TOKEN_PATH = "/__local__/token"
DEV_TENANTS = ["tenant-demo", "tenant-acme", "tenant-globex"]
_TENANT = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_MAX_TOKEN_REQUEST_BYTES = 1024


class PageServer:
    def __init__(
        self,
        dist_dir: Path,
        docs_dir: Path,
        tokens: DevTokens,
        *,
        host: str = "127.0.0.1",
        port: int = 3005,
        log: Callable[[str], None] = print,
    ) -> None:
        self.dist_dir = dist_dir
        self.docs_dir = docs_dir
        self.tokens = tokens
        self.api_url = ""  # set once the gateway has its address
        self._log = log
        self._server = ThreadingHTTPServer((host, port), _request_handler(self))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def origins(self) -> list[str]:
        """The browser origins of the page: CORS of the local API allows exactly these."""
        port = self._server.server_address[1]
        return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]

    def start(self) -> PageServer:
        serve_in_thread(self._server, "page")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def config(self) -> dict[str, Any]:
        return {
            "apiBaseUrl": self.api_url,
            "devTokenUrl": TOKEN_PATH,
            "devTenants": DEV_TENANTS,
            "docsBaseUrl": "/docs/",
        }

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if path in (PAGE_PATH, f"{PAGE_PATH}/", f"{PAGE_PATH}/index.html"):
            index = self.dist_dir / "index.html"
            if not index.is_file():
                return _text(503, "The page is not built: `make dev` builds it (or: make frontend-build).")
            return 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}, index.read_bytes()
        if path == f"{PAGE_PATH}/config.json":
            return _json(self.config())
        if path.startswith(f"{PAGE_PATH}/"):
            return _file(self.dist_dir, path.removeprefix(f"{PAGE_PATH}/"), "public, max-age=31536000, immutable")
        if path.startswith("/docs/"):
            return _file(self.docs_dir, path.removeprefix("/docs/"), "no-cache", markdown_as_text=True)
        return _text(404, "Not found. The page is at /integrations.")

    def mint(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            request = json.loads(body or b"{}")
            tenant = str(request.get("tenant") or "")
            read_only = bool(request.get("read_only"))
        except (ValueError, AttributeError):
            return _text(400, 'Send JSON: {"tenant": "tenant-demo"}')
        if not _TENANT.fullmatch(tenant):
            return _text(400, "tenant: 1-64 letters, digits, '.', '_' or '-'")
        ttl = 3600
        scopes = READ_SCOPES if read_only else WRITE_SCOPES
        token = self.tokens.issue(tenant, "page-user", ttl_seconds=ttl, scopes=scopes)
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": ttl})


def _json(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(body).encode()


def _file(
    root: Path, relative: str, cache_control: str, *, markdown_as_text: bool = False
) -> tuple[int, dict[str, str], bytes]:
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return _text(404, "Not found.")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if markdown_as_text and target.suffix == ".md":
        content_type = "text/plain"
    if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
        content_type += "; charset=utf-8"
    return 200, {"Content-Type": content_type, "Cache-Control": cache_control}, target.read_bytes()


def _text(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "text/plain; charset=utf-8"}, message.encode()


def _request_handler(page: PageServer) -> type[BaseHTTPRequestHandler]:
    class PageRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for key, value in {**headers, "X-Content-Type-Options": "nosniff"}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer(*page.get(urlsplit(self.path).path))

        do_HEAD = do_GET

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > _MAX_TOKEN_REQUEST_BYTES:
                self.close_connection = True  # the body stays unread
                self._answer(*_text(413, "Too large."))
                return
            body = self.rfile.read(length)
            if urlsplit(self.path).path != TOKEN_PATH:
                self._answer(*_text(404, "Not found."))
            else:
                self._answer(*page.mint(body))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return PageRequestHandler
