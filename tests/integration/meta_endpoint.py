"""A stand-in for a webhook endpoint that Meta (here: the Graph API simulator) calls, for the simulator tests.

It answers Meta's verification GET the way a correct endpoint does (200 + the challenge when ``hub.mode`` and
``hub.verify_token`` match, 403 otherwise) unless told to misbehave, and records every request with its raw bytes.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)


class MetaEndpoint:
    """Answers handshakes for ``verify_token``; ``get_status``/``get_body``/``get_delay`` make the GET misbehave
    (a status other than the echo, a body other than the challenge, a slow answer); ``post_status`` is the answer
    to POSTs."""

    def __init__(self, verify_token: str) -> None:
        self.verify_token = verify_token
        self.get_status: int | None = None
        self.get_body: bytes | None = None
        self.get_delay = 0.0
        self.post_status = 200
        self.hits: list[Hit] = []
        self._condition = threading.Condition()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                query = endpoint._record(self, b"")
                time.sleep(endpoint.get_delay)
                status, body = endpoint._handshake_answer(query)
                self._answer(status, body, "text/plain")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                endpoint._record(self, raw)
                self._answer(endpoint.post_status, b'{"ok":true}', "application/json")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the caller timed out and left
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/meta/webhook"

    @property
    def gets(self) -> list[Hit]:
        with self._condition:
            return [hit for hit in self.hits if hit.method == "GET"]

    @property
    def posts(self) -> list[Hit]:
        with self._condition:
            return [hit for hit in self.hits if hit.method == "POST"]

    def wait_for_posts(self, count: int, timeout: float = 5.0) -> list[Hit]:
        with self._condition:
            self._condition.wait_for(lambda: sum(hit.method == "POST" for hit in self.hits) >= count, timeout)
        return self.posts

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, handler: BaseHTTPRequestHandler, raw: bytes) -> dict[str, str]:
        split = urlsplit(handler.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._condition:
            self.hits.append(Hit(handler.command, split.path, query, headers, raw))
            self._condition.notify_all()
        return query

    def _handshake_answer(self, query: dict[str, str]) -> tuple[int, bytes]:
        matches = query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == self.verify_token
        status = self.get_status if self.get_status is not None else (200 if matches else 403)
        if self.get_body is not None:
            return status, self.get_body
        return status, query.get("hub.challenge", "").encode() if matches else b"Forbidden"
