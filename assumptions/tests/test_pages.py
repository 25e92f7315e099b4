"""The assumption ledger in the browser: list, detail with the review table, create, edit, review."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assumptions.models import Assumption, AssumptionReview
from assumptions.tests.factories import AssumptionFactory

pytestmark = pytest.mark.django_db

LIST = reverse("assumptions:assumption-list")


def review_url(assumption):
    return reverse("assumptions:assumption-review", args=[assumption.readable_id])


def edit_url(assumption):
    return reverse("assumptions:assumption-edit", args=[assumption.readable_id])


def form_data(assumption, **changes):
    return {
        "statement": assumption.statement,
        "type": assumption.type,
        "owner": assumption.owner.username,
        "evidence": assumption.evidence,
        "confidence": assumption.confidence,
        "expires_on": assumption.expires_on.isoformat(),
        "decision_impact": assumption.decision_impact,
        "tested_by_contracts": "\n".join(assumption.tested_by_contracts),
        "depends_on_object_types": assumption.depends_on_object_types,
        **changes,
    }


# The list


def test_the_list_shows_only_assumptions_of_capabilities_the_person_holds_a_role_on(
    client_for, pm, assumption, other_assumption
):
    page = client_for(pm).get(LIST).content.decode()
    assert assumption.readable_id in page and assumption.statement in page
    assert other_assumption.readable_id not in page


@pytest.mark.parametrize(
    "query",
    [
        {"status": "weakened"},
        {"type": "risk"},
        {"capability": "kyc-onboarding"},
        {"q": "completeness"},
        {"expiring_within": "7"},
    ],
)
def test_the_list_filters(client_for, viewer, assumption, other_assumption, query):
    Assumption.objects.filter(pk=other_assumption.pk).update(
        status="weakened", type="risk", expires_on=timezone.localdate() + timedelta(days=5)
    )
    response = client_for(viewer).get(LIST, query)
    assert [a.pk for a in response.context["assumptions"]] == [other_assumption.pk]
    rows = response.content.decode().split('id="assumption-rows"')[1]
    assert other_assumption.readable_id in rows and assumption.readable_id not in rows


def test_the_list_filters_by_owner_and_sorts_by_expiry(client_for, viewer, capability, owner, make_person):
    other_owner = make_person("ai_pm", capability)
    late = AssumptionFactory(
        capability=capability, owner=owner, expires_on=timezone.localdate() + timedelta(days=90)
    )
    early = AssumptionFactory(
        capability=capability, owner=owner, expires_on=timezone.localdate() + timedelta(days=9)
    )
    AssumptionFactory(capability=capability, owner=other_owner)
    response = client_for(viewer).get(LIST, {"owner": owner.username, "sort": "expires_on"})
    assert list(response.context["assumptions"]) == [early, late]


def test_the_list_answers_htmx_with_the_rows_only(client_for, viewer, assumption):
    response = client_for(viewer).get(LIST, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert assumption.readable_id in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_the_list_exports_the_filtered_ledger_as_csv(client_for, viewer, assumption, other_assumption):
    response = client_for(viewer).get(LIST, {"format": "csv", "capability": "cc-agent-assist"})
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Id,Capability,Statement,Type,Owner,Evidence,Confidence,Expiry,Status")
    assert len(lines) == 2
    assert lines[1].startswith(
        f"{assumption.readable_id},Contact-centre agent assist,"
        f"QA can sample 2% of assisted cases without queue impact.,Value,{assumption.owner},"
    )
    assert "Needs evidence" in lines[1]
    assert "cc_agent_assist.repeat_contact_7d" in lines[1]


def test_the_list_query_count_does_not_grow_with_the_ledger(
    client_for, viewer, capability, other_capability, owner, django_assert_max_num_queries
):
    client = client_for(viewer)
    AssumptionFactory.create_batch(3, capability=capability, owner=owner)
    with django_assert_max_num_queries(20) as small:
        assert client.get(LIST).status_code == 200
    AssumptionFactory.create_batch(27, capability=other_capability, owner=owner)
    with django_assert_max_num_queries(20) as large:
        response = client.get(LIST)
    assert len(response.context["assumptions"]) == 30
    assert len(large.captured_queries) == len(small.captured_queries)


# The detail page


def test_the_detail_page_shows_every_field_and_the_review_table(client_for, viewer, assumption, pm):
    next_review = timezone.localdate() + timedelta(days=30)
    assumption.review(
        by=pm,
        new_status="weakened",
        new_evidence="Queue time up **12%** in north.",
        roadmap_impact="Cut QA sample to 1.5%.",
        next_review=next_review,
    )
    page = client_for(viewer).get(assumption.get_absolute_url()).content.decode()
    for text in [
        assumption.readable_id,
        assumption.statement,
        "Contact-centre agent assist",
        str(assumption.owner),
        "cc_agent_assist.repeat_contact_7d",
        "Scale decision",
        "Previous status",
        "New evidence",
        "New status",
        "Roadmap impact",
        "Next review",
        "Needs evidence",
        "Weakened",
        "Queue time up <strong>12%</strong> in north.",
        "Cut QA sample to 1.5%.",
        next_review.isoformat(),
        str(pm),
        "History",
    ]:
        assert text in page, text


def test_text_people_typed_is_rendered_as_markdown_without_scripts(client_for, viewer, capability, owner):
    assumption = AssumptionFactory(
        capability=capability, owner=owner, evidence="See *sample*<script>alert(1)</script>"
    )
    page = client_for(viewer).get(assumption.get_absolute_url()).content.decode()
    assert "<em>sample</em>" in page
    assert "<script>alert(1)</script>" not in page


def test_an_outsider_gets_404_on_every_page_of_another_capabilitys_assumption(
    client_for, outsider, assumption
):
    client = client_for(outsider)
    assert client.get(assumption.get_absolute_url()).status_code == 404
    assert client.get(edit_url(assumption)).status_code == 404
    response = client.post(review_url(assumption), {"new_status": "confirmed", "new_evidence": "x"})
    assert response.status_code == 404
    assert not AssumptionReview.objects.exists()


def test_a_viewer_reads_but_sees_no_review_form_and_cannot_review(client_for, viewer, assumption):
    client = client_for(viewer)
    page = client.get(assumption.get_absolute_url()).content.decode()
    assert "Record a review" not in page
    assert edit_url(assumption) not in page
    response = client.post(review_url(assumption), {"new_status": "confirmed", "new_evidence": "I agree."})
    assert response.status_code == 403
    assert client.get(edit_url(assumption)).status_code == 403
    assumption.refresh_from_db()
    assert assumption.status == "needs_evidence"
    assert not AssumptionReview.objects.exists()


def test_the_review_url_refuses_get(client_for, pm, assumption):
    assert client_for(pm).get(review_url(assumption)).status_code == 405


# Reviewing


def test_the_pm_records_a_review_and_sees_it_in_the_table(client_for, pm, assumption):
    client = client_for(pm)
    response = client.post(
        review_url(assumption),
        {
            "new_status": "confirmed",
            "new_evidence": "QA queue flat for 6 weeks at 2%.",
            "roadmap_impact": "None.",
            "next_review": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "confidence": "high",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == assumption.get_absolute_url()
    review = AssumptionReview.objects.get()
    assert (review.previous_status, review.new_status, review.reviewed_by) == (
        "needs_evidence",
        "confirmed",
        pm,
    )
    assumption.refresh_from_db()
    assert (assumption.status, assumption.confidence) == ("confirmed", "high")
    page = response.content.decode()
    assert f"{assumption.readable_id} reviewed: now Confirmed." in page
    assert "QA queue flat for 6 weeks at 2%." in page


def test_an_illegal_move_is_refused_with_a_message_and_nothing_is_written(client_for, pm, assumption):
    assumption.review(by=pm, new_status="invalidated", new_evidence="Queue time rose 18%.")
    client = client_for(pm)
    response = client.post(
        review_url(assumption), {"new_status": "confirmed", "new_evidence": "Looks fine."}, follow=True
    )
    assert response.status_code == 200
    assert "Cannot move from Invalidated to Confirmed." in response.content.decode()
    assumption.refresh_from_db()
    assert assumption.status == "invalidated"
    assert AssumptionReview.objects.count() == 1


def test_a_review_without_evidence_names_the_field_and_writes_nothing(client_for, pm, assumption):
    response = client_for(pm).post(review_url(assumption), {"new_status": "confirmed", "new_evidence": ""})
    assert response.status_code == 200
    assert response.context["review_form"].errors["new_evidence"]
    assert not AssumptionReview.objects.exists()


def test_reopening_an_expired_assumption_asks_for_a_new_expiry_on_the_form(client_for, pm, assumption):
    assumption.review(by=None, new_status="expired", new_evidence="Past expiry.")
    response = client_for(pm).post(
        review_url(assumption), {"new_status": "confirmed", "new_evidence": "Re-tested."}
    )
    assert response.status_code == 200
    assert "new expiry date" in response.context["review_form"].errors["expires_on"][0]
    assert AssumptionReview.objects.count() == 1


def test_a_review_may_name_the_decision_where_it_happened_and_a_wrong_id_is_refused(
    client_for, pm, assumption
):
    response = client_for(pm).post(
        review_url(assumption), {"new_status": "confirmed", "new_evidence": "E3.", "source": "DEC-9999"}
    )
    assert response.status_code == 200
    assert "DEC-9999" in response.context["review_form"].errors["source"][0]
    assert not AssumptionReview.objects.exists()


def test_the_review_form_offers_only_the_allowed_statuses(client_for, pm, assumption):
    assumption.review(by=None, new_status="expired", new_evidence="Past expiry.")
    form = client_for(pm).get(assumption.get_absolute_url()).context["review_form"]
    offered = [value for value, _ in form.fields["new_status"].widget.choices]
    assert offered == ["", "needs_evidence", "confirmed", "weakened", "invalidated"]


# Creating and editing


def test_the_pm_adds_an_assumption(client_for, pm, capability, owner):
    data = {
        "capability": capability.slug,
        "statement": "Agents will use suggestions if citations are visible.",
        "type": "adoption",
        "owner": owner.username,
        "confidence": "low",
        "expires_on": (timezone.localdate() + timedelta(days=60)).isoformat(),
        "tested_by_contracts": "cc_agent_assist.qualified_use_rate, cc_agent_assist.citation_clicks",
        "depends_on_object_types": ["prompt", "workflow"],
    }
    response = client_for(pm).post(reverse("assumptions:assumption-create"), data)
    created = Assumption.objects.get()
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert created.status == "needs_evidence"
    assert created.tested_by_contracts == [
        "cc_agent_assist.qualified_use_rate",
        "cc_agent_assist.citation_clicks",
    ]
    assert created.depends_on_object_types == ["prompt", "workflow"]


def test_an_invalid_contract_id_is_shown_on_its_field_and_nothing_is_saved(client_for, pm, capability, owner):
    data = {
        "capability": capability.slug,
        "statement": "Agents will use suggestions.",
        "type": "adoption",
        "owner": owner.username,
        "confidence": "low",
        "expires_on": (timezone.localdate() + timedelta(days=60)).isoformat(),
        "tested_by_contracts": "Repeat Contact",
    }
    response = client_for(pm).post(reverse("assumptions:assumption-create"), data)
    assert response.status_code == 200
    assert "Not a metric contract id" in response.context["form"].errors["tested_by_contracts"][0]
    assert not Assumption.objects.exists()


def test_a_past_expiry_is_refused_on_its_field(client_for, pm, capability, owner):
    data = {
        "capability": capability.slug,
        "statement": "X holds.",
        "type": "value",
        "owner": owner.username,
        "confidence": "low",
        "expires_on": timezone.localdate().isoformat(),
    }
    response = client_for(pm).post(reverse("assumptions:assumption-create"), data)
    assert response.context["form"].errors["expires_on"]
    assert not Assumption.objects.exists()


def test_a_person_cannot_add_to_another_capabilitys_ledger(client_for, pm, other_capability, outsider):
    data = {
        "capability": other_capability.slug,
        "statement": "X holds.",
        "type": "value",
        "owner": outsider.username,
        "confidence": "low",
        "expires_on": (timezone.localdate() + timedelta(days=60)).isoformat(),
    }
    response = client_for(pm).post(reverse("assumptions:assumption-create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["capability"]
    assert not Assumption.objects.exists()


def test_a_viewer_cannot_open_the_create_page(client_for, viewer):
    assert client_for(viewer).get(reverse("assumptions:assumption-create")).status_code == 403


def test_an_edit_changes_the_text_but_never_the_status(client_for, pm, assumption):
    data = form_data(assumption, statement="QA can sample 3% of assisted cases.", status="confirmed")
    response = client_for(pm).post(edit_url(assumption), data)
    assert response.status_code == 302
    assumption.refresh_from_db()
    assert assumption.statement == "QA can sample 3% of assisted cases."
    assert assumption.status == "needs_evidence"
    assert not AssumptionReview.objects.exists()
    assert assumption.history.latest().history_user == pm


def test_the_edit_form_has_no_status_field(client_for, pm, assumption):
    form = client_for(pm).get(edit_url(assumption)).context["form"]
    assert "status" not in form.fields and "new_status" not in form.fields
