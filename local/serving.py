"""Loopback HTTP servers of the local stack, the simulators and the benches, each served from a daemon thread."""

from __future__ import annotations

import socketserver
import threading
from functools import partial

# How soon serve_forever notices shutdown(): socketserver's default of 0.5 s is paid by every stop, and the benches
# and test tiers start and stop these servers many times a run.
SHUTDOWN_POLL_SECONDS = 0.05


def serve_in_thread(server: socketserver.BaseServer, name: str) -> threading.Thread:
    thread = threading.Thread(
        target=partial(server.serve_forever, poll_interval=SHUTDOWN_POLL_SECONDS), name=name, daemon=True
    )
    thread.start()
    return thread
