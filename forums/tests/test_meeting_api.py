# ruff: noqa: F811  (the shared fixtures are imported by name and requested as arguments)
"""The meeting through the API: the same services as the page, the same refusals as JSON."""

import datetime

import pytest
from django.utils import timezone

from actions.models import Action
from decisions.models import Decision
from forums.tests.test_meeting_world import (  # noqa: F401  (shared fixtures)
    _media_root,
    analyst,
    architect,
    attest_all,
    awaiting,
    ba,
    make_release,
    ops,
    raise_action,
    risk_partner,
    running,
    session,
    submitted,
    weekly,
)
from productops.models import Notification

pytestmark = pytest.mark.django_db


def endpoint(session, name):
    return f"/api/v1/forum-sessions/{session.pk}/{name}/"


def decision(session, **overrides):
    data = {
        "capability": session.forum.scope_list()[0].slug,
        "type": "continue",
        "decision": "Continue billing suggestions for all teams.",
        "owner": session.forum.owner_id,
        "evidence": [],
        "agenda_block": "Decision requests",
    }
    data.update(overrides)
    return data


def test_a_decision_recorded_through_the_api_is_the_sessions(api_for, pm, running):
    answer = api_for(pm).post(endpoint(running, "record-decision"), decision(running), format="json")
    assert answer.status_code == 200, answer.json()
    record = Decision.objects.get()
    assert record.forum_session == running
    assert answer.json()["outcomes"][0] == {
        "kind": "decision_recorded",
        "reference": record.readable_id,
        "summary": f"Continue: {record.decision}",
        "agenda_block": "Decision requests",
        "recorded_at": answer.json()["outcomes"][0]["recorded_at"],
    }


def test_the_api_names_the_field_a_rule_refused_and_a_state_conflict_is_409(api_for, pm, running, session):
    api = api_for(pm)
    refused = api.post(endpoint(running, "record-decision"), decision(running, type="scale"), format="json")
    assert refused.status_code == 400 and "type" in refused.json()
    missing = api.post(
        endpoint(running, "raise-action"),
        {
            "capability": running.forum.scope_list()[0].slug,
            "action": "Sample 50 calls",
            "owner": pm.pk,
            "due_date": timezone.localdate().isoformat(),
            "closure_criterion": "",
        },
        format="json",
    )
    assert missing.status_code == 400 and "closure_criterion" in missing.json()
    running.state = "held"
    running.save(update_fields=["state"])
    late = api.post(endpoint(running, "record-decision"), decision(running), format="json")
    assert late.status_code == 409
    assert not Decision.objects.exists() and not Action.objects.exists()


@pytest.mark.parametrize(
    "name", ["record-decision", "raise-action", "move-action", "approve-release", "attendance", "notes"]
)
def test_meeting_endpoints_refuse_get_a_reader_and_an_outsider(api_for, pm, viewer, outsider, running, name):
    assert api_for(pm).get(endpoint(running, name)).status_code == 405
    assert api_for(outsider).post(endpoint(running, name), {}, format="json").status_code == 404
    if name in ("record-decision", "raise-action", "attendance", "notes"):
        assert api_for(viewer).post(endpoint(running, name), {}, format="json").status_code == 403


def test_a_named_reviewer_closes_an_action_through_the_api_without_running_the_forum(
    api_for, make_person, capability, running, raise_action, ops, viewer
):
    reviewer = make_person("risk_compliance", capability, username="reviewer")
    action = raise_action(reviewer=reviewer)
    action.submit_evidence(by=ops, text="Sample clean.")
    body = {
        "action": action.readable_id,
        "move": "verify",
        "comment": "Checked.",
        "agenda_block": "Action closure",
    }
    assert api_for(viewer).post(endpoint(running, "move-action"), body, format="json").status_code == 403
    answer = api_for(reviewer).post(endpoint(running, "move-action"), body, format="json")
    assert answer.status_code == 200, answer.json()
    action.refresh_from_db()
    assert action.status == "closed"
    assert answer.json()["outcomes"][0]["kind"] == "action_closed"


def test_a_risk_partner_approves_a_release_through_the_api(
    api_for, running, submitted, risk_partner, architect
):
    release = submitted()
    body = {"release": release.readable_id, "comment": "Eval green."}
    assert (
        api_for(architect).post(endpoint(running, "approve-release"), body, format="json").status_code == 403
    )
    answer = api_for(risk_partner).post(endpoint(running, "approve-release"), body, format="json")
    assert answer.status_code == 200, answer.json()
    release.refresh_from_db()
    assert release.state == "approved"


def test_attendance_notes_and_minutes_through_the_api(api_for, pm, ops, ba, session):
    api = api_for(pm)
    assert api.post(f"/api/v1/forum-sessions/{session.pk}/start/").status_code == 200
    assert (
        api.post(endpoint(session, "attendance"), {"present": [pm.pk, ops.pk]}, format="json").status_code
        == 200
    )
    assert (
        api.post(
            endpoint(session, "notes"), {"block": "Action closure", "text": "All *closed*."}, format="json"
        ).status_code
        == 200
    )
    # Notes are not rewritten wholesale by a PATCH: only per block, while they may be.
    api.patch(f"/api/v1/forum-sessions/{session.pk}/", {"notes": {"Gossip": "x"}}, format="json")
    session.refresh_from_db()
    assert session.notes == {"Action closure": "All *closed*."}
    assert api.post(f"/api/v1/forum-sessions/{session.pk}/end-meeting/").status_code == 200
    published = api.post(f"/api/v1/forum-sessions/{session.pk}/publish-minutes/")
    assert published.status_code == 200
    minutes = published.json()["minutes"]
    assert {p["username"]: p["status"] for p in minutes["attendance"]} == {
        "pm": "present",
        "ops": "present",
        "ba": "absent",
    }
    assert Notification.objects.filter(subject__startswith="Minutes:").count() == 3
    late = api.post(
        endpoint(session, "notes"), {"block": "Action closure", "text": "Rewritten"}, format="json"
    )
    assert late.status_code == 409


def test_an_action_raised_through_the_api_keeps_its_source_and_reopen_trigger(api_for, pm, ops, running):
    answer = api_for(pm).post(
        endpoint(running, "raise-action"),
        {
            "capability": running.forum.scope_list()[0].slug,
            "action": "Retrain the north team",
            "owner": ops.pk,
            "due_date": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
            "closure_criterion": "Edit rate within 5 points",
            "reopen_trigger": {"kind": "recheck_date", "recheck_on": "2027-03-01"},
        },
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    action = Action.objects.get()
    assert (action.source, action.reopen_trigger.recheck_on.isoformat()) == (running, "2027-03-01")
