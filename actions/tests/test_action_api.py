"""/api/v1/actions/: the same rules as the pages, answered in JSON."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from actions.models import Action
from actions.tests.conftest import ACTION_TEXT, CRITERION
from actions.tests.factories import ActionFactory
from productops.models import Notification

pytestmark = pytest.mark.django_db

URL = "/api/v1/actions/"
MOVE_PATHS = ["start", "block", "unblock", "submit-evidence", "verify", "send-back", "reopen", "escalate"]


def body(capability, owner, reviewer, **overrides):
    data = {
        "capability": capability.slug,
        "action": ACTION_TEXT,
        "owner": owner.username,
        "reviewer": reviewer.username,
        "due_date": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        "closure_criterion": CRITERION,
        "source_kind": "signal",
        "source_signal": "Repeat contact up 8% in billing calls",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_anonymous_requests_are_refused(client, action):
    assert client.get(URL).status_code == 403


def test_the_list_shows_only_visible_actions_and_filters_like_the_page(
    api_for, pm, outsider, capability, other_capability, owner, make_person
):
    overdue = ActionFactory(
        capability=capability, owner=owner, due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    ActionFactory(capability=capability, owner=owner)
    ActionFactory(capability=other_capability, owner=make_person("ops", other_capability))
    rows = api_for(pm).get(URL).json()["results"]
    assert len(rows) == 2
    assert [row["readable_id"] for row in api_for(pm).get(URL, {"overdue": "true"}).json()["results"]] == [
        overdue.readable_id
    ]
    assert [row["readable_id"] for row in api_for(pm).get(URL, {"view": "overdue"}).json()["results"]] == [
        overdue.readable_id
    ]
    assert len(api_for(outsider).get(URL).json()["results"]) == 1


@pytest.mark.parametrize("missing", ["owner", "due_date", "closure_criterion"])
def test_creation_without_owner_due_date_or_closure_criterion_is_refused_naming_the_field(
    api_for, pm, capability, owner, reviewer, missing
):
    data = body(capability, owner, reviewer)
    del data[missing]
    response = api_for(pm).post(URL, data, format="json")
    assert response.status_code == 400
    assert missing in response.json()
    assert not Action.objects.exists()


def test_an_empty_closure_criterion_is_refused(api_for, pm, capability, owner, reviewer):
    response = api_for(pm).post(
        URL, body(capability, owner, reviewer, closure_criterion="   "), format="json"
    )
    assert response.status_code == 400
    assert "closure_criterion" in response.json()


def test_the_reviewer_cannot_be_the_owner(api_for, pm, capability, owner):
    response = api_for(pm).post(URL, body(capability, owner, owner), format="json")
    assert response.status_code == 400
    assert response.json() == {"reviewer": ["The reviewer must be someone other than the owner."]}


def test_the_pm_raises_an_action_through_the_service(api_for, pm, capability, owner, reviewer):
    trigger = {
        "kind": "recheck_date",
        "recheck_on": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
    }
    response = api_for(pm).post(URL, body(capability, owner, reviewer, reopen_trigger=trigger), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["readable_id"] == "ACT-0001"
    assert data["status"] == "open"
    assert data["reopen_trigger"]["kind"] == "recheck_date"
    action = Action.objects.get()
    assert action.history.get().history_change_reason == "Action raised"
    assert Notification.objects.filter(recipient=owner).exists()


def test_a_viewer_cannot_create_or_move_actions(api_for, viewer, action, capability, owner, reviewer):
    api = api_for(viewer)
    assert api.post(URL, body(capability, owner, reviewer), format="json").status_code == 403
    assert api.post(f"{URL}{action.readable_id}/start/").status_code == 403
    assert api.patch(f"{URL}{action.readable_id}/", {"action": "x"}, format="json").status_code == 403
    action.refresh_from_db()
    assert (action.status, action.action) == ("open", ACTION_TEXT)


def test_an_outsider_gets_404(api_for, outsider, action):
    api = api_for(outsider)
    assert api.get(f"{URL}{action.readable_id}/").status_code == 404
    for path in MOVE_PATHS:
        assert api.post(f"{URL}{action.readable_id}/{path}/", {}, format="json").status_code == 404


def test_an_outsider_cannot_raise_an_action_on_another_capability(
    api_for, outsider, capability, owner, reviewer
):
    response = api_for(outsider).post(URL, body(capability, owner, reviewer), format="json")
    assert response.status_code == 403
    assert not Action.objects.exists()


@pytest.mark.parametrize("path", MOVE_PATHS)
def test_move_endpoints_reject_get(api_for, pm, action, path):
    assert api_for(pm).get(f"{URL}{action.readable_id}/{path}/").status_code == 405


def test_actions_are_never_deleted(api_for, pm, action):
    assert api_for(pm).delete(f"{URL}{action.readable_id}/").status_code == 405
    assert Action.objects.filter(pk=action.pk).exists()


def test_an_illegal_move_is_a_409_naming_the_states(api_for, pm, action):
    response = api_for(pm).post(f"{URL}{action.readable_id}/unblock/")
    assert response.status_code == 409
    assert response.json() == {"status": ["“Unblock” is not possible while the action is open."]}


def test_closing_without_evidence_is_refused(api_for, reviewer, action):
    response = api_for(reviewer).post(f"{URL}{action.readable_id}/verify/", {}, format="json")
    assert response.status_code == 409
    assert "closure evidence" in response.json()["status"][0]
    action.refresh_from_db()
    assert action.status == "open"


def test_the_owner_cannot_verify_their_own_action(api_for, make_action, pm, reviewer, bring_to):
    action = bring_to(make_action(owner=pm, reviewer=reviewer), "awaiting_verification")
    response = api_for(pm).post(f"{URL}{action.readable_id}/verify/", {}, format="json")
    assert response.status_code == 403
    assert "not the owner" in response.json()["reviewer"][0]
    action.refresh_from_db()
    assert action.status == "awaiting_verification"


def test_the_full_closure_loop_through_the_api(api_for, action, owner, reviewer, pm):
    path = f"{URL}{action.readable_id}"
    assert api_for(owner).post(f"{path}/start/").json()["status"] == "in_progress"
    upload = SimpleUploadedFile("qa-sample.csv", b"case,defect\n1,0\n", content_type="text/csv")
    response = api_for(owner).post(
        f"{path}/submit-evidence/", {"text": "QA sample: 2.1% defects", "file": upload}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "awaiting_verification"
    evidence_pk = action.evidence.get().pk
    assert response.json()["evidence"][0]["file_url"].endswith(
        f"/actions/{action.readable_id}/evidence/{evidence_pk}/file/"
    )
    response = api_for(reviewer).post(f"{path}/send-back/", {}, format="json")
    assert response.status_code == 400 and "comment" in response.json()
    assert (
        api_for(reviewer).post(f"{path}/send-back/", {"comment": "One site only"}).json()["status"]
        == "in_progress"
    )
    api_for(owner).post(f"{path}/submit-evidence/", {"text": "All sites sampled"}, format="json")
    data = api_for(reviewer).post(f"{path}/verify/", {"comment": "Good"}, format="json").json()
    assert data["status"] == "closed"
    assert [item["verdict"] for item in data["evidence"]] == ["accepted", "sent_back"]
    data = api_for(pm).post(f"{path}/reopen/", {"reason": "Signal back"}, format="json").json()
    assert data["status"] == "reopened"
    assert len(data["evidence"]) == 2  # earlier closure evidence kept
    assert data["reopenings"][0]["reason"] == "Signal back"


def test_escalation_through_the_api(api_for, action, owner, executive):
    response = api_for(owner).post(
        f"{URL}{action.readable_id}/escalate/",
        {"to": executive.username, "reason": "Vendor silent"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["escalated_to"] == executive.username
    assert response.json()["status"] == "open"


def test_editing_cannot_empty_the_closure_criterion(api_for, pm, action):
    response = api_for(pm).patch(f"{URL}{action.readable_id}/", {"closure_criterion": ""}, format="json")
    assert response.status_code == 400
    assert "closure_criterion" in response.json()
    response = api_for(pm).patch(f"{URL}{action.readable_id}/", {"due_date": "2030-01-31"}, format="json")
    assert response.status_code == 200
    action.refresh_from_db()
    assert action.due_date == datetime.date(2030, 1, 31)
    assert action.history.latest().history_change_reason == "Details edited"


def test_the_state_cannot_be_written_directly(api_for, pm, action):
    api_for(pm).patch(f"{URL}{action.readable_id}/", {"status": "closed"}, format="json")
    action.refresh_from_db()
    assert action.status == "open"


def test_the_api_list_query_count_does_not_grow_with_ten_times_the_data(
    api_for, pm, capability, owner, reviewer, django_assert_max_num_queries
):
    api = api_for(pm)

    def grow(count):
        for _ in range(count):
            action = ActionFactory(capability=capability, owner=owner, reviewer=reviewer)
            action.submit_evidence(by=owner, text="Sample")

    grow(2)
    api.get(URL)  # the person's roles are cached on the user object from the first request on
    with django_assert_max_num_queries(20) as small:
        assert api.get(URL).status_code == 200
    grow(20)
    with django_assert_max_num_queries(20) as large:
        assert len(api.get(URL).json()["results"]) == 22
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_reopen_trigger_is_replaced_whole_or_removed(api_for, pm, make_action):
    recheck = timezone.localdate() + datetime.timedelta(days=30)
    action = make_action(reopen_trigger={"kind": "recheck_date", "recheck_on": recheck})
    path = f"{URL}{action.readable_id}/"
    response = api_for(pm).patch(path, {"reopen_trigger": {"recheck_on": "2030-01-01"}}, format="json")
    assert response.status_code == 400
    assert "trigger_kind" in response.json()
    assert Action.objects.get(pk=action.pk).reopen_trigger.recheck_on == recheck
    response = api_for(pm).patch(
        path, {"reopen_trigger": {"kind": "recheck_date", "recheck_on": "2030-01-01"}}, format="json"
    )
    assert response.json()["reopen_trigger"]["recheck_on"] == "2030-01-01"
    assert api_for(pm).patch(path, {"reopen_trigger": None}, format="json").json()["reopen_trigger"] is None
