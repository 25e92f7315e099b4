"""``/api/v1/assumptions/``: the same ledger, filters, rules and method as the pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assumptions.models import Assumption, AssumptionReview
from assumptions.tests.factories import AssumptionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/assumptions/"


def detail(assumption):
    return f"{URL}{assumption.readable_id}/"


def body(capability, owner, **changes):
    return {
        "capability": capability.slug,
        "statement": "Token cost per case remains below threshold at scale.",
        "type": "cost",
        "owner": owner.username,
        "confidence": "medium",
        "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "tested_by_contracts": ["cc_agent_assist.cost_per_case"],
        "depends_on_object_types": ["model"],
        **changes,
    }


def test_anonymous_requests_are_refused(client, assumption):
    assert client.get(URL).status_code == 403


def test_the_list_shows_only_visible_assumptions(api_for, pm, assumption, other_assumption):
    ids = [row["id"] for row in api_for(pm).get(URL).json()["results"]]
    assert ids == [assumption.readable_id]


def test_the_list_filters_like_the_page(api_for, viewer, assumption, other_assumption):
    Assumption.objects.filter(pk=other_assumption.pk).update(status="weakened")
    api = api_for(viewer)
    assert [r["id"] for r in api.get(URL, {"status": "weakened"}).json()["results"]] == [
        other_assumption.readable_id
    ]
    assert [r["id"] for r in api.get(URL, {"capability": "cc-agent-assist"}).json()["results"]] == [
        assumption.readable_id
    ]


def test_the_detail_nests_the_review_rows(api_for, pm, assumption):
    assumption.review(by=pm, new_status="confirmed", new_evidence="E3 data.", roadmap_impact="None.")
    data = api_for(pm).get(detail(assumption)).json()
    assert data["status"] == "confirmed"
    assert data["capability"] == "cc-agent-assist"
    assert data["tested_by_contracts"] == ["cc_agent_assist.repeat_contact_7d"]
    [review] = data["reviews"]
    assert review["previous_status"] == "needs_evidence"
    assert review["new_status"] == "confirmed"
    assert review["new_evidence"] == "E3 data."
    assert review["roadmap_impact"] == "None."
    assert review["reviewed_by"] == "pm"


def test_the_pm_creates_an_assumption_through_the_service(api_for, pm, capability, owner):
    response = api_for(pm).post(URL, body(capability, owner), format="json")
    assert response.status_code == 201, response.json()
    created = Assumption.objects.get()
    assert response.json()["id"] == created.readable_id
    assert response.json()["status"] == "needs_evidence"
    assert created.history.latest().history_user == pm


def test_an_invalid_contract_id_is_refused_naming_the_field(api_for, pm, capability, owner):
    response = api_for(pm).post(
        URL, body(capability, owner, tested_by_contracts=["cost per case"]), format="json"
    )
    assert response.status_code == 400
    assert "tested_by_contracts" in response.json()
    assert not Assumption.objects.exists()


def test_a_past_expiry_is_refused_naming_the_field(api_for, pm, capability, owner):
    response = api_for(pm).post(
        URL, body(capability, owner, expires_on=timezone.localdate().isoformat()), format="json"
    )
    assert response.status_code == 400
    assert "expires_on" in response.json()


def test_the_status_cannot_be_sent_at_creation(api_for, pm, capability, owner):
    response = api_for(pm).post(URL, body(capability, owner, status="confirmed"), format="json")
    assert response.status_code == 201
    assert Assumption.objects.get().status == "needs_evidence"


def test_a_viewer_cannot_create(api_for, viewer, capability, owner):
    assert api_for(viewer).post(URL, body(capability, owner), format="json").status_code == 403
    assert not Assumption.objects.exists()


def test_patch_changes_the_text_but_not_the_status(api_for, pm, assumption):
    api = api_for(pm)
    response = api.patch(detail(assumption), {"status": "confirmed"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()
    response = api.patch(detail(assumption), {"statement": "QA can sample 3%."}, format="json")
    assert response.status_code == 200, response.json()
    assumption.refresh_from_db()
    assert assumption.statement == "QA can sample 3%."
    assert assumption.status == "needs_evidence"
    assert not AssumptionReview.objects.exists()


def test_patch_with_an_invalid_contract_id_names_the_field(api_for, pm, assumption):
    response = api_for(pm).patch(detail(assumption), {"tested_by_contracts": ["x"]}, format="json")
    assert response.status_code == 400
    assert "tested_by_contracts" in response.json()


def test_assumptions_are_never_deleted(api_for, pm, assumption):
    assert api_for(pm).delete(detail(assumption)).status_code == 405
    assert Assumption.objects.filter(pk=assumption.pk).exists()


def test_the_review_endpoint_writes_one_row_and_answers_with_the_ledger_entry(api_for, pm, assumption):
    response = api_for(pm).post(
        f"{detail(assumption)}review/",
        {
            "new_status": "weakened",
            "new_evidence": "Queue time up 12%.",
            "roadmap_impact": "Cut the sample.",
            "next_review": (timezone.localdate() + timedelta(days=14)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "weakened"
    assert len(response.json()["reviews"]) == 1
    review = AssumptionReview.objects.get()
    assert (review.previous_status, review.new_status, review.reviewed_by) == (
        "needs_evidence",
        "weakened",
        pm,
    )


def test_an_illegal_review_answers_409_and_writes_nothing(api_for, pm, assumption):
    assumption.review(by=pm, new_status="invalidated", new_evidence="Failed.")
    response = api_for(pm).post(
        f"{detail(assumption)}review/", {"new_status": "confirmed", "new_evidence": "Fine."}, format="json"
    )
    assert response.status_code == 409
    assert "Cannot move from Invalidated to Confirmed." in response.json()["status"][0]
    assert AssumptionReview.objects.count() == 1
    assumption.refresh_from_db()
    assert assumption.status == "invalidated"


def test_a_review_without_evidence_is_400(api_for, pm, assumption):
    response = api_for(pm).post(
        f"{detail(assumption)}review/", {"new_status": "confirmed", "new_evidence": ""}, format="json"
    )
    assert response.status_code == 400
    assert "new_evidence" in response.json()
    assert not AssumptionReview.objects.exists()


def test_a_viewer_cannot_review_or_edit(api_for, viewer, assumption):
    api = api_for(viewer)
    assert (
        api.post(f"{detail(assumption)}review/", {"new_status": "confirmed", "new_evidence": "E"}).status_code
        == 403
    )
    assert api.patch(detail(assumption), {"statement": "X"}, format="json").status_code == 403
    assert not AssumptionReview.objects.exists()


def test_an_outsider_gets_404(api_for, outsider, assumption):
    api = api_for(outsider)
    assert api.get(detail(assumption)).status_code == 404
    assert (
        api.post(f"{detail(assumption)}review/", {"new_status": "confirmed", "new_evidence": "E"}).status_code
        == 404
    )
    assert api.patch(detail(assumption), {"statement": "X"}, format="json").status_code == 404


def test_the_review_endpoint_refuses_get(api_for, pm, assumption):
    assert api_for(pm).get(f"{detail(assumption)}review/").status_code == 405


def test_the_list_query_count_does_not_grow_with_the_ledger(
    api_for, viewer, capability, owner, django_assert_max_num_queries
):
    api = api_for(viewer)
    AssumptionFactory.create_batch(3, capability=capability, owner=owner)
    api.get(URL)  # the person's roles are then cached on the user object, as in one request
    with django_assert_max_num_queries(10) as small:
        assert len(api.get(URL).json()["results"]) == 3
    AssumptionFactory.create_batch(27, capability=capability, owner=owner)
    with django_assert_max_num_queries(10) as large:
        assert len(api.get(URL).json()["results"]) == 30
    assert len(large.captured_queries) == len(small.captured_queries)
