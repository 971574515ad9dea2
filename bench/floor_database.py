"""The cold-start floors' database connection (bench/floor_*.py): pg8000 on DATABASE_URL, as the functions open
theirs locally. A floor imports nothing of the project and nothing else of the bench (bench/__init__.py is a
docstring), so this repeats bench/seed.connect's URL parsing."""

import os
from urllib.parse import unquote, urlsplit

import pg8000.native


def connect() -> pg8000.native.Connection:
    url = urlsplit(os.environ["DATABASE_URL"])
    return pg8000.native.Connection(
        user=unquote(url.username or ""),
        host=url.hostname or "",
        port=url.port or 5432,
        database=url.path.lstrip("/"),
        password=unquote(url.password) if url.password else None,
    )
