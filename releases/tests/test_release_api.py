"""/api/v1/releases/: the same rules as the pages, answered in JSON."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contracts.models import StopHold
from contracts.tests.factories import MetricContractFactory, SignalFactory
from releases.models import Release

pytestmark = pytest.mark.django_db

URL = "/api/v1/releases/"
MOVE_PATHS = [
    "submit",
    "approve",
    "approve-for-canary",
    "hold",
    "request-changes",
    "reject",
    "deploy",
    "rollback",
    "impact-review",
    "attest",
]


def url(release, move=""):
    return f"{URL}{release.readable_id}/" + (f"{move}/" if move else "")


def body(capability, owner, **overrides):
    today = timezone.localdate()
    data = {
        "capability": capability.slug,
        "planned_date": (today + datetime.timedelta(days=7)).isoformat(),
        "object_type": "tool",
        "change": "CRM fee-waiver write action",
        "version_to": "crm-write-v1",
        "owner": owner.username,
        "rollback_plan": "Revoke the write scope",
        "post_release_review_date": (today + datetime.timedelta(days=35)).isoformat(),
    }
    data.update(overrides)
    return data


def test_anonymous_requests_are_refused(client):
    assert client.get(URL).status_code == 403


def test_creating_a_release_derives_its_checklist_and_risk_tier(api_for, architect, capability):
    response = api_for(architect).post(URL, body(capability, architect), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["readable_id"] == f"REL-{timezone.localdate().year}-001"
    assert data["risk_tier"] == "medium" and data["state"] == "draft"
    assert [item["key"] for item in data["evidence_items"]] == [
        "authorization",
        "side_effects",
        "audit",
        "dual_control",
    ]


def test_a_bad_field_is_named(api_for, architect, capability):
    response = api_for(architect).post(
        URL, body(capability, architect, object_type="spreadsheet"), format="json"
    )
    assert response.status_code == 400 and "object_type" in response.json()
    response = api_for(architect).post(
        URL, body(capability, architect, version_from="v1", version_to="v1"), format="json"
    )
    assert response.status_code == 400 and "version_to" in response.json()
    assert not Release.objects.exists()


def test_a_risk_partner_cannot_create_releases(api_for, risk_partner, capability):
    response = api_for(risk_partner).post(URL, body(capability, risk_partner), format="json")
    assert response.status_code == 403


def test_the_list_is_scoped_and_filtered_like_the_page(api_for, make_release, pm, outsider):
    make_release()
    make_release(object_type="knowledge", change="Fee article", version_from="kb-6", version_to="kb-7")
    rows = api_for(pm).get(URL, {"object_type": "knowledge"}).json()["results"]
    assert [row["change"] for row in rows] == ["Fee article"]
    assert api_for(outsider).get(URL).json()["results"] == []


def test_editing_goes_through_the_service(api_for, make_release, architect, submitted):
    release = make_release()
    response = api_for(architect).patch(url(release), {"object_type": "dashboard"}, format="json")
    assert response.status_code == 200
    assert [item["key"] for item in response.json()["evidence_items"]] == ["metric_owner_approval"]
    locked = submitted(change="Submitted one")
    assert api_for(architect).patch(url(locked), {"change": "x"}, format="json").status_code == 409


def test_releases_are_never_deleted(api_for, make_release, architect):
    release = make_release()
    assert api_for(architect).delete(url(release)).status_code == 405


def test_the_owner_cannot_approve_their_own_release(api_for, submitted, architect):
    release = submitted()
    response = api_for(architect).post(url(release, "approve"), {"comment": "Mine"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"approver": ["You own this release: its approval comes from someone else."]}


def test_a_tool_change_needs_two_distinct_approvers(api_for, submitted, pm, platform):
    release = submitted(object_type="tool", version_from="", version_to="t-1")
    first = api_for(pm).post(url(release, "approve"), {"comment": "Side effects fine"}, format="json")
    assert first.status_code == 200 and first.json()["state"] == "submitted"
    again = api_for(pm).post(url(release, "approve"), {"comment": "Again"}, format="json")
    assert again.status_code == 403 and "approver" in again.json()
    second = api_for(platform).post(url(release, "approve"), {"comment": "Audit fine"}, format="json")
    assert second.json()["state"] == "approved"
    assert len(second.json()["decisions"]) == 1


def test_high_risk_needs_a_risk_approver(api_for, submitted, pm, risk_partner):
    release = submitted(risk_tier="high")
    response = api_for(pm).post(url(release, "approve"), {"comment": "Fine"}, format="json")
    assert response.status_code == 403 and "Risk / Compliance" in response.json()["approver"][0]
    response = api_for(risk_partner).post(url(release, "approve"), {"comment": "Fine"}, format="json")
    assert response.json()["state"] == "approved"


def test_approval_is_refused_with_open_evidence_and_under_a_stop_hold(
    api_for, make_release, risk_partner, capability, attest_all
):
    release = make_release()
    release.submit(by=release.owner)
    response = api_for(risk_partner).post(url(release, "approve"), {"comment": "Go"}, format="json")
    assert response.status_code == 400 and "evidence" in response.json()
    attest_all(release)
    StopHold.objects.create(
        capability=capability,
        signal=SignalFactory(contract=MetricContractFactory(capability=capability)),
        reason="x",
    )
    response = api_for(risk_partner).post(url(release, "approve"), {"comment": "Go"}, format="json")
    assert response.status_code == 409 and "stop_hold" in response.json()


def test_a_comment_is_required(api_for, submitted, risk_partner):
    release = submitted()
    response = api_for(risk_partner).post(url(release, "hold"), {}, format="json")
    assert response.status_code == 400 and "comment" in response.json()


def test_an_illegal_move_is_409(api_for, make_release, architect):
    release = make_release()
    response = api_for(architect).post(url(release, "deploy"), {"to": "released"}, format="json")
    assert response.status_code == 409 and "state" in response.json()


def test_deploy_rollback_and_impact_review(api_for, submitted, risk_partner, architect, pm, capability):
    release = submitted()
    api_for(risk_partner).post(url(release, "approve-for-canary"), {"comment": "Canary"}, format="json")
    response = api_for(architect).post(url(release, "deploy"), {"to": "canary"}, format="json")
    assert response.json()["state"] == "canary"
    capability.refresh_from_db()
    assert capability.current_version_set == {"prompt": "v12"}
    figures = api_for(pm).get(url(release, "impact"), {"periods": 2}).json()
    assert figures["periods"] == 2 and figures["release"] == release.readable_id
    response = api_for(pm).post(
        url(release, "impact-review"),
        {"expected_effect": "AHT down", "decision": "rollback", "comment": "Repeat contact up"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["state"] == "rolled_back"
    capability.refresh_from_db()
    assert capability.current_version_set == {"prompt": "v11"}
    types = sorted(d[:3] for d in response.json()["decisions"])
    assert len(types) == 2  # the approval and the rollback


def test_evidence_is_attested_through_the_api(api_for, make_release, analyst):
    release = make_release()
    response = api_for(analyst).post(url(release, "attest"), {"item": "regression_eval"}, format="json")
    assert response.status_code == 400 and "link" in response.json()
    response = api_for(analyst).post(
        url(release, "attest"), {"item": "nope", "link": "https://evidence.example/x"}, format="json"
    )
    assert response.status_code == 400 and "item" in response.json()
    upload = SimpleUploadedFile("eval.txt", b"all pass", content_type="text/plain")
    response = api_for(analyst).post(
        url(release, "attest"),
        {"item": "regression_eval", "file": upload, "note": "120 cases"},
        format="multipart",
    )
    assert response.status_code == 200
    (item,) = response.json()["evidence_items"]
    assert item["is_attested"] and item["attested_by"] == analyst.username and item["filename"] == "eval.txt"


def test_a_viewer_gets_403_and_an_outsider_404(api_for, submitted, viewer, outsider):
    release = submitted()
    assert api_for(viewer).get(url(release)).status_code == 200
    assert api_for(viewer).post(url(release, "approve"), {"comment": "x"}, format="json").status_code == 403
    assert api_for(viewer).patch(url(release), {"change": "x"}, format="json").status_code == 403
    assert api_for(outsider).get(url(release)).status_code == 404
    assert api_for(outsider).post(url(release, "approve"), {"comment": "x"}, format="json").status_code == 404


@pytest.mark.parametrize("move", MOVE_PATHS)
def test_move_endpoints_refuse_get(api_for, make_release, pm, move):
    release = make_release()
    assert api_for(pm).get(url(release, move)).status_code == 405


def test_the_schema_documents_the_moves(api_for, pm):
    schema = api_for(pm).get("/api/schema/").content.decode()
    assert "/api/v1/releases/{readable_id}/approve-for-canary/" in schema


@pytest.mark.parametrize("missing", ["rollback_plan", "post_release_review_date"])
def test_submitting_without_a_rollback_plan_or_review_date_names_the_field(
    api_for, make_release, architect, missing
):
    release = make_release(**{missing: "" if missing == "rollback_plan" else None})
    response = api_for(architect).post(url(release, "submit"), format="json")
    assert response.status_code == 400 and missing in response.json()
    assert Release.objects.get(pk=release.pk).state == "draft"


def test_a_stop_hold_lifted_by_risk_lets_the_approval_through(api_for, submitted, risk_partner, capability):
    from contracts.services import stop_hold_lift

    release = submitted()
    hold = StopHold.objects.create(
        capability=capability,
        signal=SignalFactory(contract=MetricContractFactory(capability=capability)),
        reason="x",
    )
    assert (
        api_for(risk_partner).post(url(release, "approve"), {"comment": "Go"}, format="json").status_code
        == 409
    )
    stop_hold_lift(hold=hold, by=risk_partner, comment="Sample clean")
    response = api_for(risk_partner).post(url(release, "approve"), {"comment": "Go"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "approved"
