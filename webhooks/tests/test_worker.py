"""A real Celery worker (its own process and queue, Redis as broker) delivers a Sev1 incident to
a real receiver, retrying after a 500 with its backoff (shortened to a second for the test)."""

import json
import time

import pytest
from django.utils import timezone

from incidents.services import incident_report
from webhooks import signing
from webhooks.models import Delivery


@pytest.fixture
def celery_worker_env():
    return {"WEBHOOKS_BACKOFF_BASE_SECONDS": "1"}


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_real_worker_retries_after_a_500_and_delivers_once(
    real_celery_worker, receiver, make_endpoint, capability, make_person
):
    endpoint = make_endpoint(receiver.url)
    ops = make_person("ops", capability, username="ops")
    receiver.script = [500]

    incident = incident_report(  # autocommit (transactional test): the task is queued on commit
        capability=capability,
        by=ops,
        title="Fee advice contradicts policy",
        source="monitoring",
        occurred_on=timezone.localdate(),
        severity="sev1",
    )

    assert wait_for(lambda: Delivery.objects.filter(status="delivered").exists()), (
        real_celery_worker.log_path.read_text()[-3000:]
    )
    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code) == (2, 200)
    assert [entry["status_code"] for entry in delivery.attempt_log] == [500, 200]
    assert len(receiver.requests) == 2
    last = receiver.requests[-1]
    assert json.loads(last.body)["data"]["incident"]["id"] == incident.readable_id
    assert signing.verify(
        endpoint.secret,
        timestamp=last.headers["X-ProductOps-Timestamp"],
        body=last.body,
        signature=last.headers["X-ProductOps-Signature"],
    )
    time.sleep(1.5)  # nothing more comes: delivered once
    assert len(receiver.requests) == 2
