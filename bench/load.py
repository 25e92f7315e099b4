"""Load benchmark (issue 9): the weekly ops board and the ingest endpoint under 20 concurrent
users for 60 s each, against gunicorn on 127.0.0.1, on the demo scaled to 1,000,000
observations. Not a test: ``make bench-load``.

PostgreSQL only. It works in a database of its own (``productops_bench_load``), seeded once with
``seed_demo --scale`` and kept between runs (seeding a million observations takes minutes; a
second ``seed_demo`` writes nothing). ``--fresh`` drops and seeds it again; ``--use-current-db``
reads DATABASE_URL as it is (an already seeded demo). Redis is needed: each ingest request
queues the evaluation of what it wrote, and the queue here is one nobody consumes (purged after),
so the figures are the server's, not the evaluation's.

The server runs as in production: DEBUG off, static files collected, gunicorn with two sync
workers per CPU. locust (headless, ``bench/locustfile.py``) drives it. Each board reader has a
session of its own, made beforehand (twenty password checks at once would measure the password
hasher, not the board); the pipelines send a write API token of ``pm``. Three runs, one after the
other:

    load_healthz_*   GET /healthz (one SELECT 1): the floor, what the server and this machine
                     do at best with 20 users
    load_weekly_*    GET /boards/weekly/ as ``exec`` (the whole scaled portfolio)
    load_ingest_*    POST /api/v1/observations/, batches of 500 rows of one contract; all users
                     draw from the same 20 batches, so rows are sent again and again (the
                     idempotent upsert under concurrency)

For each: ``_rps`` requests per second, ``_p50_ms`` and ``_p99_ms`` response times, ``_errors``
(failed requests: must be 0; the run exits 1 otherwise) and ``_requests``.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
     .venv/bin/python bench/load.py [--seconds 60] [--users 20] [--scale 1000000] [--fresh]
"""

import argparse
import contextlib
import csv
import datetime
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from server import (
    ROOT,
    NotPostgres,
    ServerDidNotStart,
    database_urls,
    free_port,
    start_gunicorn,
    stop_server,
    wait_until_idle,
)

BENCH_DB = "productops_bench_load"
SCALE = 1_000_000
USERS = 20
SECONDS = 60
FLOOR_SECONDS = 20
READER = "exec"
PIPELINE_OWNER = "pm"
BOARD_PATH = "/boards/weekly/"
INGEST_CONTRACT = "cc_agent_assist.repeat_contact_7d"
BATCHES = 20
BATCH_ROWS = 500


def refuse(message: str) -> None:
    print(f"bench/load.py: {message}", file=sys.stderr)
    sys.exit(2)


def bench_database_urls(use_current: bool) -> tuple[str, str]:
    try:
        return database_urls(BENCH_DB, use_current)
    except NotPostgres as error:
        refuse(str(error))


def ensure_database(maintenance_url: str, fresh: bool) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        if fresh:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")


def broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        refuse("needs Redis (CELERY_BROKER_URL=redis://...): ingest queues an evaluation per request.")
    return url


def server_environment(database_url: str, broker: str, queue: str, static_root: str, media: str) -> dict:
    """Production settings, on plain HTTP behind a proxy that says it terminated TLS."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "productops.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "load-bench-only-key-" + "x" * 40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": "dummymail://localhost",
        "STATIC_ROOT": static_root,
        "MEDIA_ROOT": media,
        "LOG_LEVEL": "WARNING",
    }


def setup_django(environment: dict) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(environment)
    import django

    django.setup()


def seed(scale: int) -> float:
    """The scaled demo (nothing new when it is already there); the seconds it took."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        call_command("seed_demo", "--force", "--scale", str(scale), stdout=sys.stderr)
    return time.perf_counter() - started


def signed_in_sessions(username: str, count: int) -> list[str]:
    """``count`` session keys of ``username``, as /login/ would leave them after a sign-in."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

    person = get_user_model().objects.get(username=username)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for _ in range(count):
        session = store()
        session[SESSION_KEY] = person._meta.pk.value_to_string(person)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = person.get_session_auth_hash()
        session.save()
        keys.append(session.session_key)
    return keys


def pipeline_token(username: str):
    """A new write API token of ``username``: (the token, the raw secret). Revoked at the end."""
    from django.contrib.auth import get_user_model

    from productops.tokens import token_create

    person = get_user_model().objects.get(username=username)
    return token_create(user=person, name=f"bench-load {uuid.uuid4().hex[:6]}", scope="write")


def batches_file(directory: str) -> str:
    """BATCHES batches of BATCH_ROWS rows of the ingest contract, over its declared cohort
    dimensions and the last weeks' days, written as JSON; the path."""
    from contracts.models import MetricContract

    contract = MetricContract.objects.get(metric_id=INGEST_CONTRACT)
    dimensions = list(contract.cohort_dimensions)[:2] or ["intent"]
    values = [f"load_{n}" for n in range(5)]
    cohorts = [
        dict(zip(dimensions, combo, strict=True))
        for combo in itertools.product(values, repeat=len(dimensions))
    ]
    today = datetime.date.today()
    rows = []
    for number in range(BATCHES * BATCH_ROWS):
        denominator = 400 + number % 200
        numerator = 30 + number % 37
        rows.append(
            {
                "contract": INGEST_CONTRACT,
                "period_start": (
                    today - datetime.timedelta(days=1 + number // len(cohorts) % 365)
                ).isoformat(),
                "grain": "day",
                "cohort": cohorts[number % len(cohorts)],
                "version_set": {"prompt": "load", "model": "load"},
                "value": numerator / denominator,
                "numerator": numerator,
                "denominator": denominator,
                "sample_size": denominator,
                "source": "bench-load",
            }
        )
    path = Path(directory) / "batches.json"
    path.write_text(json.dumps([rows[i : i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]))
    return str(path)


def collect_static(environment: dict) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )


def run_locust(user_class: str, port: int, users: int, seconds: int, environment: dict, out: str) -> dict:
    """One headless locust run of ``user_class``; its figures from locust's stats CSV."""
    prefix = str(Path(out) / user_class)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        prefix,
        "--only-summary",
        "--loglevel",
        "WARNING",
        user_class,
    ]
    subprocess.run(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, check=False)
    try:
        with open(f"{prefix}_stats.csv", newline="") as stats:
            (row,) = [row for row in csv.DictReader(stats) if row["Name"] == "Aggregated"]
    except (OSError, ValueError):
        refuse(f"locust wrote no figures for {user_class} (see its output above).")
    if not int(row["Request Count"]):
        refuse(f"no {user_class} request completed in {seconds} s.")
    return {
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p99_ms": float(row["99%"]),
        "errors": int(row["Failure Count"]),
        "requests": int(row["Request Count"]),
    }


def purge_queue(broker: str, queue: str) -> None:
    from celery import Celery

    with Celery(broker=broker).connection_for_write() as conn:
        with contextlib.suppress(Exception):
            conn.default_channel.queue_purge(queue)


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--use-current-db", action="store_true", help="read DATABASE_URL as it is")
    parser.add_argument("--fresh", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--scale", type=int, default=SCALE, help="observations in the seeded demo")
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--seconds", type=int, default=SECONDS)
    args = parser.parse_args(argv)

    maintenance_url, url = bench_database_urls(args.use_current_db)
    broker = broker_url()
    queue = f"bench_load_{uuid.uuid4().hex[:8]}"
    if not args.use_current_db:
        ensure_database(maintenance_url, args.fresh)
    work = tempfile.TemporaryDirectory(prefix="bench_load_")
    static_root = Path(work.name) / "static"
    media = Path(work.name) / "media"
    environment = server_environment(url, broker, queue, str(static_root), str(media))
    setup_django(environment)
    print(f"seed_s {seed(args.scale):.1f} s")
    from contracts.models import Observation
    from productops.tokens import token_revoke

    print(f"load_observations {Observation.objects.count()} rows")
    token, raw_token = pipeline_token(PIPELINE_OWNER)
    load_environment = {
        **environment,
        "LOAD_SESSIONS": ",".join(signed_in_sessions(READER, args.users)),
        "LOAD_TOKEN": raw_token,
        "LOAD_BOARD_PATH": BOARD_PATH,
        "LOAD_BATCHES": batches_file(work.name),
    }
    collect_static(environment)
    workers = 2 * (os.cpu_count() or 1)
    print(f"load_server_workers {workers} processes")
    port = free_port()
    server = None
    failed = False
    try:
        server = start_gunicorn(environment, port, workers)
        runs = (
            ("healthz", "HealthProbe", FLOOR_SECONDS),
            ("weekly", "BoardReader", args.seconds),
            ("ingest", "TelemetryPipeline", args.seconds),
        )
        for name, user_class, seconds in runs:
            wait_until_idle(port)
            figures = run_locust(user_class, port, args.users, seconds, load_environment, work.name)
            for key, unit in (
                ("rps", "req/s"),
                ("p50_ms", "ms"),
                ("p99_ms", "ms"),
                ("errors", "requests"),
                ("requests", "requests"),
            ):
                value = figures[key]
                print(
                    f"load_{name}_{key} {value:.1f} {unit}"
                    if isinstance(value, float)
                    else f"load_{name}_{key} {value} {unit}"
                )
            sys.stdout.flush()
            failed = failed or figures["errors"] > 0
    except ServerDidNotStart as error:
        refuse(str(error))
    finally:
        stop_server(server)
        purge_queue(broker, queue)
        token_revoke(token=token, by=token.user)
        work.cleanup()
    if failed:
        print("bench/load.py: some requests failed (the goal is 0 errors)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
