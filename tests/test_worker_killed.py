"""A worker killed with SIGKILL in the middle of a job (the machine or container dies): the broker
hands the task out again after the visibility timeout, another worker runs it to the end, and
its effects happen once — the threshold evaluation opens one action and tells its owner once,
the pack job e-mails each attendee once.

Real processes against PostgreSQL and Redis: a ``celery worker`` started by
``tests.worker_faults`` stops dead at a known point of the task; the test kills its whole
process group (main process and pool child, so nothing can hand the task back), starts a fresh
worker on the same queue and waits. The workers run with a 3 s visibility timeout and look for
abandoned tasks every second (production: 900 s and 10 s). Each test prints how long the
redelivery took, from the kill to the new worker receiving the task.
"""

import datetime
import email
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection

from actions.models import Action
from contracts.models import Signal
from contracts.tasks import evaluate_contract_task
from contracts.tests.evaluation_helpers import make_contract, weekly
from forums import charts_static
from forums.choices import DeliveryStatus
from forums.models import PackDelivery, ReviewPack
from forums.pack_delivery import pack_send
from forums.tasks import send_pack_delivery
from forums.tests.test_pack_worker import due_session  # noqa: F401 (a fixture)
from productops.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)

VISIBILITY_TIMEOUT = 3


@pytest.fixture(autouse=True, scope="module")
def _kaleido_session():
    yield
    charts_static.stop()


class Worker:
    """One ``celery worker`` process group on the test's queue, logging to its own file."""

    def __init__(self, process, node, log_path):
        self.process, self.node, self.log_path = process, node, log_path

    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL the main process and its pool children at once: no one acknowledges,
        rejects or requeues the task they held."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@pytest.fixture
def workers(transactional_db, tmp_path):
    """start(pause_at=None) -> a Worker on this test's queue; with ``pause_at``
    ("module:function") the worker hangs when the task calls that function and ``paused``
    (a file) appears. Every worker writes its e-mails to ``workers.mail_dir``."""
    from django.conf import settings

    from conftest import missing_service
    from productops.celery import app

    if not settings.CELERY_BROKER_URL:
        missing_service("A real Celery worker needs CELERY_BROKER_URL (Redis).")
    if connection.vendor != "postgresql":
        missing_service("A real Celery worker needs PostgreSQL (it cannot see an in-memory SQLite test DB).")

    queue = f"test-killed-{uuid.uuid4().hex[:10]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "EMAIL_URL": f"filemail://{mail_dir}",
        "DEBUG": "true",
    }
    started: list[Worker] = []

    def start(pause_at: str | None = None) -> Worker:
        number = len(started) + 1
        node = f"{queue}-{number}@localhost"
        log_path = tmp_path / f"worker-{number}.log"
        celery = ["-A", "productops", "worker", "-Q", queue, "-n", node, "--concurrency", "1"]
        celery += ["--pool", "prefork", "--without-gossip", "--without-mingle", "-l", "info"]
        if pause_at:
            command = [
                sys.executable,
                "-m",
                "tests.worker_faults",
                pause_at,
                str(start.paused),
                "--",
                *celery,
            ]
        else:
            command = [sys.executable, "-m", "celery", *celery]
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        worker = Worker(process, node, log_path)
        started.append(worker)
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"celery worker did not start: {worker.log()[-3000:]}")
        return worker

    start.paused = tmp_path / "paused"
    start.mail_dir = mail_dir
    previous = app.conf.task_default_queue, app.conf.task_always_eager
    app.conf.task_default_queue, app.conf.task_always_eager = queue, False
    yield start
    for worker in started:
        worker.stop()
    app.conf.task_default_queue, app.conf.task_always_eager = previous
    with app.connection_for_write() as conn:  # leave nothing behind in Redis
        conn.default_channel.queue_purge(queue)


def wait_until(condition, worker, *, seconds=90, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and worker.process.poll() is not None:
            break
        time.sleep(0.1)
    log = worker.log()[-4000:] if worker else ""
    pytest.fail(f"Timed out waiting for {what}.\n{log}")


def kill_and_redeliver(workers, paused_worker, task_id: str):
    """Kill the paused worker, start a fresh one, and return it with the seconds from the kill
    until the fresh worker received the same task (the redelivery)."""
    paused_worker.kill()
    killed_at = time.monotonic()
    fresh = workers()
    wait_until(lambda: f"[{task_id}] received" in fresh.log(), fresh, what=f"task {task_id} redelivered")
    redelivered_after = time.monotonic() - killed_at
    log = fresh.log()
    after_ready = logged_at(log, f"[{task_id}] received") - logged_at(log, "ready.")
    print(
        f"\nredelivered {redelivered_after:.1f} s after the kill, {after_ready.total_seconds():.2f} s after "
        f"the fresh worker was ready (visibility timeout {VISIBILITY_TIMEOUT} s)"
    )
    return fresh, redelivered_after


def logged_at(log: str, text: str) -> datetime.datetime:
    """The time stamp of the first worker log line containing ``text``."""
    line = next(line for line in log.splitlines() if text in line)
    return datetime.datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f")


def in_transaction_backends() -> int:
    """Connections to the test database holding an open transaction (the paused task's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_an_evaluation_killed_mid_transaction_is_redelivered_and_opens_one_action(workers, capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.05, 0.18])  # the second week breaches: one signal, one action for the PM
    # Paused after the signal, its action and the owner's notification were written, before the
    # reopen triggers and the commit.
    first = workers(pause_at="contracts.services:reopen_triggers_evaluate")

    task = evaluate_contract_task.delay(contract.pk)
    wait_until(workers.paused.exists, first, what="the evaluation to reach its pause point")
    assert in_transaction_backends() == 1  # its writes are in flight, not committed
    assert not Action.objects.exists() and not Signal.objects.exists()

    fresh, _seconds = kill_and_redeliver(workers, first, task.id)
    wait_until(lambda: f"[{task.id}] succeeded" in fresh.log(), fresh, what="the redelivered evaluation")
    wait_until(
        lambda: Notification.objects.filter(sent_at__isnull=False).exists(), fresh, what="the owner's e-mail"
    )
    # Room for a duplicate run (the first worker's copy of the task) to show itself, had there been one.
    time.sleep(VISIBILITY_TIMEOUT + 2)

    signal_row = Signal.objects.get()
    action = Action.objects.get()
    assert signal_row.level == "breach" and action.owner == pm
    assert Notification.objects.get().recipient == pm
    mails = [email.message_from_bytes(path.read_bytes()) for path in workers.mail_dir.iterdir()]
    assert [message["To"] for message in mails] == [pm.email]
    assert action.readable_id in mails[0]["Subject"]
    assert fresh.log().count(f"[{task.id}] received") == 1


def test_a_pack_email_killed_mid_send_is_redelivered_and_sent_once(workers, due_session, pm):  # noqa: F811
    # Paused after the delivery was claimed, before the e-mail was written.
    first = workers(pause_at="forums.pack_delivery:pack_email")

    pack_send(session=due_session, by=pm)  # the pack is built here; each e-mail is a task
    wait_until(workers.paused.exists, first, what="an e-mail task to reach its pause point")
    claimed = PackDelivery.objects.get(claimed_at__isnull=False)
    assert (claimed.attempts, claimed.sent_at) == (1, None)
    assert not any(workers.mail_dir.iterdir())

    fresh, _seconds = kill_and_redeliver(workers, first, claimed.claimed_by)
    wait_until(
        lambda: all(d.status == DeliveryStatus.SENT for d in PackDelivery.objects.all()),
        fresh,
        what="every delivery sent",
    )

    files = sorted(workers.mail_dir.iterdir())
    messages = [email.message_from_bytes(path.read_bytes()) for path in files]
    assert sorted(message["To"] for message in messages) == ["pm@example.test", "risk@example.test"]
    pdf = bytes(ReviewPack.objects.get().pdf)
    for message in messages:
        attachments = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
        assert [part.get_payload(decode=True) for part in attachments] == [pdf]
    # The killed attempt and the redelivered one: two attempts on that row, one e-mail.
    assert PackDelivery.objects.get(pk=claimed.pk).attempts == 2

    # Every e-mail task delivered once more (a duplicate message) sends nothing.
    again = [send_pack_delivery.delay(delivery.pk) for delivery in PackDelivery.objects.all()]
    wait_until(
        lambda: all(f"[{result.id}] succeeded" in fresh.log() for result in again),
        fresh,
        what="the duplicates",
    )
    assert len(list(workers.mail_dir.iterdir())) == 2
