"""Delivering one event: the signature a receiver verifies, retries with backoff on network
errors, 5xx, 408 and 429 (not on other 4xx), the attempts log, failure after the last attempt,
the admin's retry, idempotent emission and the requeue job."""

import datetime
import json
import socket

import pytest
from django.utils import timezone

from webhooks import signing
from webhooks.delivery import MAX_ATTEMPTS, backoff, deliveries_requeue, delivery_attempt
from webhooks.events import emit
from webhooks.models import Delivery, Event
from webhooks.services import delivery_retry, endpoint_update

pytestmark = pytest.mark.django_db


def emit_sev1(key="incident.sev1:1"):
    return emit(event_type="incident.sev1", key=key, data={"incident": {"id": "INC-0001"}})


def free_port_url() -> str:
    """An address nobody listens on (a port just freed): the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


# --- signing ---------------------------------------------------------------------------------


def test_the_documented_recipe_verifies_a_signature_and_refuses_a_changed_body_or_old_timestamp():
    secret = signing.new_secret()
    body = b'{"event":"ping"}'
    signature = signing.sign(secret, 1_767_225_600, body)
    assert signature.startswith("sha256=") and len(signature) == len("sha256=") + 64
    assert signing.verify(secret, timestamp="1767225600", body=body, signature=signature, now=1_767_225_700)
    assert not signing.verify(
        secret, timestamp="1767225600", body=body + b" ", signature=signature, now=1_767_225_700
    )
    assert not signing.verify(
        "whsec_other", timestamp="1767225600", body=body, signature=signature, now=1_767_225_700
    )
    # Replayed ten minutes later: refused.
    assert not signing.verify(
        secret, timestamp="1767225600", body=body, signature=signature, now=1_767_226_200
    )
    assert not signing.verify(secret, timestamp="soon", body=body, signature=signature)


def test_headers_name_the_event_the_delivery_and_the_time_and_the_body_is_the_stored_event(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_sev1()
    (request,) = receiver.requests
    assert request.headers["X-ProductOps-Event"] == "incident.sev1"
    assert request.headers["X-ProductOps-Delivery"] == str(delivery.pk)
    timestamp = request.headers["X-ProductOps-Timestamp"]
    assert signing.verify(
        endpoint.secret,
        timestamp=timestamp,
        body=request.body,
        signature=request.headers["X-ProductOps-Signature"],
    )
    body = json.loads(request.body)
    assert body == Event.objects.get().payload
    assert (body["event"], body["key"], body["data"]) == (
        "incident.sev1",
        "incident.sev1:1",
        {"incident": {"id": "INC-0001"}},
    )


# --- retries --------------------------------------------------------------------------------


def test_a_500_is_retried_with_backoff_until_the_receiver_answers(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    receiver.script = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_sev1()

    delivery.refresh_from_db()
    assert len(receiver.requests) == 3
    # The same delivery id and body each time (a receiver may deduplicate on it).
    assert {r.headers["X-ProductOps-Delivery"] for r in receiver.requests} == {str(delivery.pk)}
    assert len({r.body for r in receiver.requests}) == 1
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert delivery.last_response == "answer 200"
    assert [entry["status_code"] for entry in delivery.attempt_log] == [500, 503, 200]
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_backoff_doubles_from_thirty_seconds_and_stops_at_an_hour():
    assert [backoff(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


@pytest.mark.parametrize("status", [408, 429])
def test_a_408_or_429_is_retried(receiver, make_endpoint, django_capture_on_commit_callbacks, status):
    make_endpoint(receiver.url)
    receiver.script = [status]
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_sev1()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_another_4xx_or_a_redirect_fails_at_once(
    receiver, make_endpoint, django_capture_on_commit_callbacks, status
):
    make_endpoint(receiver.url)
    receiver.default_status = status
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_sev1()
    delivery.refresh_from_db()
    assert len(receiver.requests) == 1
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, status)


def test_a_receiver_that_keeps_failing_is_marked_failed_after_the_last_attempt(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    receiver.default_status = 502
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_sev1()
    delivery.refresh_from_db()
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", MAX_ATTEMPTS, 502)
    assert delivery.last_response == "answer 502"


def test_a_network_error_is_retried_and_logged(make_endpoint):
    make_endpoint(free_port_url())
    (delivery,) = emit_sev1()  # on_commit not run: attempt by hand, as a task would
    outcome = delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert outcome.retry_in == 30
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "ConnectionRefused" in delivery.last_error
    assert delivery.next_attempt_at is not None


def test_an_admin_retries_a_failed_delivery_with_a_fresh_set_of_attempts(
    receiver, make_endpoint, admin, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    receiver.default_status = 404
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_sev1()
    receiver.default_status = 200
    with django_capture_on_commit_callbacks(execute=True):
        delivery_retry(delivery=delivery, by=admin)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [entry["status_code"] for entry in delivery.attempt_log] == [404, 200]


# --- once, and never lost -----------------------------------------------------------------------


def test_an_event_emitted_twice_is_delivered_once_per_endpoint(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(emit_sev1()) == 1
        assert emit_sev1() == []
    assert len(receiver.requests) == 1
    assert (Event.objects.count(), Delivery.objects.count()) == (1, 1)


def test_a_second_attempt_of_a_delivered_delivery_sends_nothing(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = emit_sev1()
    assert delivery_attempt(delivery.pk).status == "skipped"  # a redelivered task
    assert len(receiver.requests) == 1


def test_an_endpoint_disabled_before_its_delivery_went_out_gets_nothing(receiver, make_endpoint, admin):
    endpoint = make_endpoint(receiver.url)
    (delivery,) = emit_sev1()
    endpoint_update(endpoint=endpoint, by=admin, fields={"active": False})
    delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert delivery.status == "failed"
    assert delivery.last_error == "The endpoint was disabled before this delivery was sent."


def test_the_requeue_job_sends_a_delivery_whose_task_was_lost(receiver, make_endpoint):
    make_endpoint(receiver.url)
    (delivery,) = emit_sev1()  # committed, but its task never queued (broker down)
    assert deliveries_requeue() == []  # too fresh: its own task may still come
    later = timezone.now() + datetime.timedelta(minutes=3)
    assert deliveries_requeue(now=later) == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.requests) == 1
    assert deliveries_requeue(now=later) == []
