"""Find a PostgreSQL server for the local stack and the tests, or start a private one.

Order (DEVELOPERS.md): DATABASE_URL when set; else a server on 127.0.0.1:5432 when one answers; else a private
cluster from the installed PostgreSQL binaries, run as the postgres user because the server refuses root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pg8000.native

from local.file_lock import exclusive

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PRIVATE_PORT = 54329


def find_or_start_postgres(state_dir: Path) -> str:
    """Return an admin URL (a database we may CREATE DATABASE from)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if _answers(DEFAULT_URL):
        return DEFAULT_URL
    return start_private_cluster(state_dir / "postgres", PRIVATE_PORT)


def create_database(admin_url: str, name: str, *, drop_first: bool = False) -> str:
    """Create `name` next to the admin database when it is missing; return its URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")
    with _connect(admin_url) as connection:
        if drop_first:
            connection.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not connection.run("SELECT 1 FROM pg_database WHERE datname = :name", name=name):
            connection.run(f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


RUNTIME_LOGIN = "whatsapp_runtime_local"
RUNTIME_PASSWORD = "local-runtime-password"


def runtime_login(owner_url: str) -> str:
    """A login role of whatsapp_runtime (the rights the migrations grant the functions), and the URL of the same
    database for it: the local stack runs the functions with exactly what they get when deployed."""
    # Roles belong to the cluster: stacks and test tiers starting side by side race on them, so a loser tries again.
    for attempt in range(5):
        try:
            with _connect(owner_url) as connection:
                exists = connection.run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=RUNTIME_LOGIN)
                verb = "ALTER" if exists else "CREATE"
                connection.run(f"{verb} ROLE {RUNTIME_LOGIN} LOGIN PASSWORD '{RUNTIME_PASSWORD}'")
                connection.run(f"GRANT whatsapp_runtime TO {RUNTIME_LOGIN}")
            break
        except pg8000.native.DatabaseError:
            if attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))
    parts = urlsplit(owner_url)
    netloc = f"{RUNTIME_LOGIN}:{RUNTIME_PASSWORD}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def drop_database(admin_url: str, name: str) -> None:
    with _connect(admin_url) as connection:
        connection.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class _Connection:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = pg8000.native.Connection(
            user=parts.username or "postgres",
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            database=parts.path.lstrip("/") or "postgres",
            password=parts.password,
            timeout=5,
        )

    def __enter__(self) -> pg8000.native.Connection:
        return self.connection

    def __exit__(self, *_: object) -> None:
        self.connection.close()


def _connect(url: str) -> _Connection:
    return _Connection(url)


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=1):
            pass
        with _connect(url) as connection:
            connection.run("SELECT 1")
        return True
    except Exception:
        return False


def _binaries() -> Path:
    found = shutil.which("initdb") or shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if not candidates:
        raise RuntimeError(
            "No PostgreSQL found: set DATABASE_URL, start a server on 127.0.0.1:5432, or install "
            "PostgreSQL (e.g. apt-get install postgresql)."
        )
    return candidates[0]


def _as_postgres_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def start_private_cluster(data_root: Path, port: int) -> str:
    """A cluster of our own under `data_root` (created on first use), listening on 127.0.0.1:`port`."""
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    if _answers(url):
        return url
    # Test tiers and benches start side by side: one of them creates and starts the cluster, the others wait for it
    with exclusive(data_root.parent / f"{data_root.name}.lock"):
        if _answers(url):
            return url
        return _initialise_and_start(data_root, port, url)


def _initialise_and_start(data_root: Path, port: int, url: str) -> str:
    binaries = _binaries()
    data_root.mkdir(parents=True, exist_ok=True)
    data = data_root / "data"
    if os.geteuid() == 0:
        shutil.chown(data_root, "postgres", "postgres")
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            _as_postgres_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
            check=True,
            capture_output=True,
        )
    subprocess.run(
        _as_postgres_user(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(data_root / "server.log"),
                "-w",
                "-o",
                f"-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not _answers(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the private PostgreSQL did not start; see {data_root / 'server.log'}")
        time.sleep(0.2)
    return url


def postgres_binaries_installed() -> bool:
    try:
        _binaries()
    except RuntimeError:
        return False
    return True


def restart_private_cluster(data_root: Path) -> None:
    """Fast restart: every open connection is dropped, as in a failover or a crash."""
    # The server inherits pg_ctl's output: with a pipe (capture_output) run() would wait for it forever.
    subprocess.run(
        _as_postgres_user(
            [
                str(_binaries() / "pg_ctl"),
                "-D",
                str(data_root / "data"),
                "-l",
                str(data_root / "server.log"),
                "-m",
                "fast",
                "-w",
                "restart",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_private_cluster(data_root: Path) -> None:
    data = data_root / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres_user([str(_binaries() / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            check=False,
            capture_output=True,
        )
