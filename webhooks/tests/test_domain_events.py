"""The four events, emitted by the real domain services at the one place each happens, reach a
real HTTP receiver on 127.0.0.1 signed so that the documented recipe verifies them."""

import datetime
import hashlib
import hmac
import json

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from actions.services import action_create, overdue_actions_announce
from contracts.evaluation import evaluate_contract
from contracts.models import Signal
from contracts.tests.evaluation_helpers import TODAY, make_contract, weekly
from incidents.services import incident_report
from webhooks.models import Delivery, Event

pytestmark = pytest.mark.django_db


def verified_by_recipe(secret: str, request) -> bool:
    """The receiver's check exactly as the settings page documents it, written independently of
    ``webhooks.signing``: HMAC-SHA256 over "timestamp.body", ``sha256=`` + hex, constant time."""
    timestamp = request.headers["X-ProductOps-Timestamp"]
    expected = (
        "sha256="
        + hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, request.headers["X-ProductOps-Signature"])


def only_request(receiver, event):
    matching = [r for r in receiver.requests if r.headers["X-ProductOps-Event"] == event]
    assert len(matching) == 1, receiver.events()
    return matching[0]


def check_envelope(request, endpoint, event):
    body = json.loads(request.body)
    assert body["event"] == event
    delivery = Delivery.objects.get(pk=int(request.headers["X-ProductOps-Delivery"]))
    assert (delivery.endpoint, delivery.event.type, delivery.status) == (endpoint, event, "delivered")
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    assert request.headers["Content-Type"].startswith("application/json")
    assert verified_by_recipe(endpoint.secret, request)
    return body


def test_a_signal_opened_by_the_evaluation_is_posted_once(
    receiver, make_endpoint, capability, pm, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url)
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.05, 0.172, 0.18])
    with time_machine.travel(TODAY, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_contract(contract.pk)
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_contract(contract.pk)  # a re-run opens nothing and sends nothing

    signal = Signal.objects.get()
    body = check_envelope(only_request(receiver, "signal.opened"), endpoint, "signal.opened")
    assert body["key"] == f"signal.opened:{signal.pk}"
    data = body["data"]
    assert data["signal"]["level"] == "breach"
    assert data["signal"]["threshold_crossed"] == 0.16
    assert data["signal"]["opened_period"] == "2026-06-08"
    assert data["signal"]["url"].endswith(f"/contracts/signals/{signal.pk}/")
    assert data["contract"]["metric_id"] == "cc_agent_assist.repeat_contact_7d"
    assert data["capability"]["slug"] == capability.slug
    assert data["action"]["id"] == signal.action.readable_id


def test_an_action_past_its_due_date_is_posted_once_by_the_daily_job(
    receiver, make_endpoint, capability, pm, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url)
    today = timezone.localdate()
    action = action_create(
        capability=capability,
        by=pm,
        action="Sample 50 billing calls",
        owner=pm,
        due_date=today + datetime.timedelta(days=3),
        closure_criterion="Repeat contact back under warning",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert overdue_actions_announce(today=today + datetime.timedelta(days=3)) == []  # due today: not late
    with django_capture_on_commit_callbacks(execute=True):
        assert overdue_actions_announce(today=today + datetime.timedelta(days=5)) == [action.readable_id]
    with django_capture_on_commit_callbacks(execute=True):
        assert overdue_actions_announce(today=today + datetime.timedelta(days=6)) == []  # once

    body = check_envelope(only_request(receiver, "action.overdue"), endpoint, "action.overdue")
    assert body["data"]["action"]["id"] == action.readable_id
    assert body["data"]["action"]["days_overdue"] == 2
    assert body["data"]["owner"] == pm.username


def test_a_moved_due_date_that_passes_again_is_a_new_event(make_endpoint, receiver, capability, pm):
    make_endpoint(receiver.url)
    today = timezone.localdate()
    action = action_create(
        capability=capability,
        by=pm,
        action="Sample 50 billing calls",
        owner=pm,
        due_date=today,
        closure_criterion="Repeat contact back under warning",
    )
    overdue_actions_announce(today=today + datetime.timedelta(days=1))
    action.due_date = today + datetime.timedelta(days=4)
    action.save()
    overdue_actions_announce(today=today + datetime.timedelta(days=5))
    assert sorted(Event.objects.values_list("key", flat=True)) == sorted(
        [
            f"action.overdue:{action.pk}:{today.isoformat()}",
            f"action.overdue:{action.pk}:{action.due_date.isoformat()}",
        ]
    )


def test_a_release_submitted_for_approval_is_posted_once_per_round(
    receiver, make_endpoint, submitted, risk_partner, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        release = submitted()

    body = check_envelope(
        only_request(receiver, "release.awaiting_approval"), endpoint, "release.awaiting_approval"
    )
    assert body["key"] == f"release.awaiting_approval:{release.pk}:round-1"
    assert body["data"]["release"]["id"] == release.readable_id
    assert body["data"]["release"]["version_to"] == "v12"
    assert body["data"]["submitted_by"] == release.owner.username

    # Changes requested, then submitted again: a second round, announced again.
    with django_capture_on_commit_callbacks(execute=True):
        release.request_changes(by=risk_partner, comment="Add the eval run.")
        release.submit(by=release.owner)
    keys = [json.loads(r.body)["key"] for r in receiver.requests]
    assert keys == [
        f"release.awaiting_approval:{release.pk}:round-1",
        f"release.awaiting_approval:{release.pk}:round-2",
    ]


def test_a_sev1_incident_is_posted_and_a_sev2_is_not(
    receiver, make_endpoint, capability, make_person, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url)
    ops = make_person("ops", capability, username="ops")
    common = {
        "capability": capability,
        "by": ops,
        "source": "monitoring",
        "occurred_on": timezone.localdate(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        incident_report(title="Agents see another customer's notes", severity="sev2", **common)
        sev1 = incident_report(title="Fee advice contradicts policy", severity="sev1", **common)

    body = check_envelope(only_request(receiver, "incident.sev1"), endpoint, "incident.sev1")
    assert receiver.events() == ["incident.sev1"]
    assert body["data"]["incident"]["id"] == sev1.readable_id
    assert body["data"]["incident"]["title"] == "Fee advice contradicts policy"
    assert body["data"]["reported_by"] == "ops"


def test_a_rolled_back_change_sends_nothing(
    receiver, make_endpoint, capability, make_person, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    ops = make_person("ops", capability, username="ops")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            incident_report(
                capability=capability,
                by=ops,
                title="Fee advice contradicts policy",
                source="monitoring",
                occurred_on=timezone.localdate(),
                severity="sev1",
            )
            raise RuntimeError("the request failed after the incident was written")
    assert receiver.requests == []
    assert callbacks == []
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_a_disabled_endpoint_or_one_not_subscribed_gets_nothing(
    receiver, make_endpoint, capability, make_person, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url, active=False, name="Disabled")
    make_endpoint(receiver.url, events=["signal.opened"], name="Signals only")
    ops = make_person("ops", capability, username="ops")
    with django_capture_on_commit_callbacks(execute=True):
        incident_report(
            capability=capability,
            by=ops,
            title="Fee advice contradicts policy",
            source="monitoring",
            occurred_on=timezone.localdate(),
            severity="sev1",
        )
    assert receiver.requests == []
    # Nothing listens: not even the event is recorded (webhooks are optional).
    assert not Event.objects.exists()


def test_each_endpoint_gets_its_own_delivery_and_signature(
    receiver, make_endpoint, capability, make_person, django_capture_on_commit_callbacks
):
    first = make_endpoint(receiver.url, name="Chat")
    second = make_endpoint(receiver.url.replace("/productops", "/other"), name="Relay")
    ops = make_person("ops", capability, username="ops")
    with django_capture_on_commit_callbacks(execute=True):
        incident_report(
            capability=capability,
            by=ops,
            title="Fee advice contradicts policy",
            source="monitoring",
            occurred_on=timezone.localdate(),
            severity="sev1",
        )
    by_path = {request.path: request for request in receiver.requests}
    assert set(by_path) == {"/hooks/productops", "/hooks/other"}
    assert verified_by_recipe(first.secret, by_path["/hooks/productops"])
    assert verified_by_recipe(second.secret, by_path["/hooks/other"])
    assert not verified_by_recipe(first.secret, by_path["/hooks/other"])
    # The same event, the same bytes, two deliveries.
    assert by_path["/hooks/productops"].body == by_path["/hooks/other"].body
    assert Delivery.objects.count() == 2 and Event.objects.count() == 1
