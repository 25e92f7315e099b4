"""/api/v1/decisions/: read, record and supersede; never PUT, PATCH or DELETE."""

import pytest

from decisions.models import Decision
from decisions.services import decision_supersede
from decisions.tests.factories import DecisionFactory, EvidenceLinkFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/decisions/"


def body(capability=None, **overrides):
    data = {
        "type": "restrict",
        "decision": "Restrict auto-routing to written complaints",
        "options_considered": "Restrict; double-check; pause",
        "owner": "pm",
        "review_trigger": "Transcript word error rate below 8%",
    }
    if capability is not None:
        data["capability"] = capability.slug
    data.update(overrides)
    return data


def test_anonymous_requests_are_refused(client, capability):
    assert client.get(URL).status_code == 403


def test_the_list_shows_visible_decisions_and_marks_missing_evidence(
    api_for, pm, capability, other_capability
):
    bare = DecisionFactory(capability=capability)
    backed = DecisionFactory(capability=capability)
    EvidenceLinkFactory(decision=backed, url="https://wiki.bank.example/memo")
    DecisionFactory(capability=other_capability)
    rows = {row["readable_id"]: row for row in api_for(pm).get(URL).json()["results"]}
    assert set(rows) == {bare.readable_id, backed.readable_id}
    assert rows[bare.readable_id]["has_evidence"] is False
    assert rows[bare.readable_id]["evidence"] == []
    assert rows[backed.readable_id]["has_evidence"] is True
    assert rows[backed.readable_id]["evidence_count"] == 1
    assert rows[backed.readable_id]["evidence"][0]["url"] == "https://wiki.bank.example/memo"


def test_the_list_filters_like_the_page(api_for, viewer, capability):
    bare = DecisionFactory(capability=capability)
    backed = DecisionFactory(capability=capability, type="fund")
    EvidenceLinkFactory(decision=backed)
    api = api_for(viewer)
    assert [row["readable_id"] for row in api.get(URL, {"has_evidence": "false"}).json()["results"]] == [
        bare.readable_id
    ]
    assert [row["readable_id"] for row in api.get(URL, {"type": "fund"}).json()["results"]] == [
        backed.readable_id
    ]


def test_the_list_keeps_its_query_count_when_the_log_grows_tenfold(
    api_for, pm, capability, django_assert_max_num_queries
):
    api = api_for(pm)

    def grow(count):
        for _ in range(count):
            decision = DecisionFactory(capability=capability)
            EvidenceLinkFactory(decision=decision)
            DecisionFactory(capability=capability, supersedes=decision)

    def queries():
        api.get(URL)  # the person's roles are cached on the user object after the first request
        with django_assert_max_num_queries(20) as captured:
            response = api.get(URL)
        assert response.status_code == 200
        return len(captured.captured_queries), response.json()["count"]

    grow(2)
    small, small_count = queries()
    grow(18)
    large, large_count = queries()
    assert (small_count, large_count) == (4, 40)
    assert small == large


def test_a_decision_is_read_by_its_readable_id(api_for, pm, record):
    decision = record()
    data = api_for(pm).get(f"{URL}{decision.readable_id}/").json()
    assert data["decision"] == decision.decision
    assert data["capability"] == "cc-agent-assist"
    assert data["is_current"] is True and data["superseded_by"] is None


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("who", ["organisation admin", "superuser"])
def test_a_decision_is_never_changed_or_deleted_through_the_api(api_for, make_person, record, method, who):
    decision = record(evidence=["https://wiki.bank.example/kyc-memo"])
    admin = make_person("ai_pm")  # organisation-wide AI PM: A/R on the charter and the decision log
    if who == "superuser":
        admin.is_superuser = admin.is_staff = True
        admin.save()
    response = getattr(api_for(admin), method)(
        f"{URL}{decision.readable_id}/", body(decision.capability, decision="Scale everywhere"), format="json"
    )
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert method.upper() in response.json()["detail"]
    assert not {"PUT", "PATCH", "DELETE"} & set(response["Allow"].split(", "))
    stored = Decision.objects.get(pk=decision.pk)
    assert stored.decision == decision.decision and stored.type == decision.type
    assert [link.url for link in stored.evidence_links.all()] == ["https://wiki.bank.example/kyc-memo"]
    assert [row.history_type for row in stored.history.all()] == ["+"]


def test_the_pm_records_a_decision_with_evidence_ids(api_for, pm, capability, record):
    earlier = record()
    response = api_for(pm).post(
        URL, body(capability, evidence=[earlier.readable_id, "https://wiki.bank.example/memo"]), format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["has_evidence"] is True
    assert [link["reference"] for link in data["evidence"]] == [earlier.readable_id, ""]
    decision = Decision.objects.get(readable_id=data["readable_id"])
    assert decision.recorded_by == pm and decision.type == "restrict"


def test_an_unknown_evidence_id_is_refused_naming_the_field_and_the_id(api_for, pm, capability):
    response = api_for(pm).post(URL, body(capability, evidence=["DEC-0404"]), format="json")
    assert response.status_code == 400
    assert "DEC-0404" in response.json()["evidence"][0]
    assert not Decision.objects.exists()


def test_a_viewer_cannot_record_or_supersede(api_for, viewer, capability, record):
    old = record()
    api = api_for(viewer)
    assert api.post(URL, body(capability), format="json").status_code == 403
    assert api.post(f"{URL}{old.readable_id}/supersede/", body(), format="json").status_code == 403
    assert Decision.objects.count() == 1


def test_an_outsider_cannot_see_or_supersede_another_capabilitys_decision(
    api_for, outsider, capability, record
):
    old = record()
    api = api_for(outsider)
    assert api.get(f"{URL}{old.readable_id}/").status_code == 404
    assert api.post(f"{URL}{old.readable_id}/supersede/", body(), format="json").status_code == 404
    response = api.post(URL, body(capability), format="json")
    assert response.status_code == 400 and "capability" in response.json()
    assert Decision.objects.count() == 1


def test_an_executive_records_a_decision(api_for, executive, capability):
    response = api_for(executive).post(URL, body(capability, owner="exec", type="fund"), format="json")
    assert response.status_code == 201, response.json()


def test_superseding_records_a_new_decision_and_keeps_the_old_one(api_for, pm, record):
    old = record()
    response = api_for(pm).post(
        f"{URL}{old.readable_id}/supersede/", {"decision": "Scale to every retail entity"}, format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["supersedes"] == old.readable_id and data["type"] == old.type
    assert Decision.objects.get(pk=old.pk).decision == old.decision
    old_data = api_for(pm).get(f"{URL}{old.readable_id}/").json()
    assert old_data["superseded_by"] == data["readable_id"] and old_data["is_current"] is False


def test_superseding_twice_is_refused(api_for, pm, record):
    old = record()
    decision_supersede(old=old, by=pm, decision="First successor")
    response = api_for(pm).post(f"{URL}{old.readable_id}/supersede/", {"decision": "Second"}, format="json")
    assert response.status_code == 400
    assert "already superseded" in response.json()["supersedes"][0]
    assert Decision.objects.count() == 2


def test_supersede_rejects_get(api_for, pm, record):
    old = record()
    assert api_for(pm).get(f"{URL}{old.readable_id}/supersede/").status_code == 405
