"""SQS's SendMessageBatch for the fan-out bench: each call waits a fixed latency (what one costs from Lambda, 10 to
20 ms), then succeeds, and what it was sent is kept for the bench to check. It runs in a process of its own
(`python -m bench.sqs_stub LATENCY_MS` prints its port), so its work never competes with the code under test for
the GIL, as real SQS would not.

GET /stats answers {"calls", "entries", "distinct_bodies", "delays": {seconds: messages}}; POST /reset clears them.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Sent:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls = 0
            self.entries = 0
            self.bodies: set[str] = set()
            self.delays: Counter[int] = Counter()

    def add(self, entries: list[dict[str, Any]]) -> None:
        with self._lock:
            self.calls += 1
            self.entries += len(entries)
            self.bodies.update(entry["MessageBody"] for entry in entries)
            self.delays.update(int(entry.get("DelaySeconds", 0)) for entry in entries)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self.calls,
                "entries": self.entries,
                "distinct_bodies": len(self.bodies),
                "delays": {str(delay): count for delay, count in sorted(self.delays.items())},
            }


def serve(latency_seconds: float) -> None:
    sent = Sent()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out apart: keep-alive clients would wait ~40 ms for each

        def do_GET(self) -> None:
            self._answer(200, sent.stats())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/reset":
                sent.reset()
                self._answer(200, {})
                return
            if self.headers.get("X-Amz-Target") != "AmazonSQS.SendMessageBatch":
                self._answer(400, {"__type": "InvalidAction", "message": "only SendMessageBatch is stubbed"})
                return
            entries = json.loads(body)["Entries"]
            time.sleep(latency_seconds)
            sent.add(entries)
            successful = [
                {
                    "Id": entry["Id"],
                    "MessageId": str(uuid.uuid4()),
                    "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),  # noqa: S324
                }
                for entry in entries
            ]
            self._answer(200, {"Successful": successful, "Failed": []})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(float(sys.argv[1]) / 1000)
