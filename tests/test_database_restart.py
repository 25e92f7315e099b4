"""PostgreSQL restarted during a load of requests (issue 9).

The machine's shared PostgreSQL is never touched: the test makes a private cluster with initdb
on a free port, migrates it, and serves ProductOps from it with gunicorn (DEBUG off, as a team
install). Four clients keep raising actions and ingesting observation batches through the API
while the cluster is stopped and started again. Then:

- every answer is a 2xx or a clean 503 saying the database is away, never a 500 nor a hang;
- every request sent once the cluster is back succeeds (stale connections are replaced);
- every request answered 2xx has all of its rows, every one that failed has none of them.

Skips on a laptop without PostgreSQL's server binaries; with PRODUCTOPS_REQUIRE_SERVICES=1 (CI)
a missing binary fails the run.
"""

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from conftest import missing_service
from tests.concurrency import CSRF_SECRET

BASE_DIR = Path(__file__).resolve().parent.parent
CLIENTS = 4
ROWS_PER_BATCH = 5
# Bounds of the load: it stops by itself whatever happens.
MAX_REQUESTS = 1_500
MAX_LOAD_SECONDS = 90
GAP_LOAD_SECONDS = 2.0  # how long the load runs against the stopped cluster
SUCCESSES_BEFORE = 20
SUCCESSES_AFTER = 30
TIMEOUT = 20  # a request without an answer by then is a hang
FAILURE_PAUSE = 0.05


def _postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateCluster:
    """A PostgreSQL cluster of the test's own, in a temporary folder, on a free port."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="productops-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                missing_service("Running as root and there is no postgres user to own a private cluster.")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True
        )

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.SubprocessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster():
    bin_dir = _postgres_bin()
    if bin_dir is None:
        missing_service(
            "No PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) for a private cluster."
        )
    cluster = PrivateCluster(bin_dir)
    try:
        cluster.init()
        cluster.start()
        with cluster.connect() as connection:
            connection.execute("CREATE DATABASE productops")
        yield cluster
    finally:
        cluster.remove()


# Made in the private database before the server starts: the people, the capability, a contract,
# and a signed-in session (printed as JSON for the test).
SETUP = """
import json
from django.test import Client
from contracts.tests.factories import MetricContractFactory
from portfolio.tests.factories import CapabilityFactory, RoleAssignmentFactory, UserFactory

capability = CapabilityFactory(name="Contact-centre agent assist", slug="cc-agent-assist")
pm = UserFactory(username="pm")
RoleAssignmentFactory(user=pm, role="ai_pm", capability=capability)
ops = UserFactory(username="ops")
RoleAssignmentFactory(user=ops, role="ops", capability=capability)
contract = MetricContractFactory(capability=capability, metric_id="cc.repeat_contact", cohort_dimensions=["intent"])
client = Client()
client.force_login(pm)
print(json.dumps({"session": client.cookies["sessionid"].value, "contract": contract.metric_id}))
"""


@pytest.fixture
def server(cluster, tmp_path):
    """ProductOps under gunicorn on the private cluster, DEBUG off; yields its URL and setup."""
    queue = f"test-restart-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url("productops"),
        "DEBUG": "false",
        "SECRET_KEY": "database-restart-test-key-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "PRODUCTOPS_VAR_DIR": str(tmp_path / "var"),
        # Tasks the requests queue go to a queue of this test's own, emptied at the end.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=BASE_DIR, timeout=300)
    made = subprocess.run(
        [*manage, "shell", "-c", SETUP],
        env=env,
        check=True,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    setup = json.loads(made.stdout.strip().splitlines()[-1])
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "productops.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
        ],
        env=env,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer within 60 s: {log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield {"url": url, "log": log_path, **setup}
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        _purge_queue(queue)


def _purge_queue(queue: str) -> None:
    """Leave nothing behind in the broker (the server queued notifications and evaluations)."""
    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        return
    from kombu import Connection

    try:
        with Connection(broker, connect_timeout=2) as connection:
            connection.default_channel.queue_purge(queue)
    except Exception:  # noqa: BLE001 - the queue may never have been declared
        pass


@dataclass
class Sent:
    """One write request of the load and what it got back."""

    kind: str  # "action" or "ingest"
    key: str  # written into the rows it creates, to find them afterwards
    sent_at: float
    status: int = 0
    answered_at: float = 0.0
    body: str = ""


@dataclass
class Load:
    """Clients writing through the API until told to stop (or a bound is reached)."""

    url: str
    session: str
    contract: str
    sent: list[Sent] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)

    def successes_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for s in self.sent if s.sent_at >= moment and 200 <= s.status < 300)

    def _request(self, http: requests.Session, number: int) -> Sent:
        key = f"load-{number:05d}"
        if number % 2:
            sent = Sent("action", key, time.monotonic())
            path, body = (
                "/api/v1/actions/",
                {
                    "capability": "cc-agent-assist",
                    "action": f"Check the billing article ({key})",
                    "owner": "ops",
                    "due_date": "2030-01-31",
                    "closure_criterion": "QA sample shows no outdated fee",
                },
            )
        else:
            sent = Sent("ingest", key, time.monotonic())
            # Each batch its own days (request number n writes days 5n .. 5n+4 from 2020-01-01).
            path, body = (
                "/api/v1/observations/",
                [
                    {
                        "contract": self.contract,
                        "period_start": _day(number * ROWS_PER_BATCH + offset),
                        "cohort": {"intent": "billing"},
                        "value": 0.1,
                        "sample_size": 100,
                        "source": key,
                    }
                    for offset in range(ROWS_PER_BATCH)
                ],
            )
        try:
            response = http.post(
                f"{self.url}{path}",
                json=body,
                cookies={"sessionid": self.session, "csrftoken": CSRF_SECRET},
                headers={"X-CSRFToken": CSRF_SECRET, "Accept": "application/json"},
                timeout=TIMEOUT,
            )
            sent.status, sent.body = response.status_code, response.text[:500]
        except requests.RequestException as error:
            sent.body = f"{type(error).__name__}: {error}"
        sent.answered_at = time.monotonic()
        return sent

    def client(self, numbers) -> None:
        with requests.Session() as http:  # keep-alive, as an integration would
            for number in numbers:
                if self.stop.is_set() or time.monotonic() - self.started > MAX_LOAD_SECONDS:
                    return
                sent = self._request(http, number)
                with self.lock:
                    self.sent.append(sent)
                if not 200 <= sent.status < 300:
                    time.sleep(FAILURE_PAUSE)  # a polite client does not hammer a server that said 503

    def run(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.client, args=(range(client, MAX_REQUESTS, CLIENTS),), daemon=True)
            for client in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        return threads


def _day(offset: int) -> str:
    import datetime

    return (datetime.date(2020, 1, 1) + datetime.timedelta(days=offset)).isoformat()


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_requests_fail_cleanly_while_postgresql_restarts_and_succeed_after(cluster, server):
    load = Load(server["url"], server["session"], server["contract"])
    threads = load.run()
    try:
        assert _wait_for(lambda: load.successes_since(0) >= SUCCESSES_BEFORE, 30), "no load before the stop"

        stopping = time.monotonic()
        cluster.stop("fast")  # terminates the sessions, as a restart or failover does
        down = time.monotonic()
        time.sleep(GAP_LOAD_SECONDS)
        # While it is away, a person gets a page saying so, and the health check says down.
        page = requests.get(
            f"{server['url']}/actions/", cookies={"sessionid": server["session"]}, timeout=TIMEOUT
        )
        health = requests.get(f"{server['url']}/healthz", timeout=TIMEOUT)
        cluster.start()
        up = time.monotonic()

        assert _wait_for(lambda: load.successes_since(up) >= SUCCESSES_AFTER, 30), (
            "no success after the restart"
        )
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(TIMEOUT + 5)

    sent = load.sent
    statuses = {}
    for s in sent:
        statuses[s.status] = statuses.get(s.status, 0) + 1
    failures = [s for s in sent if not 200 <= s.status < 300]
    log_tail = server["log"].read_text()[-3000:]

    # Clean failures only: 503 saying why. No 500, no connection error, no hang.
    assert set(statuses) <= {200, 201, 503}, (statuses, [(s.status, s.body) for s in failures][:5], log_tail)
    assert failures, "the load saw no failure: the stop was not observed"
    for failure in failures:
        assert json.loads(failure.body) == {
            "detail": "The database cannot be reached right now (it may be restarting). Nothing from this "
            "request was saved; try again in a few seconds.",
            "code": "database_unavailable",
        }
    assert page.status_code == 503 and "The database cannot be reached right now" in page.text
    assert page.headers["Retry-After"] == "5"
    assert (health.status_code, health.json()) == (503, {"database": "down"})
    # Failures only around the gap, and every request sent once the cluster was back succeeded.
    assert all(stopping <= s.answered_at for s in failures)
    assert all(200 <= s.status < 300 for s in sent if s.sent_at >= up)

    # Nothing half-written: a 2xx has every row it wrote (an action with its history and the
    # owner's notification; a batch with all its observations), a failure has none.
    with cluster.connect("productops") as connection:
        actions = dict(
            connection.execute(
                "SELECT substring(action from '\\((load-\\d+)\\)'), count(*) FROM actions_action GROUP BY 1"
            ).fetchall()
        )
        history = dict(
            connection.execute(
                "SELECT substring(action from '\\((load-\\d+)\\)'), count(*) FROM actions_historicalaction "
                "WHERE history_type = '+' GROUP BY 1"
            ).fetchall()
        )
        notified = {
            row[0]
            for row in connection.execute(
                "SELECT a.action FROM actions_action a JOIN productops_notification n ON n.url LIKE "
                "'%' || a.readable_id || '/'"
            ).fetchall()
        }
        observations = dict(
            connection.execute(
                "SELECT source, count(*) FROM contracts_observation GROUP BY source"
            ).fetchall()
        )
    for s in sent:
        ok = 200 <= s.status < 300
        if s.kind == "action":
            expected = 1 if ok else 0
            assert (actions.get(s.key, 0), history.get(s.key, 0)) == (expected, expected), s
        else:
            assert observations.get(s.key, 0) == (ROWS_PER_BATCH if ok else 0), s
    assert len(notified) == sum(1 for s in sent if s.kind == "action" and 200 <= s.status < 300)
    assert sum(actions.values()) == sum(1 for s in sent if s.kind == "action" and 200 <= s.status < 300)

    failed_at = [s.answered_at for s in failures]
    print(
        f"\nPostgreSQL restart under load: {len(sent)} requests sent by {CLIENTS} clients, "
        f"{len(sent) - len(failures)} answered 2xx, {len(failures)} failed cleanly with 503 "
        f"(no 500, no hang); cluster away {up - stopping:.1f} s (stop {down - stopping:.1f} s, "
        f"down {up - down:.1f} s), failures seen over {max(failed_at) - min(failed_at):.1f} s; "
        f"{load.successes_since(up)} succeeded after the restart, all requests sent after it 2xx; "
        f"half-written rows: 0"
    )
