"""Benchmark: ingesting 1,000,000 observations through the real HTTP endpoint, next to a raw COPY
of the same rows into a table of the same shape, in the same run.

PostgreSQL only (the figures mean nothing on SQLite). It works in its own throw-away database
(``productops_bench_ingest`` on the server of DATABASE_URL): created, migrated, seeded with one
capability, 20 contracts with cohort dimensions and one AI PM, and dropped at the end.

The ingest side starts gunicorn (2 workers) on 127.0.0.1 and a free port, logs in through
/login/ with the standard library (session cookie and CSRF token, as a browser would), and posts
batches of 5,000 rows to /api/v1/observations/ from 2 client threads until every row is in. The
request bodies are encoded before the clock starts (the pipeline's cost, not the server's). The
evaluation that ingest queues goes to a Redis queue of its own, purged at the end: this measures
ingest, not evaluation.

The floor is ``COPY`` of the same rows, already formatted as COPY text, into
``bench_copy (LIKE contracts_observation INCLUDING ALL)`` (same columns, same indexes), in one
transaction. Prints ``name value unit`` lines:

    ingest_rows_per_s   rows a second through HTTP, validation and upsert
    copy_rows_per_s     rows a second of the raw COPY
    ingest_vs_copy      the ratio (goal: >= 0.25)

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ingest.py
(``BENCH_INGEST_ROWS`` runs a smaller volume while working on the code.)
"""

import datetime
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from server import ServerDidNotStart, free_port, start_gunicorn, stop_server

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "productops_bench_ingest"
ROWS = int(os.environ.get("BENCH_INGEST_ROWS", "1000000"))
BATCH = 5_000
SERVER_WORKERS = 2
CLIENT_THREADS = 2
CONTRACTS = 20
INTENTS = ["billing", "cards", "fraud", "loans", "address_change", "complaints", "savings", "mortgage"]
TEAMS = ["north", "south", "east", "west", "central"]
VERSION_SET = {"model": "m-2026-05", "prompt": "v12"}
FIRST_DAY = datetime.date(2024, 1, 1)
USERNAME, PASSWORD = "bench-pm", "bench-password-not-secret"


def refuse(message: str) -> None:
    print(f"bench/ingest.py: {message}", file=sys.stderr)
    sys.exit(2)


def bench_database_url() -> tuple[str, str]:
    """(the server's maintenance URL, the bench database's URL), from DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        refuse(
            "PostgreSQL only: set DATABASE_URL=postgres://user@host:5432/name (SQLite figures mean nothing)."
        )
    parts = urlsplit(url)
    maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    bench = urlunsplit((parts.scheme, parts.netloc, f"/{BENCH_DB}", parts.query, ""))
    return maintenance, bench


def recreate_database(maintenance_url: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")


def broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        url = "redis://127.0.0.1:6379/0"
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2).close()
    except OSError:
        refuse(
            f"needs Redis at {url} (CELERY_BROKER_URL): without a broker the evaluation queued by each "
            "request would run inside it, and this would measure evaluation, not ingest."
        )
    return url


def server_environment(bench_url: str, broker: str, queue: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "productops.settings"),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": "dummymail://localhost",
        "LOG_LEVEL": "WARNING",
        # DEBUG stays as set (on by default) so the login page renders without collectstatic;
        # its only cost on this path is recording the handful of statements of each request.
    }


def setup_django(environment: dict) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(environment)
    import django

    django.setup()


def seed() -> list[str]:
    """One capability, 20 contracts declaring intent and team, one AI PM. Returns the metric ids."""
    from django.core.management import call_command

    from contracts.models import MetricContract
    from portfolio.models import Capability
    from productops.models import RoleAssignment, User

    call_command("migrate", verbosity=0, interactive=False)
    capability = Capability.objects.create(
        name="Contact-centre agent assist",
        slug="cc-agent-assist",
        workflow="Live billing calls",
        target_users="Contact-centre agents",
        risk_tier="medium",
        lifecycle_status="production",
    )
    metric_ids = []
    for number in range(CONTRACTS):
        contract = MetricContract.objects.create(
            metric_id=f"cc_agent_assist.metric_{number:02d}",
            name=f"Metric {number}",
            capability=capability,
            category="outcome",
            business_question="Did agent assist reduce repeat contact?",
            numerator="Customers contacting again within 7 days",
            denominator="Assisted calls",
            unit="%",
            direction="lower",
            target=10,
            warning=12,
            breach=15,
            evidence_level="E3",
            status="active",
            cohort_dimensions=["intent", "team"],
            required_cuts=["intent"],
        )
        metric_ids.append(contract.metric_id)
    person = User.objects.create_user(USERNAME, password=PASSWORD)
    RoleAssignment.objects.create(user=person, role="ai_pm", capability=capability)
    return metric_ids


def generate(metric_ids: list[str], contract_ids: dict[str, int], now_text: str):
    """The request bodies (JSON, 5,000 rows each) and the same rows as COPY text lines."""
    cohorts = [(intent, team) for intent in INTENTS for team in TEAMS]
    version_json = json.dumps(VERSION_SET, sort_keys=True)
    version_key = "|".join(f"{key}={value}" for key, value in sorted(VERSION_SET.items()))
    bodies, copy_blocks = [], []
    rows, lines = [], []
    for number in range(ROWS):
        metric = metric_ids[number % CONTRACTS]
        rest = number // CONTRACTS
        intent, team = cohorts[rest % len(cohorts)]
        day = (FIRST_DAY + datetime.timedelta(days=rest // len(cohorts))).isoformat()
        denominator = 400 + number % 200
        numerator = 30 + number % 37
        value = numerator / denominator
        rows.append(
            {
                "contract": metric,
                "period_start": day,
                "grain": "day",
                "cohort": {"intent": intent, "team": team},
                "version_set": VERSION_SET,
                "value": value,
                "numerator": numerator,
                "denominator": denominator,
                "sample_size": denominator,
                "source": "bench",
            }
        )
        cohort_json = json.dumps({"intent": intent, "team": team}, sort_keys=True)
        lines.append(
            f"{contract_ids[metric]}\tday\t{day}\t{cohort_json}\tintent={intent}|team={team}\t{version_json}\t"
            f"{version_key}\t{value!r}\t{numerator}\t{denominator}\t{denominator}\tbench\t{now_text}\n"
        )
        if len(rows) == BATCH:
            bodies.append(json.dumps(rows).encode())
            copy_blocks.append("".join(lines).encode())
            rows, lines = [], []
    if rows:
        bodies.append(json.dumps(rows).encode())
        copy_blocks.append("".join(lines).encode())
    return bodies, copy_blocks


def start_server(environment: dict, port: int):
    try:
        return start_gunicorn(environment, port, SERVER_WORKERS)
    except ServerDidNotStart as error:
        refuse(str(error))


class Session:
    """Cookies of one signed-in person, kept by hand (the standard library has no cookie jar for
    http.client)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def _keep(self, response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _sep, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def log_in(self, username: str, password: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/login/")
        response = conn.getresponse()
        page = response.read().decode()
        self._keep(response)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if response.status != 200 or not token:
            refuse(f"GET /login/ answered {response.status} without a CSRF token.")
        body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)})
        conn.request(
            "POST",
            "/login/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie_header()},
        )
        response = conn.getresponse()
        response.read()
        self._keep(response)
        if response.status != 302 or "sessionid" not in self.cookies:
            refuse(f"logging in through /login/ failed ({response.status}).")
        conn.close()


def send_all(session: Session, bodies: list[bytes]) -> tuple[float, int]:
    """POST every body from CLIENT_THREADS threads; (seconds, rows written)."""
    headers = {
        "Content-Type": "application/json",
        "Cookie": session.cookie_header(),
        "X-CSRFToken": session.cookies["csrftoken"],
    }
    lock = threading.Lock()
    pending = list(reversed(bodies))
    written = [0]
    failures: list[str] = []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", session.port, timeout=300)
        while True:
            with lock:
                if not pending or failures:
                    break
                body = pending.pop()
            conn.request("POST", "/api/v1/observations/", body, headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status != 200:
                with lock:
                    failures.append(f"{response.status}: {answer[:500]!r}")
                break
            with lock:
                written[0] += json.loads(answer)["written"]
        conn.close()

    # Warm both workers up (imports, first connection) outside the clock: an empty batch is valid.
    for _attempt in range(2 * SERVER_WORKERS):
        conn = http.client.HTTPConnection("127.0.0.1", session.port, timeout=60)
        conn.request("POST", "/api/v1/observations/", b"[]", headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status == 404:
            refuse("/api/v1/observations/ answers 404: productops/urls.py does not mount contracts.api.urls.")
        if response.status != 200:
            refuse(f"the warm-up request answered {response.status}.")

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        refuse(f"a batch was refused: {failures[0]}")
    return seconds, written[0]


def copy_floor(bench_url: str, copy_blocks: list[bytes]) -> float:
    """Seconds to COPY the same rows into a table shaped like contracts_observation."""
    import psycopg

    columns = (
        "contract_id, grain, period_start, cohort, cohort_key, version_set, version_key, value, "
        "numerator, denominator, sample_size, source, ingested_at"
    )
    with psycopg.connect(bench_url.replace("postgres://", "postgresql://", 1)) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE contracts_observation INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY bench_copy ({columns}) FROM STDIN") as copy:
            for block in copy_blocks:
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        copied = conn.execute("SELECT count(*) FROM bench_copy").fetchone()[0]
    if copied != ROWS:
        refuse(f"COPY loaded {copied} rows, not {ROWS}.")
    return seconds


def purge_queue(broker: str, queue: str) -> None:
    """Drop the evaluation messages queued during the run, and the queue's kombu bindings."""
    try:
        import redis

        client = redis.Redis.from_url(broker)
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()
    except Exception as error:  # a benchmark leaves a note, not a traceback, for leftovers
        print(f"bench/ingest.py: could not purge the Redis queue {queue}: {error}", file=sys.stderr)


def main() -> None:
    maintenance, bench_url = bench_database_url()
    broker = broker_url()
    queue = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    environment = server_environment(bench_url, broker, queue)
    recreate_database(maintenance)
    server = None
    try:
        setup_django(environment)
        from django.db import connection
        from django.utils import timezone

        from contracts.models import MetricContract, Observation

        metric_ids = seed()
        contract_ids = dict(MetricContract.objects.values_list("metric_id", "id"))
        bodies, copy_blocks = generate(metric_ids, contract_ids, timezone.now().isoformat())
        connection.close()

        port = free_port()
        server = start_server(environment, port)
        session = Session(port)
        session.log_in(USERNAME, PASSWORD)
        ingest_seconds, written = send_all(session, bodies)
        stop_server(server)
        server = None

        stored = Observation.objects.count()
        connection.close()
        if written != ROWS or stored != ROWS:
            refuse(f"ingest wrote {written} rows and the table holds {stored}, not {ROWS}.")
        copy_seconds = copy_floor(bench_url, copy_blocks)
    finally:
        stop_server(server)
        purge_queue(broker, queue)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        recreate_database(maintenance, drop_only=True)

    ingest_rate = ROWS / ingest_seconds
    copy_rate = ROWS / copy_seconds
    print(
        f"# {ROWS:,} rows in batches of {BATCH:,}: ingest {ingest_seconds:.1f} s "
        f"({SERVER_WORKERS} gunicorn workers, {CLIENT_THREADS} client threads), COPY {copy_seconds:.1f} s; "
        f"{os.cpu_count()} CPUs",
        file=sys.stderr,
        flush=True,
    )
    print(f"ingest_rows_per_s {ingest_rate:.0f} rows/s")
    print(f"copy_rows_per_s {copy_rate:.0f} rows/s")
    print(f"ingest_vs_copy {ingest_rate / copy_rate:.2f} ratio")


if __name__ == "__main__":
    main()
