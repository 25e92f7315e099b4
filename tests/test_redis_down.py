"""Redis down: pages and the API keep working against the database, the jobs they could not queue
wait in the outbox (productops.jobs), the person is told, /healthz says so; when Redis is back
the drain queues them and a real worker runs them. Nothing is lost.

A private ``redis-server`` on a free port is the broker of this test (the shared one is never
touched): it is stopped and started again in the middle of the test.
"""

import socket
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.core.management import call_command

from contracts.models import Evaluation, ImportJob, Observation
from contracts.tests.evaluation_helpers import make_contract
from contracts.tests.factories import MetricContractFactory
from contracts.tests.test_ingest import make_row
from contracts.tests.test_ingest_csv import csv_bytes, good_lines, upload
from productops import jobs
from productops.celery import app
from productops.models import QueuedJob
from tests.test_worker_killed import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

NOTICE = "will run when the job service is back"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test only, that it stops and starts at will (same port)."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp_path / "redis.log"
        self.process = None

    def start(self):
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    pytest.fail(f"redis-server did not start: {self.log.read_text()[-1000:]}")
                time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def queue_length(self, queue: str) -> int:
        return redis.Redis(port=self.port).llen(queue)


def _forget_broker_connections():
    app._pool = None
    app.amqp._producer_pool = None
    jobs._broker_down_until = 0.0


@pytest.fixture
def broker(tmp_path, monkeypatch):
    """This process publishes to a private Redis on its own queue, as a web process would."""
    import shutil

    from conftest import missing_service

    if not shutil.which("redis-server"):
        missing_service("redis-server is not installed.")
    server = PrivateRedis(tmp_path)
    server.start()
    server.queue = f"test-redis-down-{uuid.uuid4().hex[:10]}"
    previous = app.conf.task_always_eager, app.conf.task_default_queue
    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    app.conf.task_always_eager, app.conf.task_default_queue = False, server.queue
    _forget_broker_connections()
    yield server
    server.stop()
    app.conf.task_always_eager, app.conf.task_default_queue = previous
    monkeypatch.undo()
    _forget_broker_connections()


def start_worker(broker, tmp_path) -> Worker:
    """A real worker on the private Redis and the test database."""
    from django.db import connection

    db = connection.settings_dict
    import os

    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_DEFAULT_QUEUE": broker.queue,
        "DEBUG": "true",
    }
    node = f"{broker.queue}@localhost"
    log_path = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "productops", "worker", "-Q", broker.queue, "-n", node]
    command += [
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Worker(process, node, log_path)


def ingest_body(contract):
    return [make_row(contract, cohort={"intent": "billing", "team": "north"}, value=0.2, numerator=100)]


def test_with_redis_down_writes_succeed_jobs_wait_and_run_when_it_is_back(
    broker, tmp_path, client, api_for, pm, capability
):
    api_contract = make_contract(capability, required_cuts=[])
    csv_contract = MetricContractFactory(capability=capability, cohort_dimensions=["intent", "team"])
    api = api_for(pm)
    client.force_login(pm)

    # Redis up: a write's job goes straight to the queue.
    response = api.post("/api/v1/observations/", ingest_body(api_contract), format="json")
    assert response.status_code in (200, 201) and "X-Jobs-Deferred" not in response.headers
    assert broker.queue_length(broker.queue) == 1 and not QueuedJob.objects.exists()

    broker.stop()

    # A page write (a CSV upload, whose import is a job) and an API write (an ingest, whose
    # evaluation is a job) succeed: the rows are in the database, the jobs in the outbox.
    response = upload(client, capability, csv_bytes(good_lines(csv_contract)))
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == "queued"
    page = client.get(response.url).content.decode()
    assert NOTICE in page  # the person is told, on the page they land on

    rows = [make_row(api_contract, period_start="2026-06-09", value=0.3, numerator=150)]
    response = api.post("/api/v1/observations/", rows, format="json")
    assert response.status_code in (200, 201)
    assert response.headers["X-Jobs-Deferred"] == "1"
    assert Observation.objects.filter(contract=api_contract).count() == 2

    # Reads keep working, and the health check tells the broker is down with two jobs waiting.
    assert client.get(api_contract.get_absolute_url()).status_code == 200
    assert api.get("/api/v1/observations/", {"contract": api_contract.metric_id}).status_code == 200
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (
        200,
        {"database": "ok", "broker": "down", "queued_jobs": 2},
    )
    waiting = list(QueuedJob.objects.values_list("task", "args", "kwargs"))
    assert waiting == [
        ("contracts.tasks.import_observations_file", [job.pk], {}),
        (
            "contracts.tasks.evaluate_contracts",
            [],
            {"contract_ids": [api_contract.pk], "since": "2026-06-09"},
        ),
    ]
    # Draining while it is still down keeps every job, and says why.
    out = _drain_command()
    assert "0 job(s) queued, 2 still waiting (job service: down)" in out
    assert QueuedJob.objects.count() == 2 and QueuedJob.objects.first().attempts == 2

    broker.start()  # back, empty: what was queued before it went down is gone with it
    assert "2 job(s) queued, 0 still waiting (job service: ok)" in _drain_command()
    assert not QueuedJob.objects.exists()
    assert broker.queue_length(broker.queue) == 2
    assert client.get("/healthz").json() == {"database": "ok", "broker": "ok", "queued_jobs": 0}

    worker = start_worker(broker, tmp_path)
    wait_until(
        lambda: ImportJob.objects.get().state == "done" and "evaluate_contract_task" in worker.log(),
        worker,
        what="the import and the evaluation",
    )
    job.refresh_from_db()
    assert (job.processed_rows, job.written_rows) == (20, 20)
    assert Observation.objects.filter(contract=csv_contract).count() == 20
    wait_until(
        lambda: f"'contract_id': {api_contract.pk}, 'skipped': ''" in worker.log(),
        worker,
        what="the evaluation of the ingested contract",
    )
    assert Evaluation.objects.filter(contract=api_contract).exists()
    worker.stop()


def _drain_command() -> str:
    import io

    out = io.StringIO()
    try:
        call_command("drain_job_outbox", stdout=out)
    except SystemExit:  # jobs still waiting: the command exits 1
        pass
    return out.getvalue()


def test_a_worker_that_starts_drains_the_outbox(broker, tmp_path, pm, capability):
    """The worker's start (often: the machine or Redis came back) queues what waited."""
    contract = make_contract(capability, required_cuts=[])
    QueuedJob.objects.create(
        task="contracts.tasks.evaluate_contracts", kwargs={"contract_ids": [contract.pk]}
    )
    worker = start_worker(broker, tmp_path)
    wait_until(lambda: not QueuedJob.objects.exists(), worker, what="the outbox drained")
    wait_until(
        lambda: f"'contract_id': {contract.pk}, 'skipped': ''" in worker.log(), worker, what="the evaluation"
    )
    worker.stop()


def test_without_a_broker_jobs_run_in_process_and_nothing_waits(pm, capability, settings):
    """The demo and a laptop: no broker, the job runs at once and the outbox stays empty."""
    from productops.tasks import drain_job_outbox

    assert jobs.enqueue(drain_job_outbox) is True
    assert jobs.broker_state() == "in-process" and not QueuedJob.objects.exists()


def test_the_outbox_is_drained_every_minute():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["productops-drain-job-outbox"]
    assert (entry["task"], entry["schedule"]) == ("productops.tasks.drain_job_outbox", 60.0)
