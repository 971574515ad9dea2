"""One process at a time: the lock file that test tiers and benches running side by side take before they build or
write something they share (the private PostgreSQL cluster, the local layer, the deployed packages, results.json)."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Held until the block ends; another process asking for the same file waits. The folder is made if missing."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
