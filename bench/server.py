"""What the benchmarks share: the PostgreSQL database a bench works in, and, for those that drive
a real server, a free port on 127.0.0.1, gunicorn serving ProductOps there until /healthz
answers, and stopping it."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


class NotPostgres(ValueError):
    """DATABASE_URL does not name a PostgreSQL server (SQLite figures mean nothing)."""


def database_urls(bench_db: str, use_current: bool) -> tuple[str, str]:
    """(the server's maintenance URL, the URL the bench works in), from DATABASE_URL: its own
    database ``bench_db`` on the same server, or DATABASE_URL itself with ``use_current``."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        raise NotPostgres("PostgreSQL only: set DATABASE_URL=postgres://user@host:5432/name.")
    parts = urlsplit(url)
    maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    if use_current:
        return maintenance, url
    return maintenance, urlunsplit((parts.scheme, parts.netloc, f"/{bench_db}", parts.query, ""))


class ServerDidNotStart(RuntimeError):
    """gunicorn exited at start-up or did not answer /healthz in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(environment: dict, port: int, workers: int, threads: int = 1) -> subprocess.Popen:
    """gunicorn with ``workers`` processes (``threads`` each) on 127.0.0.1:``port``, once
    ``/healthz`` answers 200 (within 60 s)."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "productops.wsgi:application",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServerDidNotStart("gunicorn exited at start-up.")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            # A proxy in front of a production server says the request came over TLS.
            conn.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise ServerDidNotStart("gunicorn did not answer /healthz within 60 s.")


def wait_until_idle(port: int, seconds: float = 180) -> None:
    """Until the server answers /healthz in under a second: a load run's last requests are
    still queued in gunicorn after the load generator stops, and would slow the next run."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
            conn.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
            conn.getresponse().read()
        except OSError:
            pass
        if time.monotonic() - started < 1:
            return
    raise ServerDidNotStart(f"the server was still busy {seconds:.0f} s after the load stopped.")


def stop_server(server: subprocess.Popen | None) -> None:
    if server is not None and server.poll() is None:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
